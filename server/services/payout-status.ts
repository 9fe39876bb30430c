// The one place a payout's status changes. Each change is one SQL statement
// that locks the payout row, checks its current status against the domain
// state machine's allowed sources, updates it, and appends its PayoutEvent —
// atomic on its own, so it needs no interactive transaction (one round trip,
// nothing held while the pool is busy), and runs just as well inside one
// when the caller writes more (an approval, its audit entry). Two workers, or
// a callback racing a status query, can never both apply a change: the row
// lock orders them, and the second finds the status already moved.
import { Prisma } from "@/server/db/generated/client";
import { canTransition, isFinal, PAYOUT_STATUSES, TransitionError, type PayoutStatus, type TransitionSource } from "@/server/domain/payout-state";
import type { ProviderResult } from "@/server/connectors/types";
import type { Db, Tx } from "./types";
import { Conflict, NotFound } from "./errors";
import { contributionSql, payoutTerms, upsertDeltasSql, upsertTimingsSql } from "./payout-rollups";
import { rawRows } from "@/server/db/raw";
import { insertCallsSql, type ProviderCalls } from "./provider-calls";
import { releaseSets, type WorkRelease } from "./payout-work";

/** Columns a status change may set along with the status. */
export interface StatusPatch {
  providerStatus?: string | null;
  providerReference?: string | null;
  failureCode?: string | null;
  failureMessage?: string | null;
  submittedAt?: Date | null;
  finalizedAt?: Date | null;
  approvedAt?: Date | null;
  attentionSince?: Date | null;
  attentionReason?: string | null;
  dueAt?: Date | null;
  leaseOwner?: string | null;
  leaseUntil?: Date | null;
  checkAttempt?: number;
  feeMinor?: bigint | null;
  feeCurrency?: string | null;
  debitedMinor?: bigint | null;
  debitedCurrency?: string | null;
  destinationMinor?: bigint | null;
  destinationCurrency?: string | null;
  fxRate?: string | null;
}

const PATCH_COLUMNS: ReadonlyArray<keyof StatusPatch> = [
  "providerStatus",
  "providerReference",
  "failureCode",
  "failureMessage",
  "submittedAt",
  "finalizedAt",
  "approvedAt",
  "attentionSince",
  "attentionReason",
  "dueAt",
  "leaseOwner",
  "leaseUntil",
  "checkAttempt",
  "feeMinor",
  "feeCurrency",
  "debitedMinor",
  "debitedCurrency",
  "destinationMinor",
  "destinationCurrency",
  "fxRate",
];

export interface StatusChange {
  payoutId: string;
  to: PayoutStatus;
  source: TransitionSource;
  /** Only apply if the payout is currently in one of these (default: any allowed). */
  from?: readonly PayoutStatus[];
  actorId?: string | null;
  note?: string | null;
  payload?: unknown;
  /** Extra columns set with the change (provider reference, failure reason…). */
  patch?: StatusPatch;
  /** Writes made in the same statement, and only if the change is made. */
  also?: AlongsideChange;
}

/**
 * What a worker or a callback would otherwise write in statements of their
 * own right after a change (each a commit, and the lease release one more
 * update of the payout row with all its indexes), made by the change's own
 * statement instead. Each is written only when the change is made; on a miss
 * the caller writes them as before.
 */
export interface AlongsideChange {
  /** The provider calls whose answer led to the change (the send). */
  calls?: ProviderCalls;
  /** The worker lets go of the payout, as finishWork does. */
  release?: WorkRelease;
  /** The callback receipt the change applies: marked processed with this outcome. */
  receipt?: { id: string; outcome: string };
}

export type ChangeOutcome =
  | { changed: true; from: PayoutStatus; to: PayoutStatus; version: number }
  | { changed: false; current: PayoutStatus; reason: string };

/**
 * Applies one status change, on the database or inside the caller's
 * transaction. Returns changed:false (never throws) when the payout is no
 * longer in a state the caller expected, so callers decide what a lost race
 * means for them; throws TransitionError when the state machine forbids it.
 */
