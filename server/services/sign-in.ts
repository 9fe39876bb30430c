// Credential sign-in with throttling that cannot be turned against the
// account's owner. Failures are counted per (account, client address) pair:
// after a few, that pair must wait before its next try, the wait doubling with
// each further failure. Someone guessing at the approver's password from their
// own machine slows only themselves; the approver signing in from theirs is
// never refused because of it. A ceiling per client address stops one client
// spraying many accounts. Attempts live in the database so the limits hold
// across processes and restarts.
//
// The second factor (see second-factor.ts) is part of the same attempt:
// - The password is checked first. A wrong one is a failure, as before; the
//   answer never says more than "wrong email or password".
// - A right password for an account with two-factor on and no code given
//   answers SecondFactorNeeded (the form then asks for the code and sends
//   email, password and code together). That attempt counts neither way: it
//   is not a guess, and counting it as a success would let someone who has
//   the password clear the count between code guesses.
// - A wrong code is a failure of the pair, so code guessing is throttled
//   exactly like password guessing. A right one opens the session with the
//   factor's time on it, in the transaction that uses the code up.
// - An account that must have two-factor (approvers, admins, or everyone when
//   the desk requires it) and has not set it up gets one sign-in of grace,
//   recorded in totpGraceUsedAt, and lands on the enrolment page; the next
//   sign-in without a factor is refused (EnrolmentOverdue) until an admin
//   resets the account's second factor.
import type { Db, Tx } from "./types";
import { dummyVerify, verifyPassword } from "@/server/auth/password";
import { isRole, type Role } from "@/server/auth/roles";
import { secondFactorRequirement, type SecondFactorRequirement } from "@/server/auth/second-factor-policy";
import { startSession, type SessionPolicy } from "@/server/auth/user-sessions";
import { audit } from "./audit";
import { TooManyAttempts } from "./errors";
import { codeRefusalMessage, proveCode } from "./second-factor";

export const SIGN_IN_LIMITS = {
  /** Failures a pair may have before its attempts are spaced out. */
  freeFailures: 3,
  /** The first wait; each further failure doubles it. */
  firstDelaySeconds: 1,
  /** The longest wait between two attempts of one pair. */
  maxDelaySeconds: 15 * 60,
  /**
   * How long a pair's failures count (a success from the pair clears them).
   * Long enough that at the longest wait the count never falls back under the
   * cap: 24 h at one try per 15 min is 96 tries, far above the ~13 that reach it.
   */
  pairMemoryHours: 24,
  /** Failures one client address may have across all accounts in the window below. */
  perIpFailures: 30,
  perIpWindowMinutes: 15,
};

export interface SignedInUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  /** The UserSession this sign-in opened. */
  sessionId: string;
  /** What proved the second factor: a TOTP code, a recovery code, the one grace sign-in, or nothing (not required, not set up). */
  secondFactor: "totp" | "recovery" | "grace" | "none";
}

export interface SignInOptions {
  /** The clock (tests move it instead of sleeping). */
  now?: () => Date;
  /** The second-factor code typed with the password (a TOTP code or a recovery code), if any. */
  code?: string;
  /** The desk's key for the sealed TOTP secrets; needed to check a code. */
  credentialsKey?: Buffer;
  /** What the session row records about the browser, and its limits. */
  userAgent?: string | null;
  policy?: SessionPolicy;
}

/** The password was right and the account has two-factor on: the form must ask for the code. */
export class SecondFactorNeeded extends Error {
  constructor() {
    super("Enter the code from your authenticator app to finish signing in");
    this.name = "SecondFactorNeeded";
  }
}

/** The password was right, the code was not (or was used already). Counted as a failure. */
export class SecondFactorRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecondFactorRefused";
  }
}

/** The account must have two-factor, has not set it up, and has had its one sign-in of grace. */
export class EnrolmentOverdue extends Error {
  constructor(role: Role, requirement: Exclude<SecondFactorRequirement, null>) {
    const who = requirement === "role" ? `${role}s` : "everyone on this desk";
    super(
      `Two-factor sign-in is required of ${who}, and the one sign-in allowed to set it up has been used without setting it up. Ask an admin to reset your second factor (Settings → Users): that allows one more sign-in, which opens the set-up page.`,
    );
    this.name = "EnrolmentOverdue";
  }
}

