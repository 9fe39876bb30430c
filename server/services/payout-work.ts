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
import { Prisma } from "@/server/db/generated/client";
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
}

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
  const rows = opts.payoutId
    ? await rawRows<RawDue>(db, Prisma.sql`
        UPDATE "Payout" AS p SET "leaseOwner" = ${opts.owner}, "leaseUntil" = ${leaseUntil}
        FROM (
          SELECT id FROM "Payout"
          WHERE id = ${opts.payoutId}::uuid AND "dueAt" <= ${now} AND ("leaseUntil" IS NULL OR "leaseUntil" < ${now})
          FOR UPDATE SKIP LOCKED
        ) AS due
        WHERE p.id = due.id
        RETURNING p.id::text AS id, p."connectionId"::text AS "connectionId", p.status::text AS status, p."checkAttempt", p."dueAt"`)
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
        RETURNING p.id::text AS id, p."connectionId"::text AS "connectionId", p.status::text AS status, p."checkAttempt", p."dueAt"`)
    : await rawRows<RawDue>(db, Prisma.sql`
        UPDATE "Payout" AS p SET "leaseOwner" = ${opts.owner}, "leaseUntil" = ${leaseUntil}
        FROM (
          SELECT id FROM "Payout"
          WHERE "dueAt" <= ${now} AND ("leaseUntil" IS NULL OR "leaseUntil" < ${now})
          ORDER BY "dueAt" LIMIT ${opts.limit}
          FOR UPDATE SKIP LOCKED
        ) AS due
        WHERE p.id = due.id
        RETURNING p.id::text AS id, p."connectionId"::text AS "connectionId", p.status::text AS status, p."checkAttempt", p."dueAt"`);
  return rows
    .map((r) => ({ ...r, status: r.status as PayoutStatus, checkAttempt: Number(r.checkAttempt), dueAt: new Date(r.dueAt) }))
    .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
}

interface RawDue {
  id: string;
  connectionId: string;
  status: string;
  checkAttempt: number;
  dueAt: Date;
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
