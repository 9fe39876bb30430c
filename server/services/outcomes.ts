// The "Outcome unknown" work: payouts whose result the desk could not learn
// from the provider, and the two-person resolution of them by hand.
//
// Every rule of it lives here:
// - which payouts are in limbo: `unknown` (sent, answer lost), or flagged for
//   attention while still in flight (see ATTENTION_REASONS in payout-work.ts);
// - "check again now" makes the payout due for a status check at once, at
//   most once per CHECK_AGAIN_EVERY_SECONDS per payout, since each press calls
//   the provider;
// - a resolution is proposed by one approver or admin and applied only when a
//   different one approves it; only then does the status change, through
//   changeStatusInTx, in the same transaction as the decision and its audit.
//
// Why a proposal is tied to the payout's version: a proposal is a judgement on
// what the payout was when it was made ("pawaPay has no record of it, mark it
// failed"). If the payout's status moved since (a callback paid it, a status
// check found it in flight), that judgement is stale, and applying it could
// mark failed a payout the provider is paying. The version is bumped by every
// status change and only by those (payout-status.ts), so "the version is still
// the one proposed on" is exactly "nothing changed the status since". A stale
// proposal is moot: it can no longer be approved, only withdrawn or rejected,
// and a new one may be proposed. Mootness is derived, never written, since it
// can only become true (versions never go back).
import type { Prisma } from "@/server/db/generated/client";
import type { Role } from "@/server/auth/roles";
import { IN_FLIGHT_STATUSES, isFinal, STATUS_LABELS, type PayoutStatus } from "@/server/domain/payout-state";
import type { Actor, Db, Desk, Tx } from "./types";
import { Conflict, FieldErrors, Forbidden, NotFound, TooManyAttempts } from "./errors";
import { audit } from "./audit";
import { changeStatusInTx, type StatusPatch } from "./payout-status";
import { askProviderSoon, ATTENTION_REASONS, type AttentionReason } from "./payout-work";

/** Who may press "check again now" and propose or decide a resolution. */
export const RESOLVER_ROLES: readonly Role[] = ["approver", "admin"];

/** A person may ask the provider about one payout at most this often: each press is a call to the provider. */
export const CHECK_AGAIN_EVERY_SECONDS = 10;

/**
 * Statuses a person may resolve by hand. `submitting` is left out on purpose:
 * a worker is sending it right now (or died doing so, and the desk will turn it
 * `unknown` and ask); deciding over a send in progress is a guess.
 */
export const RESOLVABLE_STATUSES: readonly PayoutStatus[] = ["unknown", "processing", "provider_pending_approval"];

export type ResolutionOutcome = "succeeded" | "failed";

export const OUTCOME_LABELS: Record<ResolutionOutcome, string> = { succeeded: "paid", failed: "failed" };

/** The failure code a payout marked failed by the desk carries, so statements and searches can tell it from a provider's failure. */
export const RESOLVED_BY_DESK = "RESOLVED_BY_DESK";

const LIST_LIMIT = 200;
const NOTE_MAX = 1000;
const REFERENCE_MAX = 200;
const DECISION_NOTE_MAX = 500;

/** The payouts on the work page: the one definition, used by the list and the nav count. */
const IN_LIMBO: Prisma.PayoutWhereInput = {
  OR: [{ status: "unknown" }, { attentionSince: { not: null }, status: { in: [...IN_FLIGHT_STATUSES] } }],
};

interface LimboFacts {
  status: string;
  attentionSince: Date | null;
  attentionReason: string | null;
}

function inLimbo(p: LimboFacts): boolean {
  const status = p.status as PayoutStatus;
  return status === "unknown" || (p.attentionSince !== null && IN_FLIGHT_STATUSES.includes(status));
}

