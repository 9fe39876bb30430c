// The one place a payout's status changes. Each change runs in a database
// transaction that also appends the PayoutEvent, is checked against the
// domain state machine, and is guarded by the payout's version so that two
// workers (or a callback racing a status query) cannot both apply a change.
import type { Prisma } from "@/server/db/generated/client";
import { assertTransition, isFinal, type PayoutStatus, type TransitionSource } from "@/server/domain/payout-state";
import type { ProviderResult } from "@/server/connectors/types";
import type { Db, Tx } from "./types";
import { Conflict, NotFound } from "./errors";

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
  patch?: Prisma.PayoutUncheckedUpdateManyInput;
}

export type ChangeOutcome =
  | { changed: true; from: PayoutStatus; to: PayoutStatus; version: number }
  | { changed: false; current: PayoutStatus; reason: string };

const MAX_RETRIES = 5;

/**
 * Applies one status change inside `tx`. Returns changed:false (never throws)
 * when the payout is no longer in a state the caller expected, so callers
 * decide what a lost race means for them.
 */
export async function changeStatusInTx(tx: Tx, change: StatusChange): Promise<ChangeOutcome> {
  for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
    const payout = await tx.payout.findUnique({
      where: { id: change.payoutId },
      select: { status: true, version: true },
    });
    if (!payout) throw new NotFound(`Payout ${change.payoutId}`);
    const from = payout.status as PayoutStatus;
    if (change.from && !change.from.includes(from)) {
      return { changed: false, current: from, reason: `payout is ${from}` };
    }
    assertTransition(from, change.to);
    const now = new Date();
    const updated = await tx.payout.updateMany({
      where: { id: change.payoutId, version: payout.version },
      data: {
        ...change.patch,
        status: change.to,
        version: { increment: 1 },
        ...workFor(change.to, now),
      },
    });
    if (updated.count === 0) continue; // someone else moved it: read again
    await tx.payoutEvent.create({
      data: {
        payoutId: change.payoutId,
        fromStatus: from,
        toStatus: change.to,
        source: change.source,
        actorId: change.actorId ?? null,
        note: change.note ?? null,
        payload: toJson(change.payload),
        at: now,
      },
    });
    return { changed: true, from, to: change.to, version: payout.version + 1 };
  }
  throw new Conflict("The payout kept changing while we tried to update it; try again");
}

/**
 * What the work queue (the payout row itself, see payout-work.ts) must know
 * of a new status: an approved payout is due for sending now; a final one is
 * owed nothing more, so no status check of it is ever made, and whoever
 * holds it lets go. Written with the status, so the two never disagree.
 */
function workFor(to: PayoutStatus, now: Date): Prisma.PayoutUncheckedUpdateManyInput {
  if (to === "approved") return { dueAt: now, approvedAt: now, checkAttempt: 0 };
  if (isFinal(to)) {
    // A reversal keeps the payout's original finalisation time: it was final when paid.
    const finalised = to === "reversed" ? {} : { finalizedAt: now };
    return { ...finalised, dueAt: null, leaseOwner: null, leaseUntil: null, attentionSince: null, attentionReason: null };
  }
  return {};
}

/** changeStatusInTx in its own transaction. */
export function changeStatus(db: Db, change: StatusChange): Promise<ChangeOutcome> {
  return db.$transaction((tx) => changeStatusInTx(tx, change));
}

/**
 * Records something the provider said that does not move the status (a
 * repeated answer, a reversal after success, a contradiction of a final
 * status) so the timeline shows everything the provider ever told us.
 */
export async function noteProviderEvent(
  tx: Tx,
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
  | { kind: "changed"; from: PayoutStatus; to: PayoutStatus }
  | { kind: "unchanged"; current: PayoutStatus }
  | { kind: "not_found"; current: PayoutStatus }
  | { kind: "contradiction"; current: PayoutStatus }
  /** The payout has not been sent yet (waiting for approval or for a worker): nothing a provider says applies. */
  | { kind: "premature"; current: PayoutStatus };

/**
 * Applies what a provider said (response, callback or status query) through
 * the state machine. Final statuses never change again; a later different
 * word from the provider is recorded as its own event and flagged.
 */
export async function applyProviderResult(
  db: Db,
  payoutId: string,
  result: ProviderResult,
  source: Exclude<TransitionSource, "user">,
): Promise<ProviderApplyOutcome> {
  return db.$transaction(async (tx) => {
    const payout = await tx.payout.findUnique({ where: { id: payoutId }, select: { status: true } });
    if (!payout) throw new NotFound(`Payout ${payoutId}`);
    const current = payout.status as PayoutStatus;
    const patch: Prisma.PayoutUncheckedUpdateManyInput = {
      ...(result.providerStatus !== undefined ? { providerStatus: result.providerStatus } : {}),
      ...(result.providerReference ? { providerReference: result.providerReference } : {}),
    };
    const target = targetStatus(current, result);

    if (current === "pending_approval" || current === "approved") {
      // Never sent, so nothing a provider says can be about it (a forged or
      // misdirected message): the state machine would refuse it; say so plainly.
      return { kind: "premature", current } as const;
    }

    if (result.state === "reversed" && (current === "succeeded" || !isFinal(current))) {
      // Paid, then taken back. A payout the desk never saw paid passes through
      // succeeded first, so its history says what happened in order.
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
        if (!paid.changed) return { kind: "unchanged", current: paid.current } as const;
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
      return reversed.changed
        ? ({ kind: "changed", from: current, to: "reversed" } as const)
        : ({ kind: "unchanged", current: reversed.current } as const);
    }

    if (isFinal(current)) {
      const agrees =
        (current === "succeeded" && result.state === "succeeded") ||
        (current === "failed" && result.state === "failed") ||
        (current === "reversed" && (result.state === "reversed" || result.state === "succeeded"));
      if (agrees) return { kind: "unchanged", current } as const;
      await noteProviderEvent(
        tx,
        payoutId,
        current,
        source,
        `Provider now reports ${result.providerStatus ?? result.state} for a payout that is already ${current}; status kept`,
        result.raw,
      );
      return { kind: "contradiction", current } as const;
    }

    if (result.state === "not_found") {
      await noteProviderEvent(tx, payoutId, current, source, "Provider has no record of this payout", result.raw);
      return { kind: "not_found", current } as const;
    }

    if (!target) {
      // Same status again (e.g. still processing): keep the provider's words fresh, no event spam.
      if (Object.keys(patch).length > 0) await tx.payout.update({ where: { id: payoutId }, data: patch });
      return { kind: "unchanged", current } as const;
    }

    const failure =
      target === "failed" || target === "cancelled"
        ? { failureCode: result.failureCode ?? null, failureMessage: result.failureMessage ?? null }
        : {};
    const outcome = await changeStatusInTx(tx, {
      payoutId,
      to: target,
      from: [current],
      source,
      payload: result.raw,
      note: describeResult(result),
      patch: { ...patch, ...failure },
    });
    return outcome.changed
      ? ({ kind: "changed", from: outcome.from, to: outcome.to } as const)
      : ({ kind: "unchanged", current: outcome.current } as const);
  });
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
  if (value === undefined || value === null) return undefined;
  // Provider payloads are JSON already; bigint (ours) is written as a string.
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}