/** A sign-in (or a step-up code) refused before anything was checked; says how long to wait. */
export class SignInThrottled extends TooManyAttempts {
  constructor(
    readonly retryAfterSeconds: number,
    readonly scope: "account-and-address" | "address",
    subject: "sign-in" | "code" = "sign-in",
  ) {
    super(
      scope === "address"
        ? `Too many failed sign-in attempts from your network address (at most ${SIGN_IN_LIMITS.perIpFailures} in ${SIGN_IN_LIMITS.perIpWindowMinutes} minutes). Wait ${waitInWords(retryAfterSeconds)} and try again.`
        : subject === "code"
          ? `Code: too many wrong codes or passwords for this account from your network address. Wait ${waitInWords(retryAfterSeconds)} and try again; each further wrong one doubles the wait, up to ${waitInWords(SIGN_IN_LIMITS.maxDelaySeconds)}.`
          : `Too many failed sign-in attempts for this account from your network address. Wait ${waitInWords(retryAfterSeconds)} and try again; each further wrong password doubles the wait, up to ${waitInWords(SIGN_IN_LIMITS.maxDelaySeconds)}.`,
    );
    this.name = "SignInThrottled";
  }
}

/** The wait a pair owes after `failures` failures in a row (0 while under the free allowance). */
export function pairDelaySeconds(failures: number): number {
  const over = failures - SIGN_IN_LIMITS.freeFailures;
  if (over < 0) return 0;
  // Exponent capped before Math.pow so a huge count cannot overflow to Infinity.
  return Math.min(SIGN_IN_LIMITS.firstDelaySeconds * 2 ** Math.min(over, 30), SIGN_IN_LIMITS.maxDelaySeconds);
}