/** Why this payout cannot be resolved by hand now, or null when it can. */
export function notResolvableBecause(p: LimboFacts): string | null {
  const status = p.status as PayoutStatus;
  if (isFinal(status)) return `This payout is already ${STATUS_LABELS[status].toLowerCase()}, a final status; there is nothing to resolve`;
  if (status === "pending_approval" || status === "approved") return "This payout has not been sent to the provider yet; there is no outcome to resolve";
  if (status === "submitting") {
    return "The desk is sending this payout right now; wait until the send is recorded (or the desk marks the outcome unknown and asks the provider)";
  }
  if (status === "unknown") return null;
  if (p.attentionSince === null) {
    return "The provider is still working on this payout and the desk's status checks are on schedule; it can be resolved by hand only when its outcome is unknown or it is flagged for attention";
  }
  return null;
}

function limboReason(p: LimboFacts): string {
  if (p.status === "unknown") return "Outcome unknown";
  const reason = p.attentionReason as AttentionReason | null;
  return (reason && ATTENTION_REASONS[reason]) ?? "Flagged for attention";
}

function resolverRefusal(actor: Actor): string | null {
  return RESOLVER_ROLES.includes(actor.role) ? null : `This needs the approver or admin role; you are ${actor.role}`;
}

function requireResolver(actor: Actor): void {
  const refusal = resolverRefusal(actor);
  if (refusal) throw new Forbidden(refusal, "outcome.role");
}

function utc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

const SOURCE_WORDS: Record<string, string> = {
  user: "a desk user",
  provider_response: "the provider's answer",
  callback: "a provider callback",
  status_query: "a status check",
  system: "the desk",
};

// ---------------------------------------------------------------- reading

/**
 * How many payouts are in limbo (the nav badge, the overview): IN_LIMBO
 * counted in two parts that never overlap, neither reading the payouts in
 * limbo one by one: every `unknown` one from the rollups (kept with each
 * status change, payout-rollups.ts), and the flagged ones in flight under
 * another status through the attentionSince index (a person's short list).
 */
export async function countOutcomeWork(desk: Desk): Promise<number> {
  const others = IN_FLIGHT_STATUSES.filter((s) => s !== "unknown");
  const [[unknown], flagged] = await Promise.all([
    desk.db.$queryRaw<Array<{ n: number }>>`SELECT coalesce(sum(count), 0)::int AS n FROM "PayoutRollup" WHERE status = 'unknown'`,
    desk.db.payout.count({ where: { attentionSince: { not: null }, status: { in: [...others] } } }),
  ]);
  return Number(unknown?.n ?? 0) + flagged;
}

const LIST_SELECT = {
  id: true,
  amountMinor: true,
  currency: true,
  recipientName: true,
  recipientPhone: true,
  recipientAccount: true,
  channel: true,
  description: true,
  status: true,
  providerStatus: true,
  providerReference: true,
  failureMessage: true,
  submittedAt: true,
  createdAt: true,
  attentionSince: true,
  attentionReason: true,
  dueAt: true,
  checkAttempt: true,
  version: true,
  connection: { select: { id: true, name: true, provider: true } },
  providerCalls: {
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: 1,
    select: { operation: true, method: true, httpStatus: true, error: true, latencyMs: true, at: true },
  },
  // When it became unknown (the latest move into unknown; a resend and a second loss counts from the second).
  events: {
    where: { toStatus: "unknown", NOT: { fromStatus: "unknown" } },
    orderBy: { id: "desc" },
    take: 1,
    select: { at: true },
  },
  resolutions: {
    where: { decision: null },
    orderBy: { proposedAt: "desc" },
    include: { proposedBy: { select: { id: true, name: true } }, decidedBy: { select: { id: true, name: true } } },
  },
} satisfies Prisma.PayoutSelect;

type ListedPayout = Prisma.PayoutGetPayload<{ select: typeof LIST_SELECT }>;
type ResolutionRow = ListedPayout["resolutions"][number];

export type ProposalState = "open" | "moot" | "approved" | "rejected" | "withdrawn";

export interface ProposalView {
  id: string;
  outcome: ResolutionOutcome;
  providerReference: string | null;
  note: string;
  proposedBy: { id: string; name: string };
  proposedAt: Date;
  state: ProposalState;
  /** Why it can no longer be approved (state moot). */
  mootBecause: string | null;
  decisionNote: string | null;
  decidedBy: { id: string; name: string } | null;
  decidedAt: Date | null;
  canApprove: boolean;
  /** Why this person cannot approve it, when an open proposal is shown to them. */
  approveBlockedBecause: string | null;
  canReject: boolean;
  canWithdraw: boolean;
}

