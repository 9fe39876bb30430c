// Deciding on a bulk file's payouts as one batch: the approvals queue shows
// the batch as one card, and an approver approves or rejects all its waiting
// rows (or the rows they chose) with one step-up code. Each payout is judged
// by the very code a single approval uses (approvals.ts: assess, the policy
// version it was created under, the acknowledgements, the connection's
// limits), so a row needing a second level gets this person's level and keeps
// waiting, and a row this person may not decide on (their own, a level they
// do not count at) is skipped and counted with the reason.
//
// A batch may hold 50,000 rows, so the decision works through them in id
// order, a few hundred a transaction (rows locked, judged, decided, audited
// per payout as approveMany does), and waking the workers after each, so the
// first rows are being paid while the last are approved. Before any of it,
// every row is judged once without locks, so an acknowledgement the approver
// did not give refuses the whole decision and nothing is decided. A second
// click or a retry finds the rows already decided by this person and counts
// them as such: nobody's approval is recorded twice for one payout.
import type { Actor, Db, Desk, Tx } from "./types";
import type { Prisma } from "@/server/db/generated/client";
import { formatMoney } from "@/server/domain/money";
import { audit, auditMany } from "./audit";
import { FieldErrors, NotFound } from "./errors";
import { changeStatusManyInTx } from "./payout-status";
import { ensurePolicySeeded } from "./approval-policy";
import { limitsProblems } from "./payout-limits";
import {
  approvalRow,
  assess,
  cardOf,
  checkIds,
  DECISION_INCLUDE,
  insertApprovals,
  recordApprovalsInTx,
  type ApprovingNow,
  type Assessment,
  type DecisionPayout,
} from "./approvals";

/** Payouts per transaction of a batch decision. */
export const BATCH_DECISION_CHUNK = 250;
/** The most rows a batch holds (batches.ts refuses larger files): a chosen subset is at most this. */
export const MAX_BATCH_ROWS = 50_000;
/** Rows read at a time when judging a whole batch without locks. */
const READ_PAGE = 1_000;

/** What the approver acknowledges for the batch as a whole, having seen the counts on its card. */
export interface BatchAcknowledge {
  /** Rows that take the connection past its available balance (counted in the order they are approved). */
  overBalance?: boolean;
  /** Rows that are likely duplicates of another payout. */
  duplicates?: boolean;
}

export interface BatchDecisionInput {
  batchId: string;
  /** Only these rows of the batch; all its waiting rows when absent. */
  payoutIds?: readonly string[];
  acknowledge?: BatchAcknowledge;
  /** Required to reject; kept with each rejection. */
  reason?: string | null;
}

export interface SkipCount {
  rule: string;
  /** The reason in words, as the first skipped row of this kind was given it. */
  reason: string;
  count: number;
  /** A few of them, for a link. */
  examples: Array<{ payoutId: string; row: number | null }>;
}

export interface BatchDecisionOutcome {
  batchId: string;
  decision: "approved" | "rejected";
  /** Rows looked at: the batch's waiting rows, or the chosen ones. */
  considered: number;
  /** Now approved (final at this level): due for sending. */
  approved: number;
  /** Approved by this person at their level; waiting for another level. */
  awaitingMore: number;
  rejected: number;
  /** Already decided by this person before this call (a second click, a retry): nothing recorded again. */
  alreadyDecided: number;
  /** Not decided, by reason. */
  skipped: SkipCount[];
  skippedCount: number;
  chunks: number;
}

const ALREADY = "approval.already_decided";

class Skips {
  private byRule = new Map<string, SkipCount>();
  add(rule: string, reason: string, payout: { id: string; batchRow: number | null }) {
    const entry = this.byRule.get(rule) ?? { rule, reason, count: 0, examples: [] };
    entry.count++;
    if (entry.examples.length < 5) entry.examples.push({ payoutId: payout.id, row: payout.batchRow });
    this.byRule.set(rule, entry);
  }
  list(): SkipCount[] {
    return [...this.byRule.values()].sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule));
  }
  total(): number {
    return [...this.byRule.values()].reduce((n, s) => n + s.count, 0);
  }
}

