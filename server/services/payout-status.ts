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
        ...(isFinal(change.to) ? { finalizedAt: now, attentionSince: null } : {}),
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
  | { kind: "contradiction"; current: PayoutStatus };

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

    if (isFinal(current)) {
      const agrees =
        (current === "succeeded" && result.state === "succeeded") || (current === "failed" && result.state === "failed");
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