/** The work page: every payout in limbo, longest first, with what a person needs to act on it. */
export async function listOutcomeWork(desk: Desk, actor: Actor, now = new Date()) {
  const [rows, total] = await Promise.all([
    desk.db.payout.findMany({ where: IN_LIMBO, orderBy: [{ submittedAt: "asc" }, { id: "asc" }], take: LIST_LIMIT, select: LIST_SELECT }),
    countOutcomeWork(desk),
  ]);
  const ids = rows.map((r) => r.id);
  const [checks, versions] = await Promise.all([recentChecks(desk.db, ids, now), proposalVersions(desk.db, rows.flatMap((r) => r.resolutions.map((x) => x.id)))]);
  const items = await Promise.all(
    rows.map(async (payout) => {
      const { providerCalls, events, resolutions, ...rest } = payout;
      const proposals = await Promise.all(resolutions.map((r) => proposalView(desk.db, actor, payout, r, versions.get(r.id))));
      const blocked = notResolvableBecause(payout);
      const open = proposals.find((p) => p.state === "open") ?? null;
      return {
        payout: rest,
        limboSince: limboSince(payout, events[0]?.at),
        limboReason: limboReason(payout),
        lastCall: providerCalls[0] ?? null,
        proposal: open ?? proposals[0] ?? null,
        resolvable: blocked === null,
        notResolvableBecause: blocked,
        canPropose: blocked === null && open === null && resolverRefusal(actor) === null,
        canCheckNow: resolverRefusal(actor) === null,
        checkAgainAfter: checkAgainAfter(checks.get(payout.id)),
      };
    }),
  );
  items.sort((a, b) => a.limboSince.getTime() - b.limboSince.getTime());
  return { items, total, shown: items.length };
}

/** The resolution panel of one payout: its limbo, its proposals (newest first), and what this person may do. */
export async function outcomeForPayout(desk: Desk, actor: Actor, payoutId: string, now = new Date()) {
  const payout = await desk.db.payout.findUnique({
    where: { id: payoutId },
    select: {
      ...LIST_SELECT,
      resolutions: { orderBy: { proposedAt: "desc" }, include: LIST_SELECT.resolutions.include },
    },
  });
  if (!payout) throw new NotFound("Payout");
  const [checks, versions] = await Promise.all([recentChecks(desk.db, [payout.id], now), proposalVersions(desk.db, payout.resolutions.map((r) => r.id))]);
  const proposals = await Promise.all(payout.resolutions.map((r) => proposalView(desk.db, actor, payout, r, versions.get(r.id))));
  const open = proposals.find((p) => p.state === "open") ?? null;
  const blocked = notResolvableBecause(payout);
  const role = resolverRefusal(actor);
  return {
    status: payout.status as PayoutStatus,
    inLimbo: inLimbo(payout),
    limboSince: inLimbo(payout) ? limboSince(payout, payout.events[0]?.at) : null,
    limboReason: inLimbo(payout) ? limboReason(payout) : null,
    providerReference: payout.providerReference,
    lastCall: payout.providerCalls[0] ?? null,
    dueAt: payout.dueAt,
    proposals,
    canPropose: blocked === null && open === null && role === null,
    proposeBlockedBecause: role ?? blocked ?? (open ? "This payout already has an open proposal; approve, reject or withdraw it first" : null),
    canCheckNow: role === null && IN_FLIGHT_STATUSES.includes(payout.status as PayoutStatus),
    checkAgainAfter: checkAgainAfter(checks.get(payout.id)),
  };
}

function limboSince(p: LimboFacts & { submittedAt: Date | null; createdAt: Date }, becameUnknownAt: Date | undefined): Date {
  const candidates = [p.status === "unknown" ? becameUnknownAt : undefined, p.attentionSince ?? undefined].filter((d): d is Date => d instanceof Date);
  if (candidates.length === 0) return p.submittedAt ?? p.createdAt;
  return new Date(Math.min(...candidates.map((d) => d.getTime())));
}

