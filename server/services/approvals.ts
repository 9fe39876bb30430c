// Maker-checker decisions under the approval policy. Enforced here, on the
// server: each payout is judged under the policy version it was created with
// (the rule it matches, the levels that rule asks for, who has approved at
// which level in this round), so the maker never approves their own payout,
// nobody counts twice, and one person approves at one level only, whatever
// the browser shows or sends. The approver also sees, and must acknowledge,
// what the money says: past the connection's available balance, or a likely
// duplicate of another payout.
import type { Prisma } from "@/server/db/generated/client";
import {
  approvalEligibility,
  approvalStanding,
  describeLevels,
  matchRule,
  overBalance,
  rejectionRefusal,
  type Liquidity,
  type PolicyPerson,
  type RefusalRule,
  type Standing,
} from "@/server/domain/approval-policy";
import { formatMoney } from "@/server/domain/money";
import { payloadHash, payoutPayload } from "@/server/domain/payout-payload";
import type { Actor, Db, Desk, Tx } from "./types";
import { Conflict, FieldErrors, Forbidden, NotFound } from "./errors";
import { audit, auditMany } from "./audit";
import { changeStatusInTx, changeStatusManyInTx } from "./payout-status";
import { ensurePolicySeeded, policyNames, policyVersions } from "./approval-policy";
import { positionKey, positions } from "./approval-checks";
import { duplicateWindowHours, findLikelyDuplicatesOfStored, type LikelyDuplicate } from "./duplicates";
import { limitsProblem, limitsProblems } from "./payout-limits";

/** A payout whose window ends within this many hours is shown as expiring soon. */
export const EXPIRES_SOON_HOURS = 24;

/** At most this many payouts in one batch decision (one transaction). */
export const MAX_BATCH_DECISION = 500;

/** What the approver acknowledges: approving past the available balance, and the likely duplicates they saw (by id). */
export interface Acknowledgement {
  overBalance?: boolean;
  duplicates?: readonly string[];
}

export interface DecisionInput {
  payoutId: string;
  decision: "approved" | "rejected";
  reason?: string | null;
  acknowledge?: Acknowledgement;
}

export const DECISION_INCLUDE = {
  connection: { select: { name: true } },
  createdBy: { select: { id: true, name: true } },
  approvals: {
    where: { voidedAt: null },
    orderBy: [{ at: "asc" }, { id: "asc" }],
    select: { approverId: true, decision: true, round: true, level: true, at: true, acknowledged: true, approver: { select: { name: true } } },
  },
} satisfies Prisma.PayoutInclude;

export type DecisionPayout = Prisma.PayoutGetPayload<{ include: typeof DECISION_INCLUDE }>;

export type ApproveVerdict =
  | { ok: true; level: number; /** This approval completes the last level: the payout becomes approved. */ completes: boolean }
  | { ok: false; rule: RefusalRule | "approval.expired" | "approval.over_balance_forbidden"; message: string };

