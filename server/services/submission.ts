// Getting an approved payout to a final status, safely.
//
// The payout id is the provider's idempotency key. A send whose outcome we
// did not learn (timeout, 5xx, crash between sending and recording) leaves
// the payout `unknown`, never `failed`; a status query resolves it, and it is
// resent — with the same id — only when the provider says it never saw it.
import type { Payout } from "@/server/db/generated/client";
import type { PayoutRequest } from "@/server/connectors/types";
import { IN_FLIGHT_STATUSES, isFinal, type PayoutStatus } from "@/server/domain/payout-state";
import type { Desk } from "./types";
import { applyProviderResult, changeStatus, noteProviderEvent } from "./payout-status";
import { openConnector } from "./connections";
import { DEFAULT_POLL_DELAYS_SECONDS, pollDelaysFor } from "@/server/connectors/registry";
import type { ProviderKind } from "@/server/connectors/types";

/** Delay before the n-th status check of a payout still in flight (seconds), on the provider's schedule. */
export function statusCheckDelay(attempt: number, schedule: readonly number[] = DEFAULT_POLL_DELAYS_SECONDS): number {
  return schedule[Math.min(attempt, schedule.length - 1)]!;
}

export function payoutRequest(payout: Payout): PayoutRequest {
  return {
    payoutId: payout.id,
    amountMinor: payout.amountMinor,
    currency: payout.currency,
    recipient: {
      phone: payout.recipientPhone,
      name: payout.recipientName,
      country: payout.recipientCountry,
      accountNumber: payout.recipientAccount,
      details: (payout.recipientDetails as Record<string, string> | null) ?? null,
    },
    channel: payout.channel,
    description: payout.description,
    createdAt: payout.createdAt,
    providerReference: payout.providerReference,
  };
}

/**
 * The submit job. Claims the payout (approved → submitting) so that only one
 * worker ever sends it, sends it, and records what the provider said.
 */
export async function submitPayout(desk: Desk, payoutId: string): Promise<PayoutStatus> {
  const claim = await changeStatus(desk.db, {
    payoutId,
    to: "submitting",
    from: ["approved"],
    source: "system",
    note: "Sending to the provider",
    patch: { submittedAt: new Date() },
  });
  if (!claim.changed) return claim.current; // already claimed, sent or cancelled
  return send(desk, payoutId, { firstAttempt: true });
}

async function send(desk: Desk, payoutId: string, opts: { firstAttempt: boolean }): Promise<PayoutStatus> {
  const payout = await desk.db.payout.findUniqueOrThrow({ where: { id: payoutId }, include: { connection: true } });
  const connector = openConnector(desk, payout.connection, payout.id);
  let result;
  try {
    result = await connector.submit({ ...payoutRequest(payout), firstAttempt: opts.firstAttempt });
  } catch (error) {
    // Connectors report transport faults as `unknown`; anything thrown is a
    // bug on our side, and the request may still have left: treat as unknown.
    result = { state: "unknown" as const, failureMessage: `Connector error: ${(error as Error).message}` };
  }
  await applyProviderResult(desk.db, payoutId, result, "provider_response");
  return scheduleFollowUp(desk, payoutId, 0);
}

/** Queues the next status check for a payout still in flight. */
async function scheduleFollowUp(desk: Desk, payoutId: string, attempt: number): Promise<PayoutStatus> {
  const { status, connection } = await desk.db.payout.findUniqueOrThrow({
    where: { id: payoutId },
    select: { status: true, connection: { select: { provider: true } } },
  });
  if (!isFinal(status)) {
    const delaySeconds = statusCheckDelay(attempt, pollDelaysFor(connection.provider as ProviderKind));
    await desk.jobs.checkStatus(payoutId, { delaySeconds, attempt: attempt + 1 });
  }
  return status;
}

