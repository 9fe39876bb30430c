// The payout row is the work queue.
//
// A payout that needs the desk to act (send it, or ask the provider about it)
// carries `dueAt`; a worker takes it by writing a lease (`leaseOwner`,
// `leaseUntil`) with FOR UPDATE SKIP LOCKED, acts, and lets go, writing when
// it is next due. There is no second record of the work that could disagree
// with the payout or outlive it:
// - nothing is de-duplicated at queue level: the row is the only entry, so a
//   payout can never have two jobs, and one payout's trouble (a dead worker's
//   orphaned job, pg-boss#536's stately deadlock) cannot block any other;
// - a worker that dies leaves a lease that runs out (LEASE_SECONDS, renewed
//   while the work goes on), and the next worker takes the payout up;
// - a final payout has no dueAt (written with the status, payout-status.ts),
//   so no status check of it is ever made.
// What may be sent stays decided by the status and version (approved →
// submitting is the claim), exactly as before: the lease only spreads work.
import type { Db, Tx } from "./types";
import { Prisma, type Payout } from "@/server/db/generated/client";
import { rawRows } from "@/server/db/raw";
import { FINAL_STATUSES, IN_FLIGHT_STATUSES, type PayoutStatus } from "@/server/domain/payout-state";
import { noteProviderEvent } from "./payout-status";
import { expireOverdueApprovals } from "./approval-expiry";

/** How long a worker holds a payout without renewing; a dead worker's payouts are taken up after at most this. */
export const LEASE_SECONDS = 30;

export interface DueWork {
  id: string;
  connectionId: string;
  status: PayoutStatus;
  checkAttempt: number;
  /** The due time as taken; letting go compares it to see whether someone asked for an earlier look meanwhile. */
  dueAt: Date;
  /**
   * An approved payout's row as taken, and its standing approvals: what the
   * sender checks against the approvals and sends, so it need not read them
   * again. It is sent only if its claim finds the row unchanged since (the
   * version), exactly as with a row read just before the claim.
   */
  approved?: { payout: ApprovedRow; approvals: Array<{ round: number; payloadHash: string | null }> };
}

/** What a send needs of a payout row (payoutRequest), and what its approval check reads. */
export type SendablePayout = Pick<
  Payout,
  | "id"
  | "connectionId"
  | "amountMinor"
  | "currency"
  | "recipientPhone"
  | "recipientName"
  | "recipientAccount"
  | "recipientCountry"
  | "recipientDetails"
  | "channel"
  | "description"
  | "createdAt"
  | "providerReference"
>;
export type ApprovedRow = SendablePayout & Pick<Payout, "status" | "version" | "approvalRound">;

/**
 * Connections with at least one payout due at `now` that nobody holds. An
 * EXISTS per connection stops at the first such payout (index on
 * connectionId, dueAt), so looking costs the same with ten payouts due or a
 * hundred thousand; a count of the due set would grow with it.
 */
export async function connectionsWithDueWork(db: Db | Tx, now = new Date()): Promise<string[]> {
  const rows = await rawRows<{ id: string }>(db, Prisma.sql`
    SELECT c.id::text AS id FROM "Connection" c
    WHERE EXISTS (
      SELECT 1 FROM "Payout" p
      WHERE p."connectionId" = c.id AND p."dueAt" <= ${now} AND (p."leaseUntil" IS NULL OR p."leaseUntil" < ${now})
    )`);
  return rows.map((r) => r.id);
}

/**
 * Takes up to `limit` due payouts of one connection for `owner`, oldest due
 * first. SKIP LOCKED lets workers in several processes take disjoint sets.
 */