export async function changeStatusInTx(db: Db | Tx, change: StatusChange): Promise<ChangeOutcome> {
  const [row] = await changeRows(db, [change.payoutId], change);
  if (!row) throw new NotFound(`Payout ${change.payoutId}`);
  if (row.from) return { changed: true, from: row.from as PayoutStatus, to: change.to, version: Number(row.version) };
  const current = row.current as PayoutStatus;
  if (change.from && !change.from.includes(current)) return { changed: false, current, reason: `payout is ${current}` };
  // Allowed by the caller but not by the state machine.
  throw new TransitionError(current, change.to);
}

/**
 * The same change for several payouts in one statement (a batch approval):
 * each changes only from an allowed status. Answers which changed, and the
 * status of those that did not; unknown ids are left out of both.
 */
export async function changeStatusManyInTx(
  db: Db | Tx,
  payoutIds: readonly string[],
  change: Omit<StatusChange, "payoutId">,
): Promise<{ changed: string[]; unchanged: Array<{ payoutId: string; current: PayoutStatus }>; versions: Map<string, number> }> {
  const rows = await changeRows(db, payoutIds, change);
  return {
    changed: rows.filter((r) => r.from).map((r) => r.id),
    /** Each changed payout's version after the change. */
    versions: new Map(rows.filter((r) => r.from).map((r) => [r.id, Number(r.version)])),
    unchanged: rows.filter((r) => !r.from).map((r) => ({ payoutId: r.id, current: r.current as PayoutStatus })),
  };
}

/**
 * The one statement that changes statuses: locks the rows (in id order, so
 * two changes never deadlock), updates those in an allowed status, appends
 * each one's event, and answers every row's status before and whether it moved.
 */