/** The status job: asks the provider, applies the answer, resends only if the provider never saw it. */
export async function checkPayoutStatus(desk: Desk, payoutId: string, attempt = 0): Promise<PayoutStatus> {
  const payout = await desk.db.payout.findUnique({ where: { id: payoutId }, include: { connection: true } });
  if (!payout) return "cancelled";
  const status = payout.status as PayoutStatus;
  if (isFinal(status) || status === "pending_approval") return status;
  if (status === "approved") {
    await desk.jobs.submitPayout(payoutId);
    return status;
  }
  if (status === "submitting") {
    const staleAfterMs = (desk.submittingStaleSeconds ?? 120) * 1000;
    if (Date.now() - payout.updatedAt.getTime() < staleAfterMs) return scheduleFollowUp(desk, payoutId, attempt);
    // The worker that claimed it stopped before recording an answer.
    await changeStatus(desk.db, {
      payoutId,
      to: "unknown",
      from: ["submitting"],
      source: "system",
      note: "The send was not recorded (the worker stopped); asking the provider",
    });
  }

  const connector = openConnector(desk, payout.connection, payout.id);
  if (!connector.capabilities.statusQuery) return scheduleFollowUp(desk, payoutId, attempt);
  let result;
  try {
    // The whole request: a provider that can only be asked by its own reference (PontisGlobe) finds it by resending with the same idempotency key.
    result = await connector.status(payoutRequest(payout));
  } catch (error) {
    result = { state: "unknown" as const, failureMessage: (error as Error).message };
  }

  if (result.state === "not_found") {
    const current = (await desk.db.payout.findUniqueOrThrow({ where: { id: payoutId }, select: { status: true } })).status;
    if (current === "unknown") {
      const resend = await changeStatus(desk.db, {
        payoutId,
        to: "submitting",
        from: ["unknown"],
        source: "status_query",
        note: "The provider has no record of this payout; sending again with the same id",
        payload: result.raw,
      });
      if (resend.changed) return send(desk, payoutId, { firstAttempt: false });
    } else if (!isFinal(current)) {
      await desk.db.$transaction((tx) =>
        noteProviderEvent(tx, payoutId, current, "status_query", "The provider says it has no record of this payout; still checking", result.raw),
      );
    }
    return scheduleFollowUp(desk, payoutId, attempt);
  }

  await applyProviderResult(desk.db, payoutId, result, "status_query");
  return scheduleFollowUp(desk, payoutId, attempt);
}

/**
 * Periodic safety net: re-queues approved payouts whose submit job was lost,
 * and asks about payouts stuck in flight. Jobs are de-duplicated per payout,
 * so running this often is harmless.
 */
export async function sweep(desk: Desk): Promise<{ submits: number; checks: number; flagged: number }> {
  const now = Date.now();
  const approved = await desk.db.payout.findMany({
    where: { status: "approved", updatedAt: { lt: new Date(now - 30_000) } },
    select: { id: true },
    take: 500,
  });
  for (const p of approved) await desk.jobs.submitPayout(p.id);
  const inFlight = await desk.db.payout.findMany({
    where: {
      OR: [
        { status: "submitting", updatedAt: { lt: new Date(now - (desk.submittingStaleSeconds ?? 120) * 1000) } },
        { status: { in: ["unknown", "processing", "provider_pending_approval"] }, updatedAt: { lt: new Date(now - 10 * 60_000) } },
      ],
    },
    select: { id: true },
    take: 500,
  });
  for (const p of inFlight) await desk.jobs.checkStatus(p.id, { delaySeconds: 0, attempt: 4 });
  const flagged = await flagStuckPayouts(desk, new Date(now));
  return { submits: approved.length, checks: inFlight.length, flagged };
}

/**
 * Flags payouts that have been with the provider longer than the desk's stuck
 * age, so a person looks at them; the flag clears when the payout is final.
 */
export async function flagStuckPayouts(desk: Desk, now = new Date()): Promise<number> {
  const before = new Date(now.getTime() - desk.config.stuckAfterMinutes * 60_000);
  const stuck = await desk.db.payout.findMany({
    where: { status: { in: [...IN_FLIGHT_STATUSES] }, attentionSince: null, submittedAt: { lt: before } },
    select: { id: true, status: true },
    take: 500,
  });
  for (const payout of stuck) {
    await desk.db.$transaction(async (tx) => {
      const updated = await tx.payout.updateMany({ where: { id: payout.id, attentionSince: null }, data: { attentionSince: now } });
      if (updated.count === 1) {
        await noteProviderEvent(tx, payout.id, payout.status as PayoutStatus, "system", `In flight for more than ${desk.config.stuckAfterMinutes} minutes: flagged for attention`);
      }
    });
  }
  return stuck.length;
}