async function proposalView(
  db: Db | Tx,
  actor: Actor,
  payout: { version: number; status: string },
  r: ResolutionRow,
  proposedOnVersion: number | undefined,
): Promise<ProposalView> {
  const moot = r.decision === null ? await mootBecause(db, r.payoutId, payout, proposedOnVersion) : null;
  const state: ProposalState = r.decision === null ? (moot ? "moot" : "open") : (r.decision as ProposalState);
  const undecided = r.decision === null;
  const role = resolverRefusal(actor);
  const approveBlockedBecause =
    state !== "open"
      ? null
      : (role ?? (r.proposedById === actor.id ? "You proposed this; a different approver or admin must approve it" : null));
  return {
    id: r.id,
    outcome: r.outcome as ResolutionOutcome,
    providerReference: r.providerReference,
    note: r.note,
    proposedBy: r.proposedBy,
    proposedAt: r.proposedAt,
    state,
    mootBecause: moot,
    decisionNote: r.decisionNote,
    decidedBy: r.decidedBy,
    decidedAt: r.decidedAt,
    canApprove: state === "open" && approveBlockedBecause === null,
    approveBlockedBecause,
    canReject: undecided && role === null && r.proposedById !== actor.id,
    canWithdraw: undecided && r.proposedById === actor.id,
  };
}

/**
 * Why an undecided proposal can no longer be approved, or null. The version
 * it was made on is kept in its audit entry (written in the same transaction
 * as the proposal); without it, the desk cannot tell, and says so rather than
 * risk applying a stale judgement.
 */
async function mootBecause(
  db: Db | Tx,
  payoutId: string,
  payout: { version: number; status: string },
  proposedOnVersion: number | undefined,
): Promise<string | null> {
  if (proposedOnVersion === undefined) return "The desk has no record of the payout's state when this was proposed; propose again";
  if (proposedOnVersion === payout.version) return null;
  const status = payout.status as PayoutStatus;
  const moved = await db.payoutEvent.findFirst({
    where: { payoutId, toStatus: status, NOT: { fromStatus: status } },
    orderBy: { id: "desc" },
    select: { source: true, at: true },
  });
  const how = moved ? ` (${SOURCE_WORDS[moved.source] ?? moved.source}, ${utc(moved.at)})` : "";
  const next = isFinal(status) ? "" : "; propose again with what the provider says now";
  return `The payout became ${STATUS_LABELS[status].toLowerCase()}${how} after this was proposed, so this proposal is moot${next}`;
}

/** The payout version each proposal was made on, from the proposals' audit entries. */
async function proposalVersions(db: Db | Tx, resolutionIds: string[]): Promise<Map<string, number>> {
  if (resolutionIds.length === 0) return new Map();
  const entries = await db.auditLog.findMany({
    where: { action: "outcome.propose", OR: resolutionIds.map((id) => ({ details: { path: ["resolutionId"], equals: id } })) },
    select: { details: true },
  });
  const versions = new Map<string, number>();
  for (const entry of entries) {
    const details = entry.details as { resolutionId?: unknown; payoutVersion?: unknown } | null;
    if (typeof details?.resolutionId === "string" && typeof details.payoutVersion === "number") versions.set(details.resolutionId, details.payoutVersion);
  }
  return versions;
}

/** The last "check again now" of each payout within the throttle window (the audit entries are the record). */
async function recentChecks(db: Db | Tx, payoutIds: string[], now: Date): Promise<Map<string, Date>> {
  if (payoutIds.length === 0) return new Map();
  const rows = await db.auditLog.findMany({
    where: {
      action: "outcome.check_now",
      entityType: "payout",
      entityId: { in: payoutIds },
      at: { gt: new Date(now.getTime() - CHECK_AGAIN_EVERY_SECONDS * 1000) },
    },
    orderBy: { at: "desc" },
    select: { entityId: true, at: true },
  });
  const last = new Map<string, Date>();
  for (const row of rows) if (row.entityId && !last.has(row.entityId)) last.set(row.entityId, row.at);
  return last;
}