/** "1 second", "45 seconds", "1 minute", "15 minutes": rounded up, so waiting that long is always enough. */
export function waitInWords(seconds: number): string {
  const whole = Math.max(1, Math.ceil(seconds));
  if (whole < 60) return whole === 1 ? "1 second" : `${whole} seconds`;
  const minutes = Math.ceil(whole / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

/**
 * Returns the signed-in user with the session it opened, null for a wrong
 * email or password, or throws: SignInThrottled (a TooManyAttempts),
 * SecondFactorNeeded, SecondFactorRefused, EnrolmentOverdue.
 */
export async function signIn(db: Db, emailInput: string, password: string, ip: string, options: SignInOptions = {}): Promise<SignedInUser | null> {
  const now = options.now?.() ?? new Date();
  const email = emailInput.trim().toLowerCase();
  const attemptId = await beginAttempt(db, email, ip, now);

  const user = await db.user.findUnique({ where: { email } });
  const ok = user && !user.disabled ? await verifyPassword(user.passwordHash, password) : await dummyVerify(password).then(() => false);
  if (!ok || !user || !isRole(user.role)) {
    // Audited too. No actor: nobody proved who they are; the account tried (when it exists) is the object.
    await audit(db, {
      action: "user.sign_in_failed",
      entityType: "user",
      entityId: user?.id ?? null,
      details: { email: email.slice(0, 254), reason: !user ? "unknown email" : user.disabled ? "account disabled" : "wrong password" },
      ip,
    });
    return null;
  }
  const role = user.role;
  const session = (tx: Tx, secondFactorAt: Date | null) =>
    startSession(tx, user.id, { ip, userAgent: options.userAgent }, { now: () => now, policy: options.policy, secondFactorAt });
  const signedIn = (sessionId: string, secondFactor: SignedInUser["secondFactor"]): SignedInUser => ({
    id: user.id,
    email: user.email,
    name: user.name,
    role,
    sessionId,
    secondFactor,
  });

  if (user.totpEnabledAt) {
    const code = options.code?.trim() ?? "";
    if (!code) {
      await db.signInAttempt.delete({ where: { id: attemptId } });
      throw new SecondFactorNeeded();
    }
    if (!options.credentialsKey) throw new Error("signIn needs the desk's credentials key to check a second-factor code");
    const proved = await proveCode(db, options.credentialsKey, user.id, code, now, async (tx, proof) => {
      const { id } = await session(tx, now);
      await tx.signInAttempt.update({ where: { id: attemptId }, data: { success: true } });
      await audit(tx, {
        actorId: user.id,
        action: "user.sign_in",
        entityType: "user",
        entityId: user.id,
        details: { sessionId: id, secondFactor: proof.kind, ...(proof.kind === "recovery" ? { recoveryCodesLeft: proof.recoveryCodesLeft } : {}) },
        ip,
      });
      return id;
    });
    if (!proved.ok) {
      // A failed sign-in like a wrong password (no actor: the sign-in did not prove who this is), saying it was the code.
      await audit(db, {
        action: "user.sign_in_failed",
        entityType: "user",
        entityId: user.id,
        details: { email: email.slice(0, 254), reason: proved.why === "used" ? "second-factor code used already" : "wrong second-factor code" },
        ip,
      });
      throw new SecondFactorRefused(codeRefusalMessage(proved.why));
    }
    return signedIn(proved.value, proved.proof.kind);
  }

  const requirement = await secondFactorRequirement(db, role);
  if (requirement) {
    // The grace is taken with a conditional write, so two sign-ins at once cannot both have it.
    const sessionId = await db.$transaction(async (tx) => {
      const { count } = await tx.user.updateMany({ where: { id: user.id, totpGraceUsedAt: null, totpEnabledAt: null }, data: { totpGraceUsedAt: now } });
      if (count === 0) return null;
      const { id } = await session(tx, null);
      await tx.signInAttempt.update({ where: { id: attemptId }, data: { success: true } });
      await audit(tx, { actorId: user.id, action: "user.sign_in", entityType: "user", entityId: user.id, details: { sessionId: id, secondFactor: "grace", requiredBy: requirement }, ip });
      return id;
    });
    if (!sessionId) {
      // Not a guess (the password was right): neither a failure nor a success.
      await db.signInAttempt.delete({ where: { id: attemptId } });
      throw new EnrolmentOverdue(role, requirement);
    }
    return signedIn(sessionId, "grace");
  }

  const sessionId = await db.$transaction(async (tx) => {
    const { id } = await session(tx, null);
    await tx.signInAttempt.update({ where: { id: attemptId }, data: { success: true } });
    await audit(tx, { actorId: user.id, action: "user.sign_in", entityType: "user", entityId: user.id, details: { sessionId: id }, ip });
    return id;
  });
  return signedIn(sessionId, "none");
}

/**
 * Checks the limits and records an attempt (as failed until something proves
 * it right) in one step under a lock per client address, so parallel
 * requests from one client cannot all slip through the same open slot.
 * Sign-in and the step-up code share it: a wrong step-up code is a failure
 * of the same (account, address) pair. Returns the attempt's id; the caller
 * marks it a success (or deletes it when it was not a guess at all).
 */
export async function beginAttempt(db: Db, email: string, ip: string, now: Date, subject: "sign-in" | "code" = "sign-in"): Promise<bigint> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SIGN_IN_LOCK_CLASS}::int4, hashtext(${ip}))`;
    await enforceLimits(tx, email, ip, now, subject);
    const attempt = await tx.signInAttempt.create({ data: { email, ip, success: false, at: now }, select: { id: true } });
    return attempt.id;
  });
}

// Two-key advisory locks live apart from the one-key ones (the migration lock);
// the first key names this use ("sign" in ASCII).
const SIGN_IN_LOCK_CLASS = 0x7369676e;

async function enforceLimits(tx: Tx, email: string, ip: string, now: Date, subject: "sign-in" | "code"): Promise<void> {
  // "After the last success" by row id, not time: a failure in the same
  // millisecond as the success must still count.
  const lastSuccess = await tx.signInAttempt.findFirst({
    where: { email, ip, success: true },
    orderBy: { id: "desc" },
    select: { id: true },
  });
  const memoryStart = new Date(now.getTime() - SIGN_IN_LIMITS.pairMemoryHours * 3_600_000);
  const pairFailures = { email, ip, success: false, at: { gt: memoryStart }, ...(lastSuccess ? { id: { gt: lastSuccess.id } } : {}) };
  const failures = await tx.signInAttempt.count({ where: pairFailures });
  const delay = pairDelaySeconds(failures);
  if (delay > 0) {
    const last = await tx.signInAttempt.findFirst({ where: pairFailures, orderBy: { id: "desc" }, select: { at: true } });
    const waitMs = last!.at.getTime() + delay * 1000 - now.getTime();
    if (waitMs > 0) throw new SignInThrottled(waitMs / 1000, "account-and-address", subject);
  }

  const windowMs = SIGN_IN_LIMITS.perIpWindowMinutes * 60_000;
  // The oldest failure among the address's latest `perIpFailures`: when it
  // leaves the window, the address is under the ceiling again.
  const oldestCounted = await tx.signInAttempt.findFirst({
    where: { ip, success: false, at: { gt: new Date(now.getTime() - windowMs) } },
    orderBy: { at: "desc" },
    skip: SIGN_IN_LIMITS.perIpFailures - 1,
    select: { at: true },
  });
  if (oldestCounted) {
    const waitMs = oldestCounted.at.getTime() + windowMs - now.getTime();
    if (waitMs > 0) throw new SignInThrottled(waitMs / 1000, "address", subject);
  }
}