export async function takeDueWork(
  db: Db | Tx,
  opts: { owner: string; connectionId?: string; limit: number; now?: Date; leaseSeconds?: number; payoutId?: string },
): Promise<DueWork[]> {
  const now = opts.now ?? new Date();
  const leaseUntil = new Date(Date.now() + (opts.leaseSeconds ?? LEASE_SECONDS) * 1000);
  // The row as taken, with an approved payout's standing approvals (DueWork.approved).
  const taken = Prisma.sql`p.id::text AS id, p."connectionId"::text AS "connectionId", p.status::text AS status, p."checkAttempt", p."dueAt",
    p."amountMinor"::text AS "amountMinor", p.currency, p."recipientPhone", p."recipientName", p."recipientAccount", p."recipientCountry",
    p."recipientDetails", p.channel, p.description, p."createdAt", p."providerReference", p.version, p."approvalRound",
    CASE WHEN p.status = 'approved' THEN (
      SELECT coalesce(json_agg(json_build_object('round', a.round, 'payloadHash', a."payloadHash")), '[]'::json)
      FROM "Approval" a WHERE a."payoutId" = p.id AND a.decision = 'approved' AND a."voidedAt" IS NULL
    ) END AS approvals`;
  const rows = opts.payoutId
    ? await rawRows<RawDue>(db, Prisma.sql`
        UPDATE "Payout" AS p SET "leaseOwner" = ${opts.owner}, "leaseUntil" = ${leaseUntil}
        FROM (
          SELECT id FROM "Payout"
          WHERE id = ${opts.payoutId}::uuid AND "dueAt" <= ${now} AND ("leaseUntil" IS NULL OR "leaseUntil" < ${now})
          FOR UPDATE SKIP LOCKED
        ) AS due
        WHERE p.id = due.id
        RETURNING ${taken}`)
    : opts.connectionId
    ? await rawRows<RawDue>(db, Prisma.sql`
        UPDATE "Payout" AS p SET "leaseOwner" = ${opts.owner}, "leaseUntil" = ${leaseUntil}
        FROM (
          SELECT id FROM "Payout"
          WHERE "connectionId" = ${opts.connectionId}::uuid AND "dueAt" <= ${now}
            AND ("leaseUntil" IS NULL OR "leaseUntil" < ${now})
          ORDER BY "dueAt" LIMIT ${opts.limit}
          FOR UPDATE SKIP LOCKED
        ) AS due
        WHERE p.id = due.id
        RETURNING ${taken}`)
    : await rawRows<RawDue>(db, Prisma.sql`
        UPDATE "Payout" AS p SET "leaseOwner" = ${opts.owner}, "leaseUntil" = ${leaseUntil}
        FROM (
          SELECT id FROM "Payout"
          WHERE "dueAt" <= ${now} AND ("leaseUntil" IS NULL OR "leaseUntil" < ${now})
          ORDER BY "dueAt" LIMIT ${opts.limit}
          FOR UPDATE SKIP LOCKED
        ) AS due
        WHERE p.id = due.id
        RETURNING ${taken}`);
  return rows.map(dueWork).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
}

function dueWork(r: RawDue): DueWork {
  const { checkAttempt, dueAt, approvals, amountMinor, ...row } = r;
  const work: DueWork = { id: r.id, connectionId: r.connectionId, status: r.status as PayoutStatus, checkAttempt: Number(checkAttempt), dueAt: new Date(dueAt) };
  if (r.status === "approved" && Array.isArray(approvals)) {
    work.approved = {
      payout: { ...row, status: "approved", amountMinor: BigInt(amountMinor), version: Number(r.version), approvalRound: Number(r.approvalRound), createdAt: new Date(r.createdAt) },
      approvals: approvals.map((a) => ({ round: Number(a.round), payloadHash: a.payloadHash ?? null })),
    };
  }
  return work;
}

interface RawDue extends Omit<ApprovedRow, "amountMinor" | "status"> {
  status: string;
  checkAttempt: number;
  dueAt: Date;
  amountMinor: string;
  approvals: Array<{ round: number; payloadHash: string | null }> | null;
}

/** Extends the leases `owner` holds on payouts it is still working on. */
export async function renewLeases(db: Db, owner: string, payoutIds: string[], leaseSeconds = LEASE_SECONDS): Promise<void> {
  if (payoutIds.length === 0) return;
  const leaseUntil = new Date(Date.now() + leaseSeconds * 1000);
  await db.$executeRaw`
    UPDATE "Payout" SET "leaseUntil" = ${leaseUntil}
    WHERE "leaseOwner" = ${owner} AND id::text = ANY(${payoutIds}::text[])`;
}

const FINAL_LIST = [...FINAL_STATUSES, "pending_approval"] as string[];

/** A worker letting go of a payout it acted on (finishWork's arguments, without the id). */
export interface WorkRelease {
  owner: string;
  /** The due time it saw when it took the payout. */
  seenDueAt: Date | null;
  /** When the payout is next due (its next status check). */
  next: Date;
  checkAttempt: number;
  /** A status check was made (clears a "check overdue" flag). */
  checked?: boolean;
}