function checkAgainAfter(lastCheck: Date | undefined): Date | null {
  return lastCheck ? new Date(lastCheck.getTime() + CHECK_AGAIN_EVERY_SECONDS * 1000) : null;
}

// ---------------------------------------------------------------- acting

/**
 * Locks the payout row for the rest of the transaction. Every rule below
 * reads the payout and then writes on that reading (one open proposal, the
 * version a proposal is decided on, the throttle); with the row locked, a
 * second person's click, a callback or a status check waits for us instead of
 * slipping in between the reading and the writing. Status changes update the
 * row, so they take the same lock.
 */
async function lockPayout(tx: Tx, payoutId: string) {
  await tx.$queryRaw`SELECT id FROM "Payout" WHERE id = ${payoutId}::uuid FOR UPDATE`;
  const payout = await tx.payout.findUnique({
    where: { id: payoutId },
    select: { id: true, status: true, version: true, attentionSince: true, attentionReason: true, leaseOwner: true, leaseUntil: true, providerReference: true },
  });
  if (!payout) throw new NotFound("Payout");
  return payout;
}

/** "Check again now": the provider is asked at once by the next free worker. Throttled per payout and audited. */
export async function checkAgainNow(desk: Desk, actor: Actor, payoutId: string, ip?: string, now = new Date()) {
  requireResolver(actor);
  const dueAt = await desk.db.$transaction(async (tx) => {
    const payout = await lockPayout(tx, payoutId);
    const last = (await recentChecks(tx, [payoutId], now)).get(payoutId);
    if (last) {
      const wait = Math.max(1, Math.ceil((last.getTime() + CHECK_AGAIN_EVERY_SECONDS * 1000 - now.getTime()) / 1000));
      throw new TooManyAttempts(
        `The provider was asked about this payout at ${utc(last)}; ask again in ${wait} s (once every ${CHECK_AGAIN_EVERY_SECONDS} s per payout)`,
      );
    }
    if (!(await askProviderSoon(tx, payoutId))) {
      const status = payout.status as PayoutStatus;
      throw new Conflict(`This payout is ${STATUS_LABELS[status].toLowerCase()}; the desk only asks the provider about payouts in flight`);
    }
    await audit(tx, { actorId: actor.id, action: "outcome.check_now", entityType: "payout", entityId: payoutId, details: { status: payout.status }, ip });
    return (await tx.payout.findUniqueOrThrow({ where: { id: payoutId }, select: { dueAt: true } })).dueAt;
  });
  // The due time is committed; this only spares the workers their next poll.
  desk.jobs.wake();
  return { dueAt };
}

export interface ProposeInput {
  payoutId: string;
  outcome: ResolutionOutcome;
  providerReference?: string | null;
  note: string;
  /** For "failed": the person confirms the provider said it failed and will not pay it. */
  confirmedWithProvider?: boolean | null;
}