/** Everything a decision on one payout depends on, for one person: the same for the card, the queue, the batch and the server's check. */
export interface Assessment {
  payoutId: string;
  policyVersion: number;
  rule: { index: number | null; name: string; levels: string; allowOverBalance: boolean };
  standing: Standing;
  /** People counted so far, by id (names for the words). */
  approverNames: Record<string, string>;
  approve: ApproveVerdict;
  rejectBlockedBecause: string | null;
  rejectRule: RefusalRule | "approval.expired" | null;
  expiresAt: Date | null;
  expiresSoon: boolean;
  liquidity: Liquidity & { currency: string; connectionName: string };
  duplicates: LikelyDuplicate[];
  /** Acknowledgements an approval of this payout needs now. */
  needs: { overBalance: boolean; duplicates: string[] };
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkIds(ids: readonly string[], field: string): string[] {
  const bad = ids.find((id) => !ID.test(id));
  if (bad !== undefined) throw new FieldErrors({ [field]: `Must be a payout id (a UUID such as 3f2b8c1e-…), not "${bad.slice(0, 40)}"` });
  return ids.map((id) => id.toLowerCase());
}

async function personOf(db: Db | Tx, actor: Actor): Promise<PolicyPerson> {
  const groups = await db.userGroup.findMany({ where: { userId: actor.id }, select: { groupId: true } });
  return { id: actor.id, role: actor.role, groupIds: groups.map((g) => g.groupId) };
}

/**
 * Judges payouts for one person. `cumulative`: the payouts are one batch, in
 * this order, so each one's "remaining after" counts the ones before it that
 * this batch would approve (a batch cannot pass the balance in small steps).
 */
export async function assess(
  db: Db | Tx,
  actor: Actor,
  payouts: readonly DecisionPayout[],
  opts: { cumulative: boolean; now?: Date },
): Promise<Map<string, Assessment>> {
  const now = opts.now ?? new Date();
  const out = new Map<string, Assessment>();
  if (payouts.length === 0) return out;
  const [versions, names, person, money, windowHours] = await Promise.all([
    policyVersions(db, payouts.map((p) => p.policyVersion)),
    policyNames(db),
    personOf(db, actor),
    positions(db, payouts.map((p) => ({ connectionId: p.connectionId, currency: p.currency }))),
    duplicateWindowHours(db),
  ]);
  const duplicates = await findLikelyDuplicatesOfStored(db, payouts, windowHours);
  const approvedInBatch = new Map<string, bigint>();

  for (const payout of payouts) {
    const version = payout.policyVersion ?? 1;
    const rule = matchRule(versions.get(version)!, payout);
    const round = payout.approvals.filter((a) => a.round === payout.approvalRound);
    const counted = round.filter((a) => a.decision === "approved").map((a) => ({ approverId: a.approverId, level: a.level }));
    const judged = {
      levels: rule.levels,
      approvals: counted,
      deciderIds: round.map((a) => a.approverId),
      makerId: payout.createdById,
      status: payout.status,
      person,
      groupName: names.group,
    };
    const standing = approvalStanding(rule.levels, counted, payout.createdById, names.group);
    const expired = payout.status === "pending_approval" && payout.approvalExpiresAt !== null && payout.approvalExpiresAt <= now;
    const expiredMessage = expired ? `The approval window of this payout ended at ${payout.approvalExpiresAt!.toISOString()}; it expires` : null;

    let approve: ApproveVerdict;
    const eligibility = approvalEligibility(judged);
    if (!eligibility.ok) approve = { ok: false, ...eligibility.refusal };
    else if (expiredMessage) approve = { ok: false, rule: "approval.expired", message: expiredMessage };
    else {
      const after = approvalStanding(rule.levels, [...counted, { approverId: person.id, level: eligibility.level }], payout.createdById, names.group);
      approve = { ok: true, level: eligibility.level, completes: after.complete };
    }

    const key = positionKey(payout.connectionId, payout.currency);
    const position = money.get(key)!;
    const before = approvedInBatch.get(key) ?? 0n;
    const liquidity = {
      ...position,
      remainingMinor: position.availableMinor === null ? null : position.availableMinor - before - payout.amountMinor,
      currency: payout.currency,
      connectionName: payout.connection.name,
    };
    const over = overBalance(liquidity);
    if (over && !rule.allowOverBalance && approve.ok) {
      approve = {
        ok: false,
        rule: "approval.over_balance_forbidden",
        message: `${rule.index === null ? "The default rule" : `Rule "${rule.name}"`} of policy version ${version} forbids approving past the available balance: ${balanceWords(liquidity)}`,
      };
    }
    if (opts.cumulative && approve.ok && approve.completes) approvedInBatch.set(key, before + payout.amountMinor);

    const rejection = rejectionRefusal(judged);
    const found = duplicates.get(payout.id) ?? [];
    out.set(payout.id, {
      payoutId: payout.id,
      policyVersion: version,
      rule: { index: rule.index, name: rule.name, levels: describeLevels(rule.levels, names.group), allowOverBalance: rule.allowOverBalance },
      standing,
      approverNames: Object.fromEntries(round.map((a) => [a.approverId, a.approver.name])),
      approve,
      rejectBlockedBecause: rejection?.message ?? expiredMessage,
      rejectRule: rejection?.rule ?? (expiredMessage ? "approval.expired" : null),
      expiresAt: payout.approvalExpiresAt,
      expiresSoon: payout.approvalExpiresAt !== null && payout.approvalExpiresAt.getTime() - now.getTime() <= EXPIRES_SOON_HOURS * 3600_000,
      liquidity,
      duplicates: found,
      needs: { overBalance: over && rule.allowOverBalance, duplicates: found.map((d) => d.id) },
    });
  }
  return out;
}

/** "1,000.00 ZMW available on pawaPay (balance read …), -4,000.00 ZMW after this payout". */
export function balanceWords(l: Assessment["liquidity"]): string {
  const m = (v: bigint) => formatMoney(v, l.currency);
  return `${m(l.availableMinor!)} available on ${l.connectionName}, ${m(l.remainingMinor!)} after this payout`;
}

/** The acknowledgements a decision lacks, as field errors under `prefix` (acknowledge, or acknowledgements.<payout id>). */
export function missingAcknowledgements(a: Assessment, given: Acknowledgement | undefined, prefix: string): Record<string, string> {
  const errors: Record<string, string> = {};
  if (a.needs.overBalance && given?.overBalance !== true) {
    errors[`${prefix}.overBalance`] = `Approving goes past the available balance (${balanceWords(a.liquidity)}): acknowledge it to approve anyway`;
  }
  const seen = new Set((given?.duplicates ?? []).map((id) => id.toLowerCase()));
  const unseen = a.needs.duplicates.filter((id) => !seen.has(id));
  if (unseen.length > 0) {
    errors[`${prefix}.duplicates`] =
      `${unseen.length === 1 ? "A payout" : `${unseen.length} payouts`} to the same recipient, amount and currency close in time (${unseen.map((id) => id.slice(0, 8)).join(", ")}): acknowledge ${unseen.length === 1 ? "it" : "them"} to approve anyway`;
  }
  return errors;
}

/** What the approval records it acknowledged: the figures and payouts as they stood, so the audit shows what was seen. */
export function acknowledgedRecord(a: Assessment): Prisma.InputJsonValue | undefined {
  const record: Record<string, unknown> = {};
  if (a.needs.overBalance) {
    const l = a.liquidity;
    record.overBalance = {
      connection: l.connectionName,
      currency: l.currency,
      balanceMinor: l.balanceMinor?.toString() ?? null,
      snapshotAt: l.snapshotAt?.toISOString() ?? null,
      reservedMinor: l.reservedMinor.toString(),
      inFlightMinor: l.inFlightMinor.toString(),
      availableMinor: l.availableMinor?.toString() ?? null,
      remainingMinor: l.remainingMinor?.toString() ?? null,
    };
  }
  if (a.needs.duplicates.length > 0) {
    record.duplicates = a.duplicates.map((d) => ({ payoutId: d.id, createdAt: d.createdAt.toISOString(), status: d.status }));
  }
  return Object.keys(record).length > 0 ? (record as Prisma.InputJsonValue) : undefined;
}

/** A refusal as the error the caller gets: not yours to decide (FORBIDDEN) or not now (CONFLICT). */
function refusalError(rule: string, message: string): Error {
  const forbidden = ["approval.own_payout", "approval.not_eligible", "approval.earlier_level", "approval.over_balance_forbidden"];
  return forbidden.includes(rule) ? new Forbidden(message, rule) : new Conflict(message);
}

export function approvalRow(payout: DecisionPayout, actor: Actor, decision: "approved" | "rejected", level: number, extra: { reason?: string | null; acknowledged?: Prisma.InputJsonValue }) {
  // What exactly is approved: the worker checks the row against this hash before sending.
  const payload = payoutPayload(payout);
  return {
    payoutId: payout.id,
    approverId: actor.id,
    decision,
    reason: extra.reason ?? null,
    level,
    round: payout.approvalRound,
    payloadHash: payloadHash(payload),
    payload: payload as unknown as Prisma.InputJsonValue,
    acknowledged: extra.acknowledged,
  };
}

export async function decide(desk: Desk, actor: Actor, input: DecisionInput, ip?: string) {
  const reason = input.reason?.trim() || null;
  if (input.decision === "rejected" && !reason) {
    throw new FieldErrors({ reason: "Give a reason for the rejection; the maker will see it" });
  }
  if (reason && reason.length > 500) throw new FieldErrors({ reason: "Keep the reason under 500 characters" });
  const [payoutId] = checkIds([input.payoutId], "payoutId");
  await ensurePolicySeeded(desk.db);

  const result = await desk.db.$transaction(async (tx) => {
    // Locked first: two approvers of one level deciding at once are counted one after the other, never both as "the first".
    const [locked] = await tx.$queryRaw<Array<{ id: string }>>`SELECT id::text AS id FROM "Payout" WHERE id = ${payoutId}::uuid FOR UPDATE`;
    if (!locked) throw new NotFound("Payout");
    const payout = await tx.payout.findUniqueOrThrow({ where: { id: payoutId }, include: DECISION_INCLUDE });
    const a = (await assess(tx, actor, [payout], { cumulative: false })).get(payout.id)!;

    if (input.decision === "rejected") {
      if (a.rejectBlockedBecause) throw refusalError(a.rejectRule ?? "approval.not_eligible", a.rejectBlockedBecause);
      await createApproval(tx, approvalRow(payout, actor, "rejected", a.standing.currentLevel ?? 1, { reason }));
      const outcome = await changeStatusInTx(tx, { payoutId: payout.id, to: "rejected", from: ["pending_approval"], source: "user", actorId: actor.id, note: reason });
      if (!outcome.changed) throw new Conflict(`This payout is ${outcome.current}; it was decided meanwhile`);
      // The audit entry is the transaction's last write (see audit.ts: its lock is taken last).
      await audit(tx, {
        actorId: actor.id,
        action: "payout.reject",
        entityType: "payout",
        entityId: payout.id,
        details: { reason, level: a.standing.currentLevel, policyVersion: a.policyVersion, rule: a.rule.name },
        ip,
      });
      return { status: "rejected" as const, level: a.standing.currentLevel ?? 1 };
    }

    if (!a.approve.ok) throw refusalError(a.approve.rule, a.approve.message);
    const missing = missingAcknowledgements(a, input.acknowledge, "acknowledge");
    if (Object.keys(missing).length > 0) throw new FieldErrors(missing);
    const { level, completes } = a.approve;
    if (completes) {
      // The connection's daily and monthly totals (payout-limits.ts) hold the approval that would make it due.
      const held = await limitsProblem(tx, payout);
      if (held) throw new Conflict(held);
    }
    const acknowledged = acknowledgedRecord(a);
    await createApproval(tx, approvalRow(payout, actor, "approved", level, { reason, acknowledged }));
    if (completes) {
      const outcome = await changeStatusInTx(tx, { payoutId: payout.id, to: "approved", from: ["pending_approval"], source: "user", actorId: actor.id, note: reason });
      if (!outcome.changed) throw new Conflict(`This payout is ${outcome.current}; it was decided meanwhile`);
    }
    await audit(tx, {
      actorId: actor.id,
      action: "payout.approve",
      entityType: "payout",
      entityId: payout.id,
      details: { reason, level, of: a.standing.levels.length, complete: completes, policyVersion: a.policyVersion, rule: a.rule.name, acknowledged: acknowledged ?? null },
      ip,
    });
    return { status: completes ? ("approved" as const) : ("pending_approval" as const), level };
  });

  // The approval made the payout due (in the same transaction); this only
  // spares the workers their next poll.
  if (result.status === "approved") desk.jobs.wake();
  return result;
}

/**
 * Writes approval rows decided together (a batch approval, a bulk file's
 * approval or rejection) in one statement, the rows as one JSON array. Prisma's
 * createMany cost about 0.6 ms of CPU per row here (its query compiler and its
 * JSON handling), a third of what approving a batch cost. The callers hold
 * the payouts' row locks and have read their standing approvals, so the
 * unique key (payout, approver, round) cannot be hit by a race.
 */
export async function insertApprovals(tx: Tx, rows: ReadonlyArray<ReturnType<typeof approvalRow>>): Promise<void> {
  if (rows.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "Approval" (id, "payoutId", "approverId", decision, reason, level, round, "payloadHash", payload, acknowledged)
    SELECT gen_random_uuid(), x."payoutId", x."approverId", x.decision::"ApprovalDecision", x.reason, x.level, x.round, x."payloadHash", x.payload, x.acknowledged
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS x("payoutId" uuid, "approverId" uuid, decision text, reason text, level int, round int, "payloadHash" text, payload jsonb, acknowledged jsonb)`;
}

async function createApproval(tx: Tx, data: ReturnType<typeof approvalRow>) {
  await tx.approval.create({ data }).catch((error: { code?: string }) => {
    // The same person's second click raced the first: one decision counts, the other is told so.
    if (error?.code === "P2002") throw new Conflict("You have already decided on this payout");
    throw error;
  });
}

export interface BatchDecisionResult {
  /** Now approved: due for sending. */
  approved: string[];
  /** Approved by this person at their level, still waiting for more approvals under the policy. */
  awaitingMore: string[];
  /** Not decided, each with the reason in words. */
  refused: Array<{ payoutId: string; reason: string }>;
}

export interface BatchAcknowledgement extends Acknowledgement {
  payoutId: string;
}

/**
 * Approves several payouts at once, in one transaction, under exactly the
 * rules of a single approval: each under its own policy version and at the
 * level this person may approve it at now. A payout that may not be approved
 * (not theirs to approve, decided meanwhile, held by a limit) is named with
 * the reason and the others go ahead. A missing acknowledgement is different:
 * the approver did not see or accept what the card says, so nothing is
 * approved and each missing one is a field error naming the payout.
 */
export async function approveMany(
  desk: Desk,
  actor: Actor,
  payoutIds: readonly string[],
  ip?: string,
  acknowledgements: readonly BatchAcknowledgement[] = [],
): Promise<BatchDecisionResult> {
  const ids = [...new Set(checkIds(payoutIds, "payoutIds"))].sort();
  if (ids.length === 0) throw new FieldErrors({ payoutIds: "Choose at least one payout" });
  if (ids.length > MAX_BATCH_DECISION) throw new FieldErrors({ payoutIds: `${MAX_BATCH_DECISION} payouts at most in one decision; this has ${ids.length}` });
  const given = new Map(acknowledgements.map((a) => [a.payoutId.toLowerCase(), a]));
  const result: BatchDecisionResult = { approved: [], awaitingMore: [], refused: [] };
  await ensurePolicySeeded(desk.db);

  await desk.db.$transaction(async (tx) => {
    // Locked in id order (two batches never deadlock), so nobody decides on them meanwhile.
    await tx.$queryRaw`SELECT id FROM "Payout" WHERE id = ANY(${ids}::uuid[]) ORDER BY id FOR UPDATE`;
    const rows = new Map((await tx.payout.findMany({ where: { id: { in: ids } }, include: DECISION_INCLUDE })).map((p) => [p.id, p]));
    const ordered = ids.map((id) => rows.get(id)).filter((p): p is DecisionPayout => Boolean(p));
    const assessed = await assess(tx, actor, ordered, { cumulative: true });
    const missing: Record<string, string> = {};
    const deciding: ApprovingNow[] = [];
    for (const id of ids) {
      const payout = rows.get(id);
      if (!payout) {
        result.refused.push({ payoutId: id, reason: "No such payout" });
        continue;
      }
      const a = assessed.get(id)!;
      if (!a.approve.ok) {
        result.refused.push({ payoutId: id, reason: a.approve.message });
        continue;
      }
      Object.assign(missing, missingAcknowledgements(a, given.get(id), `acknowledgements.${id}`));
      deciding.push({ payout, a, level: a.approve.level, completes: a.approve.completes });
    }
    if (Object.keys(missing).length > 0) throw new FieldErrors(missing);

    const held = await limitsProblems(
      tx,
      deciding.filter((d) => d.completes).map((d) => d.payout),
    );
    const going = deciding.filter((d) => {
      const problem = held.get(d.payout.id);
      if (problem) result.refused.push({ payoutId: d.payout.id, reason: problem });
      return !problem;
    });
    if (going.length === 0) return;
    const moved = await recordApprovalsInTx(tx, actor, going, { note: "Approved in a batch", ip, details: { batch: going.length } });
    // The rows are locked and were pending: no change here can lose a race (a throw rolls the whole decision back).
    if (moved.unchanged.length > 0) throw new Conflict(`Payout ${moved.unchanged[0]!.payoutId} is ${moved.unchanged[0]!.current}; it was decided meanwhile`);
    result.awaitingMore.push(...going.filter((d) => !d.completes).map((d) => d.payout.id));
    result.approved.push(...moved.changed);
  });

  if (result.approved.length > 0) desk.jobs.wake();
  return result;
}

/** A payout an approver is approving now: at which level, and whether that completes its approval. */
export interface ApprovingNow {
  payout: DecisionPayout;
  a: Assessment;
  level: number;
  completes: boolean;
}

/**
 * Records approvals decided together (approveMany, a bulk file's batch): an
 * approval row each, one audit entry each (see audit.ts: one lock, one read
 * and one insert for them all), and last the completed ones moved to approved.
 * The callers hold the payouts' row locks, so the move cannot miss. It goes
 * last because it locks the shared rollup rows (payout-rollups.ts) until the
 * commit: every worker sending an approved payout and every callback settling
 * one waits on those rows, and with the move first they waited for the audit
 * chain's round trips too (most of bench:pipeline's lock waits). `details`
 * adds to each entry's.
 */
export async function recordApprovalsInTx(
  tx: Tx,
  actor: Actor,
  going: readonly ApprovingNow[],
  opts: { note: string; ip: string | undefined; details: Record<string, unknown> },
): ReturnType<typeof changeStatusManyInTx> {
  const acknowledged = new Map(going.map((d) => [d.payout.id, acknowledgedRecord(d.a)]));
  await insertApprovals(
    tx,
    going.map((d) => approvalRow(d.payout, actor, "approved", d.level, { acknowledged: acknowledged.get(d.payout.id) })),
  );
  await auditMany(
    tx,
    going.map((d) => ({
      actorId: actor.id,
      action: "payout.approve",
      entityType: "payout",
      entityId: d.payout.id,
      details: {
        ...opts.details,
        level: d.level,
        of: d.a.standing.levels.length,
        complete: d.completes,
        policyVersion: d.a.policyVersion,
        rule: d.a.rule.name,
        acknowledged: acknowledged.get(d.payout.id) ?? null,
      },
      ip: opts.ip,
    })),
  );
  const complete = going.filter((d) => d.completes).map((d) => d.payout.id);
  const moved =
    complete.length > 0
      ? await changeStatusManyInTx(tx, complete, { to: "approved", from: ["pending_approval"], source: "user", actorId: actor.id, note: opts.note })
      : { changed: [], unchanged: [], versions: new Map<string, number>() };
  return moved;
}

/** What a payout looks like to the person deciding on it: the queue's card, the payout page's block, the batch's review. */
export function cardOf(payout: DecisionPayout, a: Assessment) {
  return {
    payout: {
      id: payout.id,
      amountMinor: payout.amountMinor,
      currency: payout.currency,
      recipientName: payout.recipientName,
      recipientPhone: payout.recipientPhone,
      recipientAccount: payout.recipientAccount,
      recipientCountry: payout.recipientCountry,
      description: payout.description,
      status: payout.status,
      createdAt: payout.createdAt,
      connection: payout.connection,
      createdBy: payout.createdBy,
    },
    ...a,
    approvals: payout.approvals
      .filter((x) => x.round === payout.approvalRound)
      .map((x) => ({ approverId: x.approverId, name: x.approver.name, decision: x.decision, level: x.level, at: x.at, acknowledged: x.acknowledged })),
    /** Kept for the callers of the first queue: true when this person may approve now. */
    canDecide: a.approve.ok,
    blockedBecause: a.approve.ok ? null : a.approve.message,
  };
}

export type ApprovalCard = ReturnType<typeof cardOf>;

/** The queue: payouts waiting for approval, those expiring first on top, each judged for this person. */
export async function listPendingApprovals(desk: Desk, actor: Actor, opts: { singlesOnly?: boolean } = {}): Promise<ApprovalCard[]> {
  await ensurePolicySeeded(desk.db);
  const rows = await desk.db.payout.findMany({
    // singlesOnly: the queue shows a bulk file's payouts as one batch card (batch-approvals.ts), not one card each.
    where: { status: "pending_approval", ...(opts.singlesOnly ? { batchId: null } : {}) },
    orderBy: [{ approvalExpiresAt: { sort: "asc", nulls: "last" } }, { createdAt: "asc" }, { id: "asc" }],
    take: 200,
    include: DECISION_INCLUDE,
  });
  const assessed = await assess(desk.db, actor, rows, { cumulative: false });
  return rows.map((payout) => cardOf(payout, assessed.get(payout.id)!));
}

/** One payout's approval card (payout page), any status: where it stands under its version and what this person may do. */
export async function approvalCard(desk: Desk, actor: Actor, payoutId: string): Promise<ApprovalCard> {
  const [id] = checkIds([payoutId], "payoutId");
  await ensurePolicySeeded(desk.db);
  const payout = await desk.db.payout.findUnique({ where: { id }, include: DECISION_INCLUDE });
  if (!payout) throw new NotFound("Payout");
  return cardOf(payout, (await assess(desk.db, actor, [payout], { cumulative: false })).get(payout.id)!);
}

/**
 * What approving these payouts together would do, before doing it: per
 * payout the level or the reason it cannot be approved, the acknowledgements
 * it needs (counting the batch's earlier payouts against the balance, as
 * approveMany will), and the totals per currency of those that can be.
 */
export async function previewBatch(desk: Desk, actor: Actor, payoutIds: readonly string[]) {
  const ids = [...new Set(checkIds(payoutIds, "payoutIds"))].sort();
  if (ids.length > MAX_BATCH_DECISION) throw new FieldErrors({ payoutIds: `${MAX_BATCH_DECISION} payouts at most in one decision; this has ${ids.length}` });
  await ensurePolicySeeded(desk.db);
  const rows = new Map((await desk.db.payout.findMany({ where: { id: { in: ids } }, include: DECISION_INCLUDE })).map((p) => [p.id, p]));
  const ordered = ids.map((id) => rows.get(id)).filter((p): p is DecisionPayout => Boolean(p));
  const assessed = await assess(desk.db, actor, ordered, { cumulative: true });
  const items = ordered.map((p) => cardOf(p, assessed.get(p.id)!));
  const totals = new Map<string, { currency: string; count: number; amountMinor: bigint }>();
  for (const item of items) {
    if (!item.approve.ok) continue;
    const t = totals.get(item.payout.currency) ?? { currency: item.payout.currency, count: 0, amountMinor: 0n };
    t.count++;
    t.amountMinor += item.payout.amountMinor;
    totals.set(item.payout.currency, t);
  }
  return {
    items,
    missing: ids.filter((id) => !rows.has(id)),
    approvable: items.filter((i) => i.approve.ok).length,
    totals: [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
  };
}

/**
 * Why this person may not decide on this payout, or null when they might
 * (the payout page's quick answer; the approval card says exactly, under the
 * payout's policy). Counts only this round's approvals that stand.
 */
export function decisionBlockedFor(
  actor: Actor,
  payout: { createdById: string; status: string; approvalRound?: number; approvals: ReadonlyArray<{ approverId: string; round?: number; voidedAt?: Date | null }> },
): string | null {
  if (actor.role !== "approver" && actor.role !== "admin") return "Only approvers and admins decide on payouts";
  if (actor.id === payout.createdById) return "You created this payout; another approver must decide on it";
  if (payout.status !== "pending_approval") return `This payout is ${payout.status}, not waiting for approval`;
  const standing = payout.approvals.filter((a) => !a.voidedAt && (payout.approvalRound === undefined || a.round === undefined || a.round === payout.approvalRound));
  if (standing.some((a) => a.approverId === actor.id)) return "You have already decided on this payout";
  return null;
}

export { expireOverdueApprovals } from "./approval-expiry";
