// Two-factor sign-in (TOTP): enrolment, proving a code, step-up, recovery
// codes, turning it off, the desk's "require it of everyone" setting, and an
// admin's reset of someone else's second factor.
//
// Stored per user: the secret sealed with the desk's key (bound to the user
// by the envelope's associated data, so it cannot be copied to another row),
// when it was enabled, and argon2id hashes of the unused recovery codes.
// A secret being set up is not stored at all until it is confirmed: the
// browser holds it sealed (with the user, the session and a 15-minute limit)
// between "Set up" and "Confirm", so re-enrolling never replaces a working
// factor with one that was never confirmed.
//
// A code is accepted once. The last time a user proved a factor is the
// newest `secondFactorAt` among their sessions (every proof writes it); a
// TOTP code must belong to a later time step than any code that could have
// been accepted then (RFC 6238 §5.2), and a recovery code is taken out of the
// list. Both checks run under a row lock on the user, in the transaction
// that records what the code proved, so two requests with one code cannot
// both succeed. The lock is FOR NO KEY UPDATE, never FOR UPDATE: an audit
// append holds the audit lock while its foreign key takes KEY SHARE on the
// actor's row, and FOR UPDATE would conflict with that (see audit.ts). Every
// transaction here writes its audit entry last, as audit.ts requires.
import QRCode from "qrcode";
import { Prisma } from "@/server/db/generated/client";
import { open, seal } from "@/server/security/secret-box";
import { ROLE_LABELS, type Role } from "@/server/auth/roles";
import { REQUIRE_TOTP_FOR_ALL_KEY, secondFactorRequirement, totpRequiredForAll, type SecondFactorRequirement } from "@/server/auth/second-factor-policy";
import { notEnrolledMessage, requireRecentSecondFactor, STEP_UP_WINDOW_SECONDS } from "@/server/auth/step-up";
import {
  codeShape,
  formatManualKey,
  hashRecoveryCodes,
  lastStepUsableAt,
  matchingRecoveryHash,
  newRecoveryCodes,
  newTotpSecret,
  recoveryHashesOf,
  RECOVERY_CODE_COUNT,
  totpCodeStep,
  totpUri,
  TOTP_ISSUER,
} from "@/server/auth/totp";
import type { Actor, Db, Desk, Tx } from "./types";
import { audit } from "./audit";
import { Conflict, FieldErrors, Forbidden, NotFound } from "./errors";
import { beginAttempt } from "./sign-in";

/** How long a set-up (QR code shown, not yet confirmed) stays valid. */
export const ENROLMENT_MINUTES = 15;
/** How long an admin's proposal to reset another admin's second factor waits for a second admin. */
export const RESET_PROPOSAL_HOURS = 24;

const RESET_PROPOSAL_PREFIX = "security.secondFactorReset.";

function secretAad(userId: string): string {
  return `totp:${userId}`;
}

function enrolmentAad(userId: string): string {
  return `totp-enrolment:${userId}`;
}

export function sealTotpSecret(key: Buffer, userId: string, secret: string): string {
  return seal(secret, key, secretAad(userId));
}