export async function proposeResolution(desk: Desk, actor: Actor, input: ProposeInput, ip?: string) {
  requireResolver(actor);
  const note = input.note?.trim() ?? "";
  const providerReference = input.providerReference?.trim() || null;
  const errors: Record<string, string> = {};
  if (input.outcome !== "succeeded" && input.outcome !== "failed") errors.outcome = "Choose “mark paid” or “mark failed”";
  if (!note) errors.note = "Write how you know the outcome: who at the provider confirmed it, or where you saw it";
  else if (note.length > NOTE_MAX) errors.note = `${NOTE_MAX.toLocaleString("en")} characters at most; this has ${note.length.toLocaleString("en")}`;
  if (input.outcome === "succeeded" && !providerReference) {
    errors.providerReference = "The provider's reference is required to mark a payout paid: it is the proof that the provider paid it";
  }
  if (providerReference && providerReference.length > REFERENCE_MAX) {
    errors.providerReference = `${REFERENCE_MAX} characters at most; this has ${providerReference.length.toLocaleString("en")}`;
  }
  if (input.outcome === "failed" && input.confirmedWithProvider !== true) {
    errors.confirmedWithProvider =
      "Confirm that the provider told you this payout failed and will not pay it: a payout marked failed that the provider still pays may be paid twice";
  }
  if (Object.keys(errors).length > 0) throw new FieldErrors(errors);

  return desk.db.$transaction(async (tx) => {
    const payout = await lockPayout(tx, input.payoutId);
    const blocked = notResolvableBecause(payout);
    if (blocked) throw new Conflict(blocked);
    const undecided = await tx.outcomeResolution.findMany({
      where: { payoutId: payout.id, decision: null },
      include: { proposedBy: { select: { name: true } } },
    });
    const versions = await proposalVersions(tx, undecided.map((r) => r.id));
    for (const r of undecided) {
      // A moot proposal does not count as open: it can never be approved, and the payout needs a fresh judgement.
      if ((await mootBecause(tx, payout.id, payout, versions.get(r.id))) === null) {
        throw new Conflict(
          `This payout already has an open proposal (mark ${OUTCOME_LABELS[r.outcome as ResolutionOutcome]}, by ${r.proposedBy.name} at ${utc(r.proposedAt)}); approve, reject or withdraw it first`,
        );
      }
    }
    const resolution = await tx.outcomeResolution.create({
      data: { payoutId: payout.id, outcome: input.outcome, providerReference, note, proposedById: actor.id },
    });
    await audit(tx, {
      actorId: actor.id,
      action: "outcome.propose",
      entityType: "payout",
      entityId: payout.id,
      // payoutVersion ties the proposal to the payout as it was (see the top of this file).
      details: { resolutionId: resolution.id, outcome: input.outcome, providerReference, note, payoutStatus: payout.status, payoutVersion: payout.version },
      ip,
    });
    return { id: resolution.id, outcome: resolution.outcome as ResolutionOutcome };
  });
}

export interface DecideInput {
  resolutionId: string;
  note?: string | null;
}

/** Loads an undecided proposal and locks its payout; refuses one already decided, naming who decided it. */
async function openProposal(tx: Tx, resolutionId: string) {
  const found = await tx.outcomeResolution.findUnique({ where: { id: resolutionId }, select: { payoutId: true } });
  if (!found) throw new NotFound("Proposal");
  const payout = await lockPayout(tx, found.payoutId);
  // Read again under the lock: a second person may have decided it while we waited.
  const resolution = await tx.outcomeResolution.findUniqueOrThrow({
    where: { id: resolutionId },
    include: { proposedBy: { select: { id: true, name: true } }, decidedBy: { select: { name: true } } },
  });
  if (resolution.decision !== null) {
    const who = resolution.decidedBy ? ` by ${resolution.decidedBy.name}` : "";
    const at = resolution.decidedAt ? ` at ${utc(resolution.decidedAt)}` : "";
    throw new Conflict(`This proposal was already ${resolution.decision}${who}${at}`);
  }
  return { payout, resolution };
}

async function closeProposal(tx: Tx, actor: Actor, resolutionId: string, decision: "approved" | "rejected" | "withdrawn", note: string | null) {
  const closed = await tx.outcomeResolution.updateMany({
    where: { id: resolutionId, decision: null },
    data: { decision, decisionNote: note, decidedById: actor.id, decidedAt: new Date() },
  });
  // The payout row lock makes this unreachable; if it ever is, nothing must be half-applied.
  if (closed.count !== 1) throw new Conflict("This proposal was decided by someone else meanwhile; reload to see it");
}

/**
 * A second approver or admin agrees: the payout's status changes now, with
 * the decision and the audit entries, in one transaction.
 */