async function changeRows(db: Db | Tx, payoutIds: readonly string[], change: Omit<StatusChange, "payoutId">) {
  const now = new Date();
  // The statuses this change may start from: the caller's, narrowed to those the state machine allows.
  const sources = (change.from ?? PAYOUT_STATUSES).filter((s) => canTransition(s, change.to));
  const patch: StatusPatch = { ...change.patch, ...workFor(change.to, now) };
  const sets = PATCH_COLUMNS.filter((column) => patch[column] !== undefined).map(
    (column) => Prisma.sql`${Prisma.raw(`"${column}"`)} = ${patch[column]}`,
  );
  // A final status already lets go of the payout (workFor); any other lets go as finishWork does.
  if (change.also?.release && !isFinal(change.to)) sets.push(...releaseSets(change.also.release));
  // Only well-formed ids can name a payout; comparing as uuid lets the primary key find the rows.
  const ids = payoutIds.filter((id) => UUID.test(id));
  // The rollups move with the status, in this same statement: out of the old
  // status (with the fee as it was), into the new one (with the fee as patched).
  const rollup = upsertDeltasSql(Prisma.sql`
    SELECT ${contributionSql(payoutTerms("ch", { status: Prisma.sql`ch.from_status`, feeMinor: Prisma.sql`ch.old_fee`, feeCurrency: Prisma.sql`ch.old_fee_currency` }), -1)} FROM changed AS ch
    UNION ALL
    SELECT ${contributionSql(payoutTerms("ch"), 1)} FROM changed AS ch`);
  // One payout (every change but a batch's) is named by an equality: PostgreSQL then plans the prepared statement once (a generic plan), where an array kept it planning every call.
  const which = ids.length === 1 ? Prisma.sql`id = ${ids[0]}::uuid` : Prisma.sql`id = ANY(${ids}::uuid[])`;
  // A change that finalises (sets finalizedAt, which happens once) adds each approved payout's approval-to-final time to the histogram.
  const timing = patch.finalizedAt ? Prisma.sql`, timing AS (${upsertTimingsSql(Prisma.sql`changed`)})` : Prisma.empty;
  return rawRows<{ id: string; current: string; from: string | null; version: number | null }>(db, Prisma.sql`
    WITH current AS (
      SELECT id, status, "feeMinor", "feeCurrency" FROM "Payout" WHERE ${which} ORDER BY id FOR UPDATE
    ), changed AS (
      UPDATE "Payout" AS p SET
        status = ${change.to}::"PayoutStatus",
        version = p.version + 1,
        "updatedAt" = ${now}
        ${sets.length > 0 ? Prisma.sql`, ${Prisma.join(sets)}` : Prisma.empty}
      FROM current AS c
      WHERE p.id = c.id AND c.status::text = ANY(${sources}::text[])
      RETURNING p.id, c.status AS from_status, p.version, p.status, p."createdAt", p."connectionId", p.currency, p."amountMinor",
        p."feeMinor", p."feeCurrency", c."feeMinor" AS old_fee, c."feeCurrency" AS old_fee_currency, p."approvedAt", p."finalizedAt"
    ), rollup AS (${rollup}
    )${timing}, event AS (
      INSERT INTO "PayoutEvent" ("payoutId", "fromStatus", "toStatus", source, "actorId", note, payload, at)
      SELECT id, from_status, ${change.to}::"PayoutStatus", ${change.source}::"EventSource", ${change.actorId ?? null}::uuid,
             ${change.note ?? null}, ${toJsonText(change.payload)}::jsonb, ${now}
      FROM changed
      RETURNING id
    )${alongside(change.also, now)}
    SELECT c.id::text AS id, c.status::text AS current, ch.from_status::text AS "from", ch.version
    FROM current c LEFT JOIN changed ch ON ch.id = c.id`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The CTEs of a change's other writes, each made only when a row changed. */
function alongside(also: AlongsideChange | undefined, now: Date): Prisma.Sql {
  if (!also) return Prisma.empty;
  const made = Prisma.sql`EXISTS (SELECT 1 FROM changed)`;
  const parts: Prisma.Sql[] = [];
  if (also.calls && also.calls.records.length > 0) parts.push(Prisma.sql`, calls AS (${insertCallsSql(also.calls, made)})`);
  if (also.receipt) {
    parts.push(Prisma.sql`, receipt AS (
      UPDATE "CallbackReceipt" SET outcome = ${also.receipt.outcome}, "processedAt" = ${now} WHERE id = ${also.receipt.id}::uuid AND ${made})`);
  }
  return parts.length > 0 ? Prisma.join(parts, "") : Prisma.empty;
}

/**
 * Writes columns of a payout that stays in `status` (a fee reported after it
 * was paid, the provider's latest words), moving the fee in the rollups in
 * the same statement. Answers how many payouts it wrote: 0 when the payout is
 * no longer in `status`.
 */
async function patchInStatus(db: Db | Tx, payoutId: string, status: PayoutStatus, patch: StatusPatch): Promise<number> {
  const sets = PATCH_COLUMNS.filter((column) => patch[column] !== undefined).map(
    (column) => Prisma.sql`${Prisma.raw(`"${column}"`)} = ${patch[column]}`,
  );
  if (sets.length === 0 || !UUID.test(payoutId)) return 0;
  const rollup = upsertDeltasSql(Prisma.sql`
    SELECT ${contributionSql(payoutTerms("ch", { feeMinor: Prisma.sql`ch.old_fee`, feeCurrency: Prisma.sql`ch.old_fee_currency` }), -1)} FROM changed AS ch
    UNION ALL
    SELECT ${contributionSql(payoutTerms("ch"), 1)} FROM changed AS ch`);
  const [row] = await rawRows<{ n: number }>(db, Prisma.sql`
    WITH current AS (
      SELECT id, "feeMinor", "feeCurrency" FROM "Payout" WHERE id = ${payoutId}::uuid AND status = ${status}::"PayoutStatus" FOR UPDATE
    ), changed AS (
      UPDATE "Payout" AS p SET ${Prisma.join(sets)}, "updatedAt" = ${new Date()}
      FROM current AS c WHERE p.id = c.id
      RETURNING p.id, p.status, p."createdAt", p."connectionId", p.currency, p."amountMinor", p."feeMinor", p."feeCurrency",
        c."feeMinor" AS old_fee, c."feeCurrency" AS old_fee_currency
    ), rollup AS (${rollup})
    SELECT count(*)::int AS n FROM changed`);
  return row?.n ?? 0;
}

/**
 * What the work queue (the payout row itself, see payout-work.ts) must know
 * of a new status: an approved payout is due for sending now; a final one is
 * owed nothing more, so no status check of it is ever made, and whoever
 * holds it lets go. Written with the status, so the two never disagree.
 */
function workFor(to: PayoutStatus, now: Date): StatusPatch {
  if (to === "approved") return { dueAt: now, approvedAt: now, checkAttempt: 0 };
  if (isFinal(to)) {
    // A reversal keeps the payout's original finalisation time: it was final when paid.
    const finalised = to === "reversed" ? {} : { finalizedAt: now };
    return { ...finalised, dueAt: null, leaseOwner: null, leaseUntil: null, attentionSince: null, attentionReason: null };
  }
  return {};
}

/** A status change on its own (one statement, atomic by itself). */
export function changeStatus(db: Db, change: StatusChange): Promise<ChangeOutcome> {
  return changeStatusInTx(db, change);
}

/**
 * Records something the provider said that does not move the status (a
 * repeated answer, a reversal after success, a contradiction of a final
 * status) so the timeline shows everything the provider ever told us.
 */
export async function noteProviderEvent(
  tx: Db | Tx,
  payoutId: string,
  current: PayoutStatus,
  source: TransitionSource,
  note: string,
  payload?: unknown,
): Promise<void> {
  await tx.payoutEvent.create({
    data: { payoutId, fromStatus: current, toStatus: current, source, note, payload: toJson(payload) },
  });
}

export type ProviderApplyOutcome =
  /** alsoWritten: the caller's `also` writes were made with the change (only a plain change makes them; otherwise the caller writes them). */
  | { kind: "changed"; from: PayoutStatus; to: PayoutStatus; alsoWritten?: boolean }
  | { kind: "unchanged"; current: PayoutStatus }
  | { kind: "not_found"; current: PayoutStatus }
  | { kind: "contradiction"; current: PayoutStatus }
  /** The payout has not been sent yet (waiting for approval or for a worker): nothing a provider says applies. */
  | { kind: "premature"; current: PayoutStatus };

/**
 * Applies what a provider said (response, callback or status query) through
 * the state machine. Final statuses never change again (but for a reversal of
 * a paid payout); a later different word from the provider is recorded as its
 * own event. Reads the status, then changes it only from that status: if it
 * moved meanwhile (a callback racing a status query), it reads again.
 *
 * `seen`: the status the caller read or wrote a moment ago (the sender's own
 * claim, the callback's lookup of the payout), used for the first try
 * instead of reading it again. It is no less safe than that read: every
 * change is made only from the status it was decided on (the statement
 * checks it under the row lock), and a miss reads afresh and tries again.
 */
export async function applyProviderResult(
  db: Db,
  payoutId: string,
  result: ProviderResult,
  source: Exclude<TransitionSource, "user">,
  seen?: PayoutStatus,
  also?: AlongsideChange,
): Promise<ProviderApplyOutcome> {
  for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
    const outcome = await applyOnce(db, payoutId, result, source, attempt === 0 ? seen : undefined, also);
    if (outcome) return outcome;
  }
  throw new Conflict("The payout kept changing while we applied the provider's answer; it will be checked again");
}

const MAX_RETRIES = 5;

/** One try; null when the payout moved between reading and writing. */
async function applyOnce(
  db: Db,
  payoutId: string,
  result: ProviderResult,
  source: Exclude<TransitionSource, "user">,
  seen: PayoutStatus | undefined,
  also: AlongsideChange | undefined,
): Promise<ProviderApplyOutcome | null> {
  const [payout] = seen
    ? [{ status: seen }]
    : UUID.test(payoutId)
      ? await rawRows<{ status: string }>(db, Prisma.sql`SELECT status::text AS status FROM "Payout" WHERE id = ${payoutId}::uuid`)
      : [];
  if (!payout) throw new NotFound(`Payout ${payoutId}`);
  const current = payout.status as PayoutStatus;
  const patch: StatusPatch = {
    ...(result.providerStatus !== undefined ? { providerStatus: result.providerStatus } : {}),
    ...(result.providerReference ? { providerReference: result.providerReference } : {}),
    ...bookedMoney(result),
  };

  if (current === "pending_approval" || current === "approved") {
    // Never sent, so nothing a provider says can be about it (a forged or
    // misdirected message): the state machine would refuse it; say so plainly.
    return { kind: "premature", current };
  }

  if (result.state === "reversed" && (current === "succeeded" || !isFinal(current))) {
    // Paid, then taken back. A payout the desk never saw paid passes through
    // succeeded first, so its history says what happened in order.
    return db.$transaction(async (tx) => {
      if (current !== "succeeded") {
        const paid = await changeStatusInTx(tx, {
          payoutId,
          to: "succeeded",
          from: [current],
          source,
          payload: result.raw,
          note: "The provider reports a reversal, so the payout had been paid",
          patch,
        });
        if (!paid.changed) return null;
      }
      const reversed = await changeStatusInTx(tx, {
        payoutId,
        to: "reversed",
        from: ["succeeded"],
        source,
        payload: result.raw,
        note: describeResult(result),
        patch: { ...patch, failureCode: result.failureCode ?? "REVERSED", failureMessage: result.failureMessage ?? null },
      });
      return reversed.changed ? ({ kind: "changed", from: current, to: "reversed" } as const) : null;
    });
  }

  if (isFinal(current)) {
    const agrees =
      (current === "succeeded" && result.state === "succeeded") ||
      (current === "failed" && result.state === "failed") ||
      (current === "reversed" && (result.state === "reversed" || result.state === "succeeded"));
    if (agrees) {
      // The same word again, but it may book money an earlier answer did not (a fee reported after the payout was paid).
      const money = bookedMoney(result);
      if (Object.keys(money).length > 0) await patchInStatus(db, payoutId, current, money);
      return { kind: "unchanged", current };
    }
    await noteProviderEvent(
      db,
      payoutId,
      current,
      source,
      `Provider now reports ${result.providerStatus ?? result.state} for a payout that is already ${current}; status kept`,
      result.raw,
    );
    return { kind: "contradiction", current };
  }

  if (result.state === "not_found") {
    await noteProviderEvent(db, payoutId, current, source, "Provider has no record of this payout", result.raw);
    return { kind: "not_found", current };
  }

  const target = targetStatus(current, result);
  if (!target) {
    // Same status again (e.g. still processing): keep the provider's words fresh, no event spam.
    if (Object.keys(patch).length > 0) {
      const kept = await patchInStatus(db, payoutId, current, patch);
      if (kept === 0) return null;
    }
    return { kind: "unchanged", current };
  }

  const failure =
    target === "failed" || target === "cancelled"
      ? { failureCode: result.failureCode ?? null, failureMessage: result.failureMessage ?? null }
      : {};
  const outcome = await changeStatusInTx(db, {
    payoutId,
    to: target,
    from: [current],
    source,
    payload: result.raw,
    note: describeResult(result),
    patch: { ...patch, ...failure },
    also,
  });
  if (!outcome.changed) return null;
  // A change made writes its `also` with it (changeRows), so the caller need not.
  return { kind: "changed", from: outcome.from, to: outcome.to, ...(also ? { alsoWritten: true } : {}) };
}

/**
 * The money a provider's answer books (fee, debit, conversion), as columns.
 * Only what the answer says is written: a later answer that says nothing of
 * the fee leaves the fee an earlier one reported.
 */
export function bookedMoney(result: ProviderResult): StatusPatch {
  return {
    ...(result.fee ? { feeMinor: result.fee.amountMinor, feeCurrency: result.fee.currency } : {}),
    ...(result.debited ? { debitedMinor: result.debited.amountMinor, debitedCurrency: result.debited.currency } : {}),
    ...(result.destination
      ? { destinationMinor: result.destination.amountMinor, destinationCurrency: result.destination.currency, fxRate: result.destination.rate ?? null }
      : {}),
  };
}

/** The status a provider result moves a payout to from `current`, or null for no move. */
export function targetStatus(current: PayoutStatus, result: ProviderResult): PayoutStatus | null {
  switch (result.state) {
    case "succeeded":
      return "succeeded";
    case "failed":
      return "failed";
    case "processing":
      return current === "processing" ? null : "processing";
    case "provider_pending_approval":
      return current === "provider_pending_approval" ? null : "provider_pending_approval";
    case "unknown":
      // Only a send in progress becomes unknown; a payout already known to be
      // in flight stays where it is when a later query cannot be answered.
      return current === "submitting" ? "unknown" : null;
    case "not_found":
      return null;
    case "reversed":
      // Handled before: a reversal moves succeeded → reversed, never a plain target.
      return null;
  }
}

function describeResult(result: ProviderResult): string | null {
  const parts = [result.providerStatus, result.failureCode, result.failureMessage].filter(Boolean);
  return parts.length ? parts.join(" · ") : null;
}

function toJson(value: unknown): Prisma.InputJsonValue | undefined {
  const text = toJsonText(value);
  return text === null ? undefined : JSON.parse(text);
}

/** Provider payloads are JSON already; bigint (ours) is written as a string. */
function toJsonText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}