function checkBatchId(batchId: string): string {
  return checkIds([batchId], "batchId")[0]!;
}

function checkSubset(payoutIds: readonly string[] | undefined): string[] | null {
  if (payoutIds === undefined) return null;
  const ids = [...new Set(checkIds(payoutIds, "payoutIds"))].sort();
  if (ids.length === 0) throw new FieldErrors({ payoutIds: "Choose at least one row of the batch, or leave the choice out for all its waiting rows" });
  if (ids.length > MAX_BATCH_ROWS) throw new FieldErrors({ payoutIds: `${MAX_BATCH_ROWS.toLocaleString("en")} rows at most; this has ${ids.length.toLocaleString("en")}` });
  return ids;
}

async function batchOf(db: Db | Tx, batchId: string) {
  const batch = await db.batch.findUnique({ where: { id: batchId }, select: { id: true, fileName: true, rowCount: true, createdAt: true, createdById: true } });
  if (!batch) throw new NotFound("Batch");
  const maker = await db.user.findUnique({ where: { id: batch.createdById }, select: { name: true } });
  return { ...batch, createdBy: { name: maker?.name ?? "someone no longer on the desk" } };
}

/** The batch's waiting rows (or the chosen ones that are waiting), id order, read a page at a time. */
async function waitingRows(db: Db | Tx, batchId: string, subset: string[] | null): Promise<DecisionPayout[]> {
  const rows: DecisionPayout[] = [];
  if (subset) {
    for (let i = 0; i < subset.length; i += READ_PAGE) {
      rows.push(
        ...(await db.payout.findMany({
          where: { batchId, status: "pending_approval", id: { in: subset.slice(i, i + READ_PAGE) } },
          orderBy: { id: "asc" },
          include: DECISION_INCLUDE,
        })),
      );
    }
    return rows;
  }
  let cursor: string | undefined;
  for (;;) {
    const page = await db.payout.findMany({
      where: { batchId, status: "pending_approval", ...(cursor ? { id: { gt: cursor } } : {}) },
      orderBy: { id: "asc" },
      take: READ_PAGE,
      include: DECISION_INCLUDE,
    });
    rows.push(...page);
    if (page.length < READ_PAGE) return rows;
    cursor = page.at(-1)!.id;
  }
}

interface Judged {
  payout: DecisionPayout;
  a: Assessment;
}

/** Every waiting row judged for this person, in the order a decision takes them (so the balance counts cumulatively). */
async function judgeAll(db: Db | Tx, actor: Actor, batchId: string, subset: string[] | null): Promise<Judged[]> {
  const rows = await waitingRows(db, batchId, subset);
  const assessed = await assess(db, actor, rows, { cumulative: true });
  return rows.map((payout) => ({ payout, a: assessed.get(payout.id)! }));
}

/**
 * The batch card: what deciding on this batch (or the chosen rows) would do
 * for this person, worked out by the same judgement as the decision: rows it
 * would approve to the end, rows that would wait for another level, rows it
 * may not decide on by reason, acknowledgements needed, totals per currency.
 */