export async function approveResolution(desk: Desk, actor: Actor, input: DecideInput, ip?: string) {
  requireResolver(actor);
  const note = decisionNote(input.note);
  return desk.db.$transaction(async (tx) => {
    const { payout, resolution } = await openProposal(tx, input.resolutionId);
    if (resolution.proposedById === actor.id) {
      throw new Forbidden("You proposed this resolution; a different approver or admin must approve it", "outcome.own_proposal");
    }
    const versions = await proposalVersions(tx, [resolution.id]);
    const moot = await mootBecause(tx, payout.id, payout, versions.get(resolution.id));
    if (moot) throw new Conflict(`${moot}. Nothing was changed`);
    const blocked = notResolvableBecause(payout);
    if (blocked) throw new Conflict(blocked);
    if (payout.leaseOwner && payout.leaseUntil && payout.leaseUntil > new Date()) {
      // A worker is asking the provider right now; its answer may settle the payout. Decide on that answer, not before it.
      throw new Conflict("The desk is asking the provider about this payout right now; wait a few seconds for the answer, then decide");
    }

    const outcome = resolution.outcome as ResolutionOutcome;
    const reference = resolution.providerReference;
    const patch: StatusPatch =
      outcome === "failed"
        ? {
            ...(reference ? { providerReference: reference } : {}),
            failureCode: RESOLVED_BY_DESK,
            failureMessage: `Marked failed by the desk: ${resolution.note}`.slice(0, 500),
          }
        : // A paid payout carries no failure code: the status, the event and the resolution record say the desk resolved it.
          { providerReference: reference, failureCode: null, failureMessage: null };
    const changed = await changeStatusInTx(tx, {
      payoutId: payout.id,
      to: outcome,
      from: RESOLVABLE_STATUSES,
      source: "user",
      actorId: actor.id,
      note:
        `Resolved by the desk as ${OUTCOME_LABELS[outcome]}${reference ? ` (provider reference ${reference})` : ""}: ` +
        `proposed by ${resolution.proposedBy.name}, approved by ${actor.name}. ${resolution.note}`,
      patch,
    });
    if (!changed.changed) throw new Conflict(`This payout is ${changed.current}; ${changed.reason}. Nothing was changed`);
    await closeProposal(tx, actor, resolution.id, "approved", note);
    await audit(tx, {
      actorId: actor.id,
      action: "outcome.approve",
      entityType: "payout",
      entityId: payout.id,
      details: { resolutionId: resolution.id, outcome, providerReference: reference, from: changed.from, to: changed.to, proposedById: resolution.proposedById, note },
      ip,
    });
    return { status: changed.to };
  });
}

/** A second approver or admin disagrees: the proposal closes, the payout stays as it is. */
export async function rejectResolution(desk: Desk, actor: Actor, input: DecideInput, ip?: string) {
  requireResolver(actor);
  const note = decisionNote(input.note);
  if (!note) throw new FieldErrors({ note: "Say why you reject this proposal; the proposer will see it" });
  return desk.db.$transaction(async (tx) => {
    const { payout, resolution } = await openProposal(tx, input.resolutionId);
    if (resolution.proposedById === actor.id) {
      throw new Forbidden("You proposed this resolution; withdraw it instead of rejecting it", "outcome.own_proposal");
    }
    await closeProposal(tx, actor, resolution.id, "rejected", note);
    await audit(tx, { actorId: actor.id, action: "outcome.reject", entityType: "payout", entityId: payout.id, details: { resolutionId: resolution.id, note }, ip });
    return { decision: "rejected" as const };
  });
}

/** The proposer takes their proposal back (also how a moot one is tidied away). */
export async function withdrawResolution(desk: Desk, actor: Actor, input: DecideInput, ip?: string) {
  requireResolver(actor);
  const note = decisionNote(input.note);
  return desk.db.$transaction(async (tx) => {
    const { payout, resolution } = await openProposal(tx, input.resolutionId);
    if (resolution.proposedById !== actor.id) {
      throw new Forbidden(`Only ${resolution.proposedBy.name}, who proposed it, can withdraw it; you can reject it instead`, "outcome.not_proposer");
    }
    await closeProposal(tx, actor, resolution.id, "withdrawn", note);
    await audit(tx, { actorId: actor.id, action: "outcome.withdraw", entityType: "payout", entityId: payout.id, details: { resolutionId: resolution.id, note }, ip });
    return { decision: "withdrawn" as const };
  });
}

function decisionNote(raw: string | null | undefined): string | null {
  const note = raw?.trim() || null;
  if (note && note.length > DECISION_NOTE_MAX) {
    throw new FieldErrors({ note: `${DECISION_NOTE_MAX} characters at most; this has ${note.length.toLocaleString("en")}` });
  }
  return note;
}