function openTotpSecret(key: Buffer, userId: string, sealed: string): string | null {
  try {
    return open(sealed, key, secretAad(userId));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// Proving a code

export interface CodeProof {
  kind: "totp" | "recovery";
  at: Date;
  /** Unused recovery codes left after this proof. */
  recoveryCodesLeft: number;
}

export type CodeRefusal = "wrong" | "used" | "not-enrolled";

export type ProveResult<T> = { ok: true; proof: CodeProof; value: T } | { ok: false; why: CodeRefusal };

/** What the code field says when a code is refused. */
export function codeRefusalMessage(why: CodeRefusal): string {
  switch (why) {
    case "wrong":
      return "Code: not right. Enter the current 6-digit code from your authenticator app, or one of your unused recovery codes";
    case "used":
      return "Code: this code has been used already, and each code works once. Wait for the next code in your authenticator app (a new one every 30 seconds), or use a recovery code";
    case "not-enrolled":
      return "Code: two-factor sign-in is not on for this account, so there is no code to give. Set it up under Two-factor sign-in";
  }
}

/**
 * Checks `code` (a TOTP code or a recovery code) against the user's factor
 * and, when it is right and unused, runs `onProved` in the transaction that
 * uses it up. The slow parts (argon2 for recovery codes) run before the
 * transaction; the lock only covers the read-check-write.
 */
export async function proveCode<T>(
  db: Db,
  key: Buffer,
  userId: string,
  code: string,
  now: Date,
  onProved: (tx: Tx, proof: CodeProof) => Promise<T>,
): Promise<ProveResult<T>> {
  const user = await db.user.findUnique({ where: { id: userId }, select: { totpSecret: true, totpEnabledAt: true, totpRecoveryCodes: true } });
  if (!user?.totpEnabledAt || !user.totpSecret) return { ok: false, why: "not-enrolled" };
  const shape = codeShape(code);
  let step: number | null = null;
  let hash: string | null = null;
  if (shape === "totp") {
    const secret = openTotpSecret(key, userId, user.totpSecret);
    step = secret ? await totpCodeStep(secret, code, now) : null;
    if (step === null) return { ok: false, why: "wrong" };
  } else if (shape === "recovery") {
    hash = await matchingRecoveryHash(recoveryHashesOf(user.totpRecoveryCodes), code);
    if (hash === null) return { ok: false, why: "wrong" };
  } else {
    return { ok: false, why: "wrong" };
  }

  return db.$transaction(async (tx): Promise<ProveResult<T>> => {
    await tx.$queryRaw`SELECT id FROM "User" WHERE id = ${userId}::uuid FOR NO KEY UPDATE`;
    const current = await tx.user.findUniqueOrThrow({ where: { id: userId }, select: { totpSecret: true, totpEnabledAt: true, totpRecoveryCodes: true } });
    // Reset or replaced while the code was being checked: it proves nothing now.
    if (!current.totpEnabledAt || current.totpSecret !== user.totpSecret) return { ok: false, why: "wrong" };
    let hashes = recoveryHashesOf(current.totpRecoveryCodes);
    if (step !== null) {
      const last = await tx.userSession.aggregate({ where: { userId }, _max: { secondFactorAt: true } });
      const lastAt = last._max.secondFactorAt;
      if (lastAt && step <= lastStepUsableAt(lastAt)) return { ok: false, why: "used" };
    } else {
      if (!hashes.includes(hash!)) return { ok: false, why: "used" };
      hashes = hashes.filter((h) => h !== hash);
      await tx.user.update({ where: { id: userId }, data: { totpRecoveryCodes: hashes } });
    }
    const proof: CodeProof = { kind: step !== null ? "totp" : "recovery", at: now, recoveryCodesLeft: hashes.length };
    return { ok: true, proof, value: await onProved(tx, proof) };
  });
}

// ---------------------------------------------------------------------------
// What the user's own page shows

export interface SecondFactorStatus {
  enabled: boolean;
  enabledAt: Date | null;
  /** Why this user must have it: their role, the desk's setting, or null (optional for them). */
  requirement: SecondFactorRequirement;
  recoveryCodesLeft: number;
  /** When the one sign-in without a factor was used (set while not enrolled). */
  graceUsedAt: Date | null;
  /** When this session last proved the factor, and until when actions that ask for it will not. */
  provedAt: Date | null;
  freshUntil: Date | null;
}

export async function secondFactorStatus(desk: Desk, actor: Actor, sessionId: string | null | undefined): Promise<SecondFactorStatus> {
  const user = await desk.db.user.findUniqueOrThrow({
    where: { id: actor.id },
    select: { totpEnabledAt: true, totpRecoveryCodes: true, totpGraceUsedAt: true },
  });
  const session = sessionId ? await desk.db.userSession.findFirst({ where: { id: sessionId, userId: actor.id }, select: { secondFactorAt: true } }) : null;
  const provedAt = session?.secondFactorAt ?? null;
  return {
    enabled: user.totpEnabledAt !== null,
    enabledAt: user.totpEnabledAt,
    requirement: await secondFactorRequirement(desk.db, actor.role),
    recoveryCodesLeft: user.totpEnabledAt ? recoveryHashesOf(user.totpRecoveryCodes).length : 0,
    graceUsedAt: user.totpEnabledAt ? null : user.totpGraceUsedAt,
    provedAt,
    freshUntil: provedAt ? new Date(provedAt.getTime() + STEP_UP_WINDOW_SECONDS * 1000) : null,
  };
}

// ---------------------------------------------------------------------------
// Enrolment

export interface EnrolmentStart {
  /** The secret being set up, sealed for this user and session; sent back with the confirming code. */
  enrolment: string;
  /** The secret as typed into an app by hand (groups of four). Shown to its owner only, once. */
  manualKey: string;
  /** The otpauth:// URI as a QR code (an SVG data URL: the page's CSP allows data: images). */
  qrCode: string;
  issuer: string;
  accountLabel: string;
  /** Whether this replaces a factor already on (it stays in force until the new one is confirmed). */
  replacing: boolean;
  expiresAt: Date;
}

interface SealedEnrolment {
  secret: string;
  userId: string;
  sessionId: string | null;
  expiresAt: string;
}

export async function startEnrolment(desk: Desk, actor: Actor, sessionId: string | null | undefined, ip?: string, now = new Date()): Promise<EnrolmentStart> {
  const user = await desk.db.user.findUniqueOrThrow({ where: { id: actor.id }, select: { totpEnabledAt: true } });
  const replacing = user.totpEnabledAt !== null;
  // Moving to a new device replaces the factor: whoever does it must hold the current one.
  if (replacing) await requireRecentSecondFactor({ desk, actor, sessionId, now: () => now });
  const secret = newTotpSecret();
  const expiresAt = new Date(now.getTime() + ENROLMENT_MINUTES * 60_000);
  const sealed: SealedEnrolment = { secret, userId: actor.id, sessionId: sessionId ?? null, expiresAt: expiresAt.toISOString() };
  const uri = totpUri(secret, actor.email);
  const svg = await QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
  await audit(desk.db, {
    actorId: actor.id,
    action: "user.second_factor_enrolment_started",
    entityType: "user",
    entityId: actor.id,
    details: { replacing, expiresAt: expiresAt.toISOString() },
    ip,
  });
  return {
    enrolment: seal(JSON.stringify(sealed), desk.credentialsKey, enrolmentAad(actor.id)),
    manualKey: formatManualKey(secret),
    qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`,
    issuer: TOTP_ISSUER,
    accountLabel: actor.email,
    replacing,
    expiresAt,
  };
}

function openEnrolment(desk: Desk, actor: Actor, sessionId: string | null | undefined, token: string, now: Date): SealedEnrolment {
  const again = "start the set-up again (Set up two-factor sign-in) and scan the new QR code";
  let sealed: SealedEnrolment;
  try {
    sealed = JSON.parse(open(token, desk.credentialsKey, enrolmentAad(actor.id))) as SealedEnrolment;
  } catch {
    throw new FieldErrors({ enrolment: `This set-up is not one this desk started for you: ${again}` });
  }
  if (sealed.userId !== actor.id || sealed.sessionId !== (sessionId ?? null)) throw new FieldErrors({ enrolment: `This set-up was started in another session: ${again}` });
  if (new Date(sealed.expiresAt).getTime() <= now.getTime()) throw new FieldErrors({ enrolment: `This set-up expired after ${ENROLMENT_MINUTES} minutes: ${again}` });
  return sealed;
}

export interface EnrolmentDone {
  /** Shown once: the server keeps only their hashes. */
  recoveryCodes: string[];
  enabledAt: Date;
}

/** Confirms a set-up with a code from the new secret: two-factor is on from here, and the recovery codes are returned once. */
export async function confirmEnrolment(
  desk: Desk,
  actor: Actor,
  sessionId: string | null | undefined,
  input: { enrolment: string; code: string },
  ip?: string,
  now = new Date(),
): Promise<EnrolmentDone> {
  const sealed = openEnrolment(desk, actor, sessionId, input.enrolment, now);
  if (codeShape(input.code) !== "totp") throw new FieldErrors({ code: "Code: enter the 6-digit code your authenticator app shows for this desk" });
  if ((await totpCodeStep(sealed.secret, input.code, now)) === null) {
    throw new FieldErrors({ code: "Code: not the code of the key you are setting up. Check that the app shows this desk's new entry and that the phone's clock is right, then enter the code it shows now" });
  }
  const before = await desk.db.user.findUniqueOrThrow({ where: { id: actor.id }, select: { totpEnabledAt: true } });
  if (before.totpEnabledAt) await requireRecentSecondFactor({ desk, actor, sessionId, now: () => now });
  const recoveryCodes = newRecoveryCodes();
  const hashes = await hashRecoveryCodes(recoveryCodes);
  await desk.db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "User" WHERE id = ${actor.id}::uuid FOR NO KEY UPDATE`;
    await tx.user.update({
      where: { id: actor.id },
      // The grace is spent on enrolling; cleared so that, should two-factor be turned off and later required again, one sign-in to enrol remains.
      data: { totpSecret: sealTotpSecret(desk.credentialsKey, actor.id, sealed.secret), totpEnabledAt: now, totpRecoveryCodes: hashes, totpGraceUsedAt: null },
    });
    // The code just given is a proof in this session (and marks the step used).
    if (sessionId) await tx.userSession.updateMany({ where: { id: sessionId, userId: actor.id, revokedAt: null }, data: { secondFactorAt: now } });
    await audit(tx, {
      actorId: actor.id,
      action: before.totpEnabledAt ? "user.second_factor_replace" : "user.second_factor_enrol",
      entityType: "user",
      entityId: actor.id,
      details: { before: { enabled: before.totpEnabledAt !== null }, after: { enabled: true, recoveryCodes: RECOVERY_CODE_COUNT } },
      ip,
    });
  });
  return { recoveryCodes, enabledAt: now };
}

/** New recovery codes (the old ones stop working); needs a fresh code. */
export async function regenerateRecoveryCodes(desk: Desk, actor: Actor, sessionId: string | null | undefined, ip?: string, now = new Date()): Promise<{ recoveryCodes: string[] }> {
  const user = await desk.db.user.findUniqueOrThrow({ where: { id: actor.id }, select: { totpEnabledAt: true, totpRecoveryCodes: true } });
  if (!user.totpEnabledAt) throw new Conflict("Two-factor sign-in is not on for your account, so it has no recovery codes: set it up first");
  await requireRecentSecondFactor({ desk, actor, sessionId, now: () => now });
  const recoveryCodes = newRecoveryCodes();
  const hashes = await hashRecoveryCodes(recoveryCodes);
  await desk.db.$transaction(async (tx) => {
    await tx.user.update({ where: { id: actor.id }, data: { totpRecoveryCodes: hashes } });
    await audit(tx, {
      actorId: actor.id,
      action: "user.recovery_codes_replace",
      entityType: "user",
      entityId: actor.id,
      details: { before: { recoveryCodesLeft: recoveryHashesOf(user.totpRecoveryCodes).length }, after: { recoveryCodesLeft: RECOVERY_CODE_COUNT } },
      ip,
    });
  });
  return { recoveryCodes };
}

/** Turns two-factor off: only for users whose role and desk do not require it, and with a fresh code. */
export async function disableSecondFactor(desk: Desk, actor: Actor, sessionId: string | null | undefined, ip?: string, now = new Date()): Promise<{ enabled: false }> {
  const user = await desk.db.user.findUniqueOrThrow({ where: { id: actor.id }, select: { totpEnabledAt: true, totpRecoveryCodes: true } });
  if (!user.totpEnabledAt) throw new Conflict("Two-factor sign-in is already off for your account");
  const requirement = await secondFactorRequirement(desk.db, actor.role);
  if (requirement) {
    const who = requirement === "role" ? `${ROLE_LABELS[actor.role].toLowerCase()}s` : "everyone on this desk";
    throw new Forbidden(`Two-factor sign-in is required of ${who}, so it cannot be turned off; to use another phone, choose Move to a new device`, "second-factor.required");
  }
  await requireRecentSecondFactor({ desk, actor, sessionId, now: () => now });
  await desk.db.$transaction(async (tx) => {
    await tx.user.update({ where: { id: actor.id }, data: { totpSecret: null, totpEnabledAt: null, totpRecoveryCodes: Prisma.DbNull } });
    await audit(tx, {
      actorId: actor.id,
      action: "user.second_factor_disable",
      entityType: "user",
      entityId: actor.id,
      details: { before: { enabled: true, enabledAt: user.totpEnabledAt!.toISOString(), recoveryCodesLeft: recoveryHashesOf(user.totpRecoveryCodes).length }, after: { enabled: false } },
      ip,
    });
  });
  return { enabled: false };
}

// ---------------------------------------------------------------------------
// Step-up

export interface StepUpDone {
  provedAt: Date;
  freshUntil: Date;
  usedRecoveryCode: boolean;
  recoveryCodesLeft: number;
}

/**
 * Proves the factor again in this session (after StepUpRequired). Throttled
 * with sign-in: a wrong code is a failure of the (account, address) pair.
 */
export async function stepUp(desk: Desk, actor: Actor, sessionId: string | null | undefined, code: string, ip: string, now = new Date()): Promise<StepUpDone> {
  if (!sessionId) throw new Forbidden("A code proves the factor for a signed-in browser session, and this request has none: sign in again", "step-up.session");
  const user = await desk.db.user.findUniqueOrThrow({ where: { id: actor.id }, select: { totpEnabledAt: true } });
  if (!user.totpEnabledAt) {
    const requirement = await secondFactorRequirement(desk.db, actor.role);
    throw new Forbidden(requirement ? notEnrolledMessage(actor.role, requirement) : codeRefusalMessage("not-enrolled"), "step-up.not-enrolled");
  }
  if (codeShape(code) === "neither") throw new FieldErrors({ code: "Code: enter the 6-digit code from your authenticator app, or a recovery code (ten letters and digits)" });
  const attemptId = await beginAttempt(desk.db, actor.email, ip, now, "code");
  const result = await proveCode(desk.db, desk.credentialsKey, actor.id, code, now, async (tx, proof) => {
    const { count } = await tx.userSession.updateMany({ where: { id: sessionId, userId: actor.id, revokedAt: null }, data: { secondFactorAt: now } });
    if (count === 0) throw new Forbidden("This session has ended: sign in again", "step-up.session");
    await tx.signInAttempt.update({ where: { id: attemptId }, data: { success: true } });
    await audit(tx, {
      actorId: actor.id,
      action: "user.step_up",
      entityType: "user",
      entityId: actor.id,
      details: { sessionId, with: proof.kind, ...(proof.kind === "recovery" ? { recoveryCodesLeft: proof.recoveryCodesLeft } : {}) },
      ip,
    });
  });
  if (!result.ok) {
    await audit(desk.db, { actorId: actor.id, action: "user.second_factor_failed", entityType: "user", entityId: actor.id, details: { during: "step-up", why: result.why }, ip });
    throw new FieldErrors({ code: codeRefusalMessage(result.why) });
  }
  return {
    provedAt: now,
    freshUntil: new Date(now.getTime() + STEP_UP_WINDOW_SECONDS * 1000),
    usedRecoveryCode: result.proof.kind === "recovery",
    recoveryCodesLeft: result.proof.recoveryCodesLeft,
  };
}

// ---------------------------------------------------------------------------
// The desk's setting (Settings → Two-factor sign-in)

export interface SecondFactorPolicy {
  /** Approvers and admins always; everyone else when requireForAll. */
  alwaysRequiredOf: readonly Role[];
  requireForAll: boolean;
  updatedAt: Date | null;
}

export async function secondFactorPolicy(db: Db | Tx): Promise<SecondFactorPolicy> {
  const row = await db.setting.findUnique({ where: { key: REQUIRE_TOTP_FOR_ALL_KEY } });
  return { alwaysRequiredOf: ["approver", "admin"], requireForAll: row?.value === "true", updatedAt: row?.updatedAt ?? null };
}

/** Admins only, with a fresh code: weakening it is a control change like any other. */
export async function setRequireForAll(desk: Desk, actor: Actor, sessionId: string | null | undefined, required: boolean, ip?: string, now = new Date()): Promise<SecondFactorPolicy> {
  if (actor.role !== "admin") throw new Forbidden(`Only admins change who must use two-factor sign-in; you are ${actor.role}`, "settings.role");
  await requireRecentSecondFactor({ desk, actor, sessionId, now: () => now });
  return desk.db.$transaction(async (tx) => {
    const before = await totpRequiredForAll(tx);
    if (before !== required) {
      await tx.setting.upsert({ where: { key: REQUIRE_TOTP_FOR_ALL_KEY }, create: { key: REQUIRE_TOTP_FOR_ALL_KEY, value: String(required) }, update: { value: String(required) } });
      await audit(tx, {
        actorId: actor.id,
        action: "settings.update",
        entityType: "settings",
        entityId: "security",
        details: { changes: { requireTotpForAll: { from: before, to: required } } },
        ip,
      });
    }
    return secondFactorPolicy(tx);
  });
}

// ---------------------------------------------------------------------------
// An admin's reset of someone else's second factor
//
// A reset turns the factor off, forgets the recovery codes, gives back the
// one grace sign-in (so the user can sign in once to enrol again) and ends
// every session of the user at once. Any admin may reset a viewer's, maker's
// or approver's, with a fresh code of their own. Another admin's needs two
// admins, neither of them the one being reset: one proposes, a different one
// approves (each in their own session with their own fresh code), within
// RESET_PROPOSAL_HOURS. The proposal is a Setting row per user, so it holds
// across processes and the approval can take it with a conditional delete.

interface ResetProposal {
  proposedById: string;
  proposedAt: string;
}

function proposalKey(userId: string): string {
  return `${RESET_PROPOSAL_PREFIX}${userId}`;
}

async function readProposal(db: Db | Tx, userId: string, now: Date): Promise<(ResetProposal & { expiresAt: Date; raw: string }) | null> {
  const row = await db.setting.findUnique({ where: { key: proposalKey(userId) } });
  if (!row) return null;
  try {
    const value = JSON.parse(row.value) as ResetProposal;
    const expiresAt = new Date(new Date(value.proposedAt).getTime() + RESET_PROPOSAL_HOURS * 3_600_000);
    if (expiresAt.getTime() <= now.getTime()) return null;
    return { ...value, expiresAt, raw: row.value };
  } catch {
    return null;
  }
}

export interface UserSecondFactor {
  userId: string;
  name: string;
  role: Role;
  enabled: boolean;
  enabledAt: Date | null;
  recoveryCodesLeft: number;
  graceUsedAt: Date | null;
  /** Resetting this user's factor takes two admins (they are an admin). */
  needsSecondAdmin: boolean;
  proposal: { proposedBy: { id: string; name: string }; proposedAt: Date; expiresAt: Date; byYou: boolean } | null;
}

/** For Settings → Users: a user's second factor as an admin sees it (never the secret or the codes). */
export async function userSecondFactor(desk: Desk, actor: Actor, userId: string, now = new Date()): Promise<UserSecondFactor> {
  const user = await desk.db.user.findUnique({
    where: { id: userId },
    select: { id: true, name: true, role: true, totpEnabledAt: true, totpRecoveryCodes: true, totpGraceUsedAt: true },
  });
  if (!user) throw new NotFound("User");
  const proposal = await readProposal(desk.db, userId, now);
  const proposer = proposal ? await desk.db.user.findUnique({ where: { id: proposal.proposedById }, select: { id: true, name: true } }) : null;
  return {
    userId: user.id,
    name: user.name,
    role: user.role,
    enabled: user.totpEnabledAt !== null,
    enabledAt: user.totpEnabledAt,
    recoveryCodesLeft: user.totpEnabledAt ? recoveryHashesOf(user.totpRecoveryCodes).length : 0,
    graceUsedAt: user.totpGraceUsedAt,
    needsSecondAdmin: user.role === "admin",
    proposal:
      proposal && user.role === "admin"
        ? { proposedBy: proposer ?? { id: proposal.proposedById, name: "an admin" }, proposedAt: new Date(proposal.proposedAt), expiresAt: proposal.expiresAt, byYou: proposal.proposedById === actor.id }
        : null,
  };
}

export type ResetOutcome = { outcome: "reset"; sessionsEnded: number } | { outcome: "proposed"; expiresAt: Date };

async function resetTarget(desk: Desk, actor: Actor, userId: string) {
  if (actor.role !== "admin") throw new Forbidden(`Only admins reset a second factor; you are ${actor.role}`, "second-factor.reset.role");
  const target = await desk.db.user.findUnique({ where: { id: userId }, select: { id: true, name: true, role: true, totpEnabledAt: true, totpRecoveryCodes: true } });
  if (!target) throw new NotFound("User");
  if (target.id === actor.id) {
    throw new Forbidden("You cannot reset your own second factor here: on your Two-factor sign-in page, Move to a new device replaces it (another admin can reset it if you have lost it)", "second-factor.reset.self");
  }
  return target;
}

/**
 * Resets a non-admin's second factor at once; for an admin, proposes the
 * reset, which a second admin approves with approveSecondFactorReset.
 */
export async function resetSecondFactor(desk: Desk, actor: Actor, sessionId: string | null | undefined, userId: string, ip?: string, now = new Date()): Promise<ResetOutcome> {
  const target = await resetTarget(desk, actor, userId);
  await requireRecentSecondFactor({ desk, actor, sessionId, now: () => now });
  if (target.role !== "admin") return performReset(desk, actor, target, { resetBy: actor.id }, ip, now);

  return desk.db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "User" WHERE id = ${target.id}::uuid FOR NO KEY UPDATE`;
    const pending = await readProposal(tx, target.id, now);
    if (pending) {
      throw new Conflict(
        pending.proposedById === actor.id
          ? `You proposed this reset already; a second admin must approve it before ${pending.expiresAt.toISOString()}`
          : "Another admin has proposed this reset already: approve it instead",
      );
    }
    const proposal: ResetProposal = { proposedById: actor.id, proposedAt: now.toISOString() };
    const key = proposalKey(target.id);
    await tx.setting.upsert({ where: { key }, create: { key, value: JSON.stringify(proposal) }, update: { value: JSON.stringify(proposal) } });
    const expiresAt = new Date(now.getTime() + RESET_PROPOSAL_HOURS * 3_600_000);
    await audit(tx, {
      actorId: actor.id,
      action: "user.second_factor_reset_propose",
      entityType: "user",
      entityId: target.id,
      details: { target: target.name, role: target.role, expiresAt: expiresAt.toISOString() },
      ip,
    });
    return { outcome: "proposed" as const, expiresAt };
  });
}

/** The second admin's approval of a proposed reset of an admin's second factor. */
export async function approveSecondFactorReset(desk: Desk, actor: Actor, sessionId: string | null | undefined, userId: string, ip?: string, now = new Date()): Promise<ResetOutcome> {
  const target = await resetTarget(desk, actor, userId);
  if (target.role !== "admin") throw new Conflict(`${target.name} is not an admin: their second factor is reset at once, with no approval`);
  const proposal = await readProposal(desk.db, target.id, now);
  if (!proposal) throw new Conflict(`No reset of ${target.name}'s second factor is waiting (proposals lapse after ${RESET_PROPOSAL_HOURS} hours): propose one`);
  if (proposal.proposedById === actor.id) throw new Forbidden("You proposed this reset: a different admin must approve it", "second-factor.reset.same-admin");
  await requireRecentSecondFactor({ desk, actor, sessionId, now: () => now });
  return performReset(desk, actor, target, { proposedBy: proposal.proposedById, approvedBy: actor.id }, ip, now, proposal.raw);
}

/** Withdraws a proposed reset (the proposer, the admin it names, or any other admin). */
export async function cancelSecondFactorReset(desk: Desk, actor: Actor, userId: string, ip?: string, now = new Date()): Promise<{ outcome: "cancelled" }> {
  if (actor.role !== "admin") throw new Forbidden(`Only admins withdraw a reset; you are ${actor.role}`, "second-factor.reset.role");
  const proposal = await readProposal(desk.db, userId, now);
  if (!proposal) throw new Conflict("No reset of this user's second factor is waiting");
  await desk.db.$transaction(async (tx) => {
    const { count } = await tx.setting.deleteMany({ where: { key: proposalKey(userId), value: proposal.raw } });
    if (count === 0) throw new Conflict("This reset was approved or withdrawn meanwhile: reload to see where it stands");
    await audit(tx, {
      actorId: actor.id,
      action: "user.second_factor_reset_cancel",
      entityType: "user",
      entityId: userId,
      details: { proposedBy: proposal.proposedById, proposedAt: proposal.proposedAt },
      ip,
    });
  });
  return { outcome: "cancelled" };
}

async function performReset(
  desk: Desk,
  actor: Actor,
  target: { id: string; name: string; role: Role; totpEnabledAt: Date | null; totpRecoveryCodes: unknown },
  who: Record<string, string>,
  ip: string | undefined,
  now: Date,
  proposalRaw?: string,
): Promise<ResetOutcome> {
  return desk.db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "User" WHERE id = ${target.id}::uuid FOR NO KEY UPDATE`;
    if (proposalRaw !== undefined) {
      // Taken once: two admins approving at the same moment reset once.
      const { count } = await tx.setting.deleteMany({ where: { key: proposalKey(target.id), value: proposalRaw } });
      if (count === 0) throw new Conflict("This reset was approved or withdrawn meanwhile: reload to see where it stands");
    }
    await tx.user.update({
      where: { id: target.id },
      data: { totpSecret: null, totpEnabledAt: null, totpRecoveryCodes: Prisma.DbNull, totpGraceUsedAt: null },
    });
    // Whoever holds a session of this account may be the reason for the reset: every one ends now.
    const { count: sessionsEnded } = await tx.userSession.updateMany({ where: { userId: target.id, revokedAt: null }, data: { revokedAt: now } });
    await audit(tx, {
      actorId: actor.id,
      action: "user.second_factor_reset",
      entityType: "user",
      entityId: target.id,
      details: {
        target: target.name,
        role: target.role,
        ...who,
        before: { enabled: target.totpEnabledAt !== null, recoveryCodesLeft: recoveryHashesOf(target.totpRecoveryCodes).length },
        after: { enabled: false, graceSignIn: true },
        sessionsEnded,
      },
      ip,
    });
    return { outcome: "reset" as const, sessionsEnded };
  });
}