export async function previewBatchDecision(desk: Desk, actor: Actor, input: { batchId: string; payoutIds?: readonly string[] }) {
  const batchId = checkBatchId(input.batchId);
  const subset = checkSubset(input.payoutIds);
  await ensurePolicySeeded(desk.db);
  const batch = await batchOf(desk.db, batchId);
  const judged = await judgeAll(desk.db, actor, batchId, subset);
  const skips = new Skips();
  const totals = new Map<string, { currency: string; count: number; amountMinor: bigint; approvableMinor: bigint; approvable: number }>();
  let final = 0;
  let awaitingMore = 0;
  let rejectable = 0;
  let needsLaterLevel = 0;
  let overBalanceRows = 0;
  let duplicateRows = 0;
  for (const { payout, a } of judged) {
    const t = totals.get(payout.currency) ?? { currency: payout.currency, count: 0, amountMinor: 0n, approvableMinor: 0n, approvable: 0 };
    t.count++;
    t.amountMinor += payout.amountMinor;
    if (a.standing.levels.length > 1) needsLaterLevel++;
    if (!a.rejectBlockedBecause) rejectable++;
    if (a.approve.ok) {
      if (a.approve.completes) final++;
      else awaitingMore++;
      t.approvable++;
      t.approvableMinor += payout.amountMinor;
      if (a.needs.overBalance) overBalanceRows++;
      if (a.needs.duplicates.length > 0) duplicateRows++;
    } else skips.add(a.approve.rule, a.approve.message, payout);
    totals.set(payout.currency, t);
  }
  const [expiry] = await desk.db.payout.findMany({
    where: { batchId, status: "pending_approval", approvalExpiresAt: { not: null } },
    orderBy: { approvalExpiresAt: "asc" },
    take: 1,
    select: { approvalExpiresAt: true },
  });
  return {
    batch: { id: batch.id, fileName: batch.fileName, rowCount: batch.rowCount, createdAt: batch.createdAt, createdBy: { id: batch.createdById, name: batch.createdBy.name } },
    waiting: judged.length,
    approvable: final + awaitingMore,
    /** Would be approved to the end by this person. */
    final,
    /** Would get this person's approval and wait for a higher level. */
    awaitingMore,
    /** Rows whose policy asks for more than one level. */
    needsLaterLevel,
    rejectable,
    notYours: skips.list(),
    needs: { overBalanceRows, duplicateRows },
    totals: [...totals.values()].sort((x, y) => x.currency.localeCompare(y.currency)),
    expiresAt: expiry?.approvalExpiresAt ?? null,
  };
}

export type BatchDecisionPreview = Awaited<ReturnType<typeof previewBatchDecision>>;

/** The missing acknowledgements for the whole decision, as field errors, from a judgement of every row. */
function missingForBatch(judged: readonly Judged[], given: BatchAcknowledge | undefined): Record<string, string> {
  const over = judged.filter((j) => j.a.approve.ok && j.a.needs.overBalance);
  const dupes = judged.filter((j) => j.a.approve.ok && j.a.needs.duplicates.length > 0);
  const errors: Record<string, string> = {};
  if (over.length > 0 && given?.overBalance !== true) {
    const first = over[0]!.a.liquidity;
    errors["acknowledge.overBalance"] =
      `${over.length.toLocaleString("en")} row${over.length === 1 ? "" : "s"} would take ${first.connectionName} past its available balance ` +
      `(${first.availableMinor === null ? "not known" : formatMoney(first.availableMinor, first.currency)} available): acknowledge it to approve anyway`;
  }
  if (dupes.length > 0 && given?.duplicates !== true) {
    errors["acknowledge.duplicates"] =
      `${dupes.length.toLocaleString("en")} row${dupes.length === 1 ? " is a likely duplicate" : "s are likely duplicates"} of other payouts (same recipient, amount and currency close in time): acknowledge them to approve anyway`;
  }
  return errors;
}

/** The acknowledgement a row needs now that the batch's acknowledgement does not cover (it changed since the first look). */
function uncovered(a: Assessment, given: BatchAcknowledge | undefined): string | null {
  if (a.needs.overBalance && given?.overBalance !== true) return `Past the available balance since the batch was reviewed; approve it on its own`;
  if (a.needs.duplicates.length > 0 && given?.duplicates !== true) return `A likely duplicate since the batch was reviewed; approve it on its own`;
  return null;
}

/** Locks and reads the next chunk of waiting rows after `cursor`, in id order. */
async function lockChunk(tx: Tx, batchId: string, subset: string[] | null, cursor: string): Promise<DecisionPayout[]> {
  const locked = subset
    ? await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id::text AS id FROM "Payout"
        WHERE "batchId" = ${batchId}::uuid AND status = 'pending_approval' AND id > ${cursor}::uuid AND id = ANY(${subset}::uuid[])
        ORDER BY id LIMIT ${BATCH_DECISION_CHUNK} FOR UPDATE`
    : await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id::text AS id FROM "Payout"
        WHERE "batchId" = ${batchId}::uuid AND status = 'pending_approval' AND id > ${cursor}::uuid
        ORDER BY id LIMIT ${BATCH_DECISION_CHUNK} FOR UPDATE`;
  if (locked.length === 0) return [];
  return tx.payout.findMany({ where: { id: { in: locked.map((r) => r.id) } }, orderBy: { id: "asc" }, include: DECISION_INCLUDE });
}