/**
 * finishWork's writes as SET clauses of a status change to a status that is
 * not final (payout-status.ts, AlongsideChange.release), on the payout row
 * aliased `p`: the same rules, with the lease holder's test inside each
 * clause, since the change itself is made whoever holds the lease.
 */
export function releaseSets(release: WorkRelease): Prisma.Sql[] {
  const held = Prisma.sql`(p."leaseOwner" = ${release.owner} OR p."leaseOwner" IS NULL)`;
  const clearFlag = Prisma.sql`${held} AND ${release.checked ?? false} AND p."attentionReason" = 'check_overdue'`;
  return [
    Prisma.sql`"leaseOwner" = CASE WHEN ${held} THEN NULL ELSE p."leaseOwner" END`,
    Prisma.sql`"leaseUntil" = CASE WHEN ${held} THEN NULL ELSE p."leaseUntil" END`,
    Prisma.sql`"checkAttempt" = CASE WHEN ${held} THEN ${release.checkAttempt}::int ELSE p."checkAttempt" END`,
    Prisma.sql`"dueAt" = CASE WHEN NOT ${held} THEN p."dueAt"
      WHEN p."dueAt" IS DISTINCT FROM ${release.seenDueAt}::timestamptz THEN LEAST(p."dueAt", ${release.next}::timestamptz)
      ELSE ${release.next}::timestamptz END`,
    Prisma.sql`"attentionSince" = CASE WHEN ${clearFlag} THEN NULL ELSE p."attentionSince" END`,
    Prisma.sql`"attentionReason" = CASE WHEN ${clearFlag} THEN NULL ELSE p."attentionReason" END`,
  ];
}

/**
 * Lets go of a payout after acting on it, and answers its status: next due at `next` (ignored when the
 * payout is final or back waiting for approval), with the status-check attempt
 * reached. If someone asked for an earlier look while we worked (a callback
 * hint), the earlier time wins. Only the lease holder's (or an unleased)
 * payout is touched: a worker that lost its lease must not undo the new holder's.
 */
export async function finishWork(
  db: Db | Tx,
  work: { id: string; owner: string; seenDueAt: Date | null; next: Date; checkAttempt: number; checked?: boolean },
): Promise<PayoutStatus> {
  const rows = await rawRows<{ status: string }>(db, Prisma.sql`
    UPDATE "Payout" SET
      "leaseOwner" = NULL,
      "leaseUntil" = NULL,
      "checkAttempt" = ${work.checkAttempt},
      "dueAt" = CASE
        WHEN status::text = ANY(${FINAL_LIST}::text[]) THEN NULL
        WHEN "dueAt" IS DISTINCT FROM ${work.seenDueAt} THEN LEAST("dueAt", ${work.next})
        ELSE ${work.next} END,
      "attentionSince" = CASE WHEN ${work.checked ?? false} AND "attentionReason" = 'check_overdue' THEN NULL ELSE "attentionSince" END,
      "attentionReason" = CASE WHEN ${work.checked ?? false} AND "attentionReason" = 'check_overdue' THEN NULL ELSE "attentionReason" END
    WHERE id = ${work.id}::uuid AND ("leaseOwner" = ${work.owner} OR "leaseOwner" IS NULL)
    RETURNING status::text AS status`);
  if (rows[0]) return rows[0].status as PayoutStatus;
  // Held by another worker now (our lease ran out): its status all the same.
  const [row] = await rawRows<{ status: string }>(db, Prisma.sql`SELECT status::text AS status FROM "Payout" WHERE id = ${work.id}::uuid`);
  return (row?.status ?? "cancelled") as PayoutStatus;
}

/**
 * Asks for a status check of an in-flight payout within `inSeconds` (a callback
 * we could not verify says something may have happened). Does nothing to a
 * payout that is final or not yet sent. Returns whether it was asked.
 */
export async function askProviderSoon(db: Db | Tx, payoutId: string, inSeconds = 0): Promise<boolean> {
  const at = new Date(Date.now() + inSeconds * 1000);
  const inFlight = [...IN_FLIGHT_STATUSES] as string[];
  const n = await db.$executeRaw`
    UPDATE "Payout" SET "dueAt" = LEAST(COALESCE("dueAt", ${at}), ${at})
    WHERE id = ${payoutId}::uuid AND status::text = ANY(${inFlight}::text[])`;
  return n > 0;
}