const FIRST_ID = "00000000-0000-0000-0000-000000000000";

/**
 * Approves a batch's waiting rows (or the chosen ones) for this person, a
 * chunk a transaction, each as a single approval would be. The step-up is
 * the caller's (the router asks once for the whole decision).
 */
export async function approveBatch(desk: Desk, actor: Actor, input: BatchDecisionInput, ip?: string): Promise<BatchDecisionOutcome> {
  return decideBatch(desk, actor, { ...input, decision: "approved" }, ip);
}

/** Rejects a batch's waiting rows (or the chosen ones) that this person may reject, with the reason the maker will see. */
export async function rejectBatch(desk: Desk, actor: Actor, input: BatchDecisionInput, ip?: string): Promise<BatchDecisionOutcome> {
  return decideBatch(desk, actor, { ...input, decision: "rejected" }, ip);
}

async function decideBatch(desk: Desk, actor: Actor, input: BatchDecisionInput & { decision: "approved" | "rejected" }, ip?: string): Promise<BatchDecisionOutcome> {
  const batchId = checkBatchId(input.batchId);
  const subset = checkSubset(input.payoutIds);
  const reason = input.reason?.trim() || null;
  if (input.decision === "rejected" && !reason) throw new FieldErrors({ reason: "Give a reason for the rejection; the maker will see it" });
  if (reason && reason.length > 500) throw new FieldErrors({ reason: "Keep the reason under 500 characters" });
  await ensurePolicySeeded(desk.db);
  const batch = await batchOf(desk.db, batchId);

  if (input.decision === "approved") {
    // Every row judged once first: a missing acknowledgement refuses the whole decision before any row is decided.
    const missing = missingForBatch(await judgeAll(desk.db, actor, batchId, subset), input.acknowledge);
    if (Object.keys(missing).length > 0) throw new FieldErrors(missing);
  }

  const outcome: BatchDecisionOutcome = {
    batchId,
    decision: input.decision,
    considered: 0,
    approved: 0,
    awaitingMore: 0,
    rejected: 0,
    alreadyDecided: 0,
    skipped: [],
    skippedCount: 0,
    chunks: 0,
  };
  const skips = new Skips();
  const seen = new Set<string>();
  let cursor = FIRST_ID;
  for (;;) {
    const done = await desk.db.$transaction(
      async (tx) => {
        const rows = await lockChunk(tx, batchId, subset, cursor);
        if (rows.length === 0) return true;
        cursor = rows.at(-1)!.id;
        outcome.chunks++;
        outcome.considered += rows.length;
        for (const r of rows) seen.add(r.id);
        const assessed = await assess(tx, actor, rows, { cumulative: true });
        if (input.decision === "approved") await approveChunk(tx, actor, rows, assessed, input.acknowledge, batchId, outcome, skips, ip);
        else await rejectChunk(tx, actor, rows, assessed, reason!, batchId, outcome, skips, ip);
        return false;
      },
      { timeout: 120_000, maxWait: 60_000 },
    );
    if (done) break;
    // Sent while the rest are being approved.
    if (input.decision === "approved") desk.jobs.wake();
  }

  if (subset) {
    // Chosen rows that were not waiting: decided already (by this person, or otherwise), or not of this batch.
    const rest = subset.filter((id) => !seen.has(id));
    for (let i = 0; i < rest.length; i += READ_PAGE) {
      const page = rest.slice(i, i + READ_PAGE);
      const rows = await desk.db.payout.findMany({
        where: { id: { in: page } },
        select: { id: true, batchId: true, batchRow: true, status: true, approvalRound: true, approvals: { where: { approverId: actor.id, voidedAt: null }, select: { round: true } } },
      });
      const found = new Map(rows.map((r) => [r.id, r]));
      for (const id of page) {
        const row = found.get(id);
        outcome.considered++;
        if (!row || row.batchId !== batchId) skips.add("batch.not_in_batch", "Not a payout of this batch", { id, batchRow: null });
        else if (row.approvals.some((a) => a.round === row.approvalRound)) outcome.alreadyDecided++;
        else skips.add("approval.not_pending", `This payout is ${row.status}, not waiting for approval`, row);
      }
    }
  }

  outcome.skipped = skips.list();
  outcome.skippedCount = skips.total();
  // One entry for the decision on the batch, besides each payout's own. Its own transaction, which may
  // wait its turn: with workers sending the first rows, the pool can be busy for longer than the default 2 s.
  await desk.db.$transaction((tx) => audit(tx, {
    actorId: actor.id,
    action: input.decision === "approved" ? "batch.approve" : "batch.reject",
    entityType: "batch",
    entityId: batchId,
    details: {
      fileName: batch.fileName,
      chosen: subset ? subset.length : null,
      considered: outcome.considered,
      approved: outcome.approved,
      awaitingMore: outcome.awaitingMore,
      rejected: outcome.rejected,
      alreadyDecided: outcome.alreadyDecided,
      skipped: outcome.skipped.map((s) => ({ rule: s.rule, count: s.count, reason: s.reason })),
      acknowledged: input.acknowledge ?? null,
      reason,
      chunks: outcome.chunks,
    },
    ip,
  }), { maxWait: 60_000, timeout: 60_000 });
  return outcome;
}

async function approveChunk(
  tx: Tx,
  actor: Actor,
  rows: readonly DecisionPayout[],
  assessed: Map<string, Assessment>,
  given: BatchAcknowledge | undefined,
  batchId: string,
  outcome: BatchDecisionOutcome,
  skips: Skips,
  ip: string | undefined,
) {
  const deciding: ApprovingNow[] = [];
  for (const payout of rows) {
    const a = assessed.get(payout.id)!;
    if (!a.approve.ok) {
      if (a.approve.rule === ALREADY && payout.approvals.some((x) => x.approverId === actor.id && x.round === payout.approvalRound)) outcome.alreadyDecided++;
      else skips.add(a.approve.rule, a.approve.message, payout);
      continue;
    }
    const gap = uncovered(a, given);
    if (gap) {
      skips.add("approval.acknowledgement", gap, payout);
      continue;
    }
    deciding.push({ payout, a, level: a.approve.level, completes: a.approve.completes });
  }
  const held = await limitsProblems(
    tx,
    deciding.filter((d) => d.completes).map((d) => d.payout),
  );
  const going = deciding.filter((d) => {
    const problem = held.get(d.payout.id);
    if (problem) skips.add("approval.limit", problem, d.payout);
    return !problem;
  });
  if (going.length === 0) return;
  // The rows are locked and were pending: nothing else moved them.
  const moved = await recordApprovalsInTx(tx, actor, going, { note: "Approved with its batch", ip, details: { batchId } });
  outcome.awaitingMore += going.filter((d) => !d.completes).length;
  outcome.approved += moved.changed.length;
}

async function rejectChunk(
  tx: Tx,
  actor: Actor,
  rows: readonly DecisionPayout[],
  assessed: Map<string, Assessment>,
  reason: string,
  batchId: string,
  outcome: BatchDecisionOutcome,
  skips: Skips,
  ip: string | undefined,
) {
  const going: Array<{ payout: DecisionPayout; a: Assessment }> = [];
  for (const payout of rows) {
    const a = assessed.get(payout.id)!;
    if (a.rejectBlockedBecause) {
      if (a.rejectRule === ALREADY && payout.approvals.some((x) => x.approverId === actor.id && x.round === payout.approvalRound)) outcome.alreadyDecided++;
      else skips.add(a.rejectRule ?? "approval.not_eligible", a.rejectBlockedBecause, payout);
      continue;
    }
    going.push({ payout, a });
  }
  if (going.length === 0) return;
  await insertApprovals(tx, going.map(({ payout, a }) => approvalRow(payout, actor, "rejected", a.standing.currentLevel ?? 1, { reason })));
  const moved = await changeStatusManyInTx(
    tx,
    going.map((g) => g.payout.id),
    { to: "rejected", from: ["pending_approval"], source: "user", actorId: actor.id, note: reason },
  );
  outcome.rejected += moved.changed.length;
  await auditMany(
    tx,
    going.map(({ payout, a }) => ({
      actorId: actor.id,
      action: "payout.reject",
      entityType: "payout",
      entityId: payout.id,
      details: { batchId, reason, level: a.standing.currentLevel, policyVersion: a.policyVersion, rule: a.rule.name },
      ip,
    })),
  );
}