/** When the sweeper flags a payout for a person to look at. */
export const ATTENTION_REASONS = {
  not_sent: "Approved but not sent",
  check_overdue: "Status check overdue",
  stuck: "In flight too long",
} as const;
export type AttentionReason = keyof typeof ATTENTION_REASONS;

export interface SweepLimits {
  /** An approved payout not sent after this many seconds is flagged (DESK_SEND_WITHIN_SECONDS, default 120). */
  sendWithinSeconds: number;
  /** A status check more than this many seconds late is flagged (same setting). */
  checkOverdueSeconds: number;
  /** In flight longer than this is flagged (DESK_STUCK_AFTER_MINUTES). */
  stuckAfterMinutes: number;
}

export interface SweepResult {
  repaired: number;
  notSent: number;
  checkOverdue: number;
  stuck: number;
  /** Payouts whose approval window ended before they were fully approved: now expired. */
  expired: number;
}

/**
 * The safety net, run by every worker process every few seconds (all its
 * writes are guarded, so several at once are harmless):
 * - a payout waiting on the desk with no due time (which no code path should
 *   leave) is made due now;
 * - an approved payout not sent within the limit, a status check overdue, or
 *   a payout in flight too long is flagged for attention with an event. It is
 *   already due, so the first live worker takes it; the flag tells a person
 *   when none does;
 * - a payout not fully approved by the end of its approval window expires.
 */
export async function sweep(db: Db, limits: SweepLimits, now = new Date()): Promise<SweepResult> {
  const waiting = ["approved", ...IN_FLIGHT_STATUSES] as string[];
  const repaired = await db.$executeRaw`
    UPDATE "Payout" SET "dueAt" = ${now}
    WHERE status::text = ANY(${waiting}::text[]) AND "dueAt" IS NULL`;
  if (repaired > 0) console.error(`[jobs] ${repaired} payout(s) were waiting on the desk with nothing due; made due now`);

  const inFlight = [...IN_FLIGHT_STATUSES] as string[];
  const notSent = await flag(db, await db.$queryRaw<Flagged[]>`
    UPDATE "Payout" SET "attentionSince" = ${now}, "attentionReason" = 'not_sent'
    WHERE status = 'approved' AND "approvedAt" < ${new Date(now.getTime() - limits.sendWithinSeconds * 1000)} AND "attentionSince" IS NULL
    RETURNING id::text AS id, status::text AS status`, `Approved more than ${describeSeconds(limits.sendWithinSeconds)} ago and not yet sent: flagged for attention`);
  const checkOverdue = await flag(db, await db.$queryRaw<Flagged[]>`
    UPDATE "Payout" SET "attentionSince" = ${now}, "attentionReason" = 'check_overdue'
    WHERE status::text = ANY(${inFlight}::text[]) AND "dueAt" < ${new Date(now.getTime() - limits.checkOverdueSeconds * 1000)} AND "attentionSince" IS NULL
    RETURNING id::text AS id, status::text AS status`, `The status check is more than ${describeSeconds(limits.checkOverdueSeconds)} overdue: flagged for attention`);
  const stuck = await flag(db, await db.$queryRaw<Flagged[]>`
    UPDATE "Payout" SET "attentionSince" = ${now}, "attentionReason" = 'stuck'
    WHERE status::text = ANY(${inFlight}::text[]) AND "submittedAt" < ${new Date(now.getTime() - limits.stuckAfterMinutes * 60_000)} AND "attentionSince" IS NULL
    RETURNING id::text AS id, status::text AS status`, `In flight for more than ${limits.stuckAfterMinutes} minutes: flagged for attention`);
  const expired = await expireOverdueApprovals(db, now);
  return { repaired, notSent, checkOverdue, stuck, expired };
}

interface Flagged {
  id: string;
  status: string;
}

async function flag(db: Db, rows: Flagged[], note: string): Promise<number> {
  for (const row of rows) {
    await db.$transaction((tx) => noteProviderEvent(tx, row.id, row.status as PayoutStatus, "system", note));
  }
  if (rows.length > 0) console.warn(`[jobs] ${rows.length} payout(s): ${note}`);
  return rows.length;
}

function describeSeconds(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? "" : "s"}` : `${seconds} seconds`;
}