/**
 * The queue's batches: each batch with payouts waiting for approval, with its
 * file, maker, rows waiting and totals per currency (one grouped query), the
 * window that ends first on top. What each would do for this person is the
 * card's own look (previewBatchDecision).
 */
export async function pendingBatches(desk: Desk) {
  const groups = await desk.db.$queryRaw<Array<{ batchId: string; currency: string; n: number; total: bigint; expires: Date | null; created: Date }>>`
    SELECT "batchId"::text AS "batchId", currency, count(*)::int AS n, sum("amountMinor")::bigint AS total,
           min("approvalExpiresAt") AS expires, min("createdAt") AS created
    FROM "Payout" WHERE status = 'pending_approval' AND "batchId" IS NOT NULL
    GROUP BY "batchId", currency`;
  if (groups.length === 0) return [];
  const found = await desk.db.batch.findMany({
    where: { id: { in: [...new Set(groups.map((g) => g.batchId))] } },
    select: { id: true, fileName: true, rowCount: true, createdAt: true, createdById: true },
  });
  const makers = new Map((await desk.db.user.findMany({ where: { id: { in: [...new Set(found.map((b) => b.createdById))] } }, select: { id: true, name: true } })).map((u) => [u.id, u.name]));
  const batches = new Map(found.map((b) => [b.id, { ...b, createdBy: { name: makers.get(b.createdById) ?? "someone no longer on the desk" } }]));
  const out = new Map<string, { batch: { id: string; fileName: string; rowCount: number; createdAt: Date; createdBy: { id: string; name: string } }; waiting: number; totals: Array<{ currency: string; count: number; amountMinor: bigint }>; expiresAt: Date | null }>();
  for (const g of groups) {
    const b = batches.get(g.batchId);
    if (!b) continue;
    const entry = out.get(g.batchId) ?? {
      batch: { id: b.id, fileName: b.fileName, rowCount: b.rowCount, createdAt: b.createdAt, createdBy: { id: b.createdById, name: b.createdBy.name } },
      waiting: 0,
      totals: [],
      expiresAt: null,
    };
    entry.waiting += g.n;
    entry.totals.push({ currency: g.currency, count: g.n, amountMinor: BigInt(g.total) });
    if (g.expires && (!entry.expiresAt || g.expires < entry.expiresAt)) entry.expiresAt = g.expires;
    out.set(g.batchId, entry);
  }
  return [...out.values()]
    .map((e) => ({ ...e, totals: e.totals.sort((x, y) => x.currency.localeCompare(y.currency)) }))
    .sort((x, y) => (x.expiresAt?.getTime() ?? Infinity) - (y.expiresAt?.getTime() ?? Infinity) || x.batch.createdAt.getTime() - y.batch.createdAt.getTime());
}

/** A page of a batch's waiting rows, each as its approval card for this person (to choose rows). */
export async function batchWaitingRows(desk: Desk, actor: Actor, input: { batchId: string; page: number; pageSize?: number }) {
  const batchId = checkBatchId(input.batchId);
  const pageSize = Math.min(Math.max(input.pageSize ?? 50, 1), 200);
  const page = Math.max(1, Math.floor(input.page));
  await ensurePolicySeeded(desk.db);
  await batchOf(desk.db, batchId);
  const where: Prisma.PayoutWhereInput = { batchId, status: "pending_approval" };
  const [total, rows] = await Promise.all([
    desk.db.payout.count({ where }),
    desk.db.payout.findMany({ where, orderBy: [{ batchRow: "asc" }, { id: "asc" }], skip: (page - 1) * pageSize, take: pageSize, include: DECISION_INCLUDE }),
  ]);
  const assessed = await assess(desk.db, actor, rows, { cumulative: false });
  return {
    total,
    page,
    pageSize,
    rows: rows.map((p) => ({ row: p.batchRow, ...cardOf(p, assessed.get(p.id)!) })),
  };
}
