// Getting an approved payout to a final status, safely.
//
// The payout id is the provider's idempotency key. A send whose outcome we
// did not learn (timeout, 5xx, crash between sending and recording) leaves
// the payout `unknown`, never `failed`; a status query resolves it, and it is
// resent — with the same id — only when the provider says it never saw it.
import type { PayoutRequest, ProviderCallRecord } from "@/server/connectors/types";
import { isFinal, type PayoutStatus } from "@/server/domain/payout-state";
import type { Desk } from "./types";
import { applyProviderResult, changeStatus, changeStatusInTx, changeStatusManyInTx, noteProviderEvent, type StatusChange } from "./payout-status";
import { audit } from "./audit";
import { changedPayloadFields, PAYLOAD_FIELD_LABELS, payloadHash, payoutPayload, type PayoutPayload } from "@/server/domain/payout-payload";
import { openConnector, recentConnection } from "./connections";
import { DEFAULT_POLL_DELAYS_SECONDS, pollDelaysFor } from "@/server/connectors/registry";
import type { ProviderKind } from "@/server/connectors/types";
import { finishWork, LEASE_SECONDS, type ApprovedRow, type DueWork, type SendablePayout } from "./payout-work";
import { recordCalls } from "./provider-calls";

/** Delay before the n-th status check of a payout still in flight (seconds), on the provider's schedule. */
export function statusCheckDelay(attempt: number, schedule: readonly number[] = DEFAULT_POLL_DELAYS_SECONDS): number {
  return schedule[Math.min(attempt, schedule.length - 1)]!;
}

export function payoutRequest(payout: SendablePayout): PayoutRequest {
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
 * Who acts on a payout, and the due time they saw when they took it. The
 * dispatcher passes its own; a direct call (a test, a person's "check now")
 * acts as this process.
 */
export interface WorkContext {
  owner: string;
  seenDueAt: Date | null;
}

const DIRECT_OWNER = `direct:${process.pid}`;

/** Seconds before a payout whose work failed on our side (database trouble, a bug) is tried again. */
const RETRY_AFTER_ERROR_SECONDS = 10;

/**
 * The dispatcher's one entry: acts on a payout it took from the queue,
 * according to the status it had when taken.
 */
export async function workOnPayout(desk: Desk, work: DueWork, owner: string, claimedVersion?: number): Promise<PayoutStatus> {
  const ctx: WorkContext = { owner, seenDueAt: work.dueAt };
  try {
    switch (work.status) {
      case "approved":
        if (claimedVersion !== undefined && work.approved) {
          // Claimed with the others taken with it (claimTaken).
          return await send(desk, work.id, { firstAttempt: true }, ctx, unchangedSince(work.approved.payout, claimedVersion));
        }
        return await submitPayout(desk, work.id, ctx, work.approved);
      case "submitting":
      case "processing":
      case "provider_pending_approval":
      case "unknown":
        // A payout taken while `submitting` is one whose sender's lease ran out: that worker died.
        return await checkPayoutStatus(desk, work.id, work.checkAttempt, ctx);
      default:
        await finishWork(desk.db, { id: work.id, owner, seenDueAt: work.dueAt, next: new Date(), checkAttempt: work.checkAttempt });
        return work.status;
    }
  } catch (error) {
    // Let go so the payout is taken up again soon; the safe path on a retry is
    // decided by its status (a `submitting` payout is asked about, never resent blindly).
    await finishWork(desk.db, {
      id: work.id,
      owner,
      seenDueAt: work.dueAt,
      next: new Date(Date.now() + RETRY_AFTER_ERROR_SECONDS * 1000),
      checkAttempt: work.checkAttempt,
    }).catch(() => undefined);
    throw error;
  }
}

/**
 * Sends an approved payout. Claims it first (approved → submitting, under the
 * payout's version) so that only one worker ever sends it, sends it, records
 * what the provider said, and sets when to ask about it next.
 */
export async function submitPayout(desk: Desk, payoutId: string, ctx?: WorkContext, taken?: DueWork["approved"]): Promise<PayoutStatus> {
  const work = ctx ?? (await directContext(desk, payoutId));
  // The row the worker took, when it passes the check as it stands; else (or with none) read and checked afresh, which voids what changed.
  const checked = taken && approvalsStand(taken.payout, taken.approvals) ? { ok: true, payout: taken.payout } : await stillAsApproved(desk, payoutId);
  if (!checked.ok) {
    await finishWork(desk.db, { id: payoutId, owner: work.owner, seenDueAt: work.seenDueAt, next: new Date(), checkAttempt: 0 });
    return "pending_approval";
  }
  const claim = await changeStatus(desk.db, { payoutId, ...claimChange(work.owner) });
  if (!claim.changed) {
    // Already claimed, sent, or withdrawn: nothing to send. Let go of it if it is ours.
    await finishWork(desk.db, { id: payoutId, owner: work.owner, seenDueAt: work.seenDueAt, next: new Date(Date.now() + 5_000), checkAttempt: 0 });
    return claim.current;
  }
  return send(desk, payoutId, { firstAttempt: true }, work, checked.payout ? unchangedSince(checked.payout, claim.version) : undefined);
}

/** The row read for the approval check, to send, when the claim was the only change since (its version says so); else none (send reads it afresh). */
function unchangedSince(read: ApprovedRow, versionAfterClaim: number): ApprovedRow | undefined {
  return versionAfterClaim === read.version + 1 ? read : undefined;
}

/**
 * The check of stillAsApproved on a row in hand, without writing anything:
 * approved, with an approval standing in its round, every one of them of the
 * payload the row holds now.
 */
function approvalsStand(payout: ApprovedRow, approvals: ReadonlyArray<{ round: number; payloadHash: string | null }>): boolean {
  if (payout.status !== "approved") return false;
  const live = approvals.filter((a) => a.round === payout.approvalRound);
  if (live.length === 0) return false;
  const hash = payloadHash(payoutPayload(payout));
  return live.every((a) => a.payloadHash === null || a.payloadHash === hash);
}

/** The claim: approved → submitting, held by `owner` while it sends. */
function claimChange(owner: string): Omit<StatusChange, "payoutId"> {
  return {
    to: "submitting",
    from: ["approved"],
    source: "system",
    note: "Sending to the provider",
    patch: {
      submittedAt: new Date(),
      leaseOwner: owner,
      leaseUntil: new Date(Date.now() + LEASE_SECONDS * 1000),
      // The only flag an approved payout can carry is "not sent"; it is being sent now.
      attentionSince: null,
      attentionReason: null,
    },
  };
}

/**
 * Claims in one statement the approved payouts a worker has just taken
 * (rather than one statement each as it sends them): those whose rows, as
 * taken, pass the approval check; the others go the whole way through
 * submitPayout, which reads and checks them afresh. Answers each claimed
 * payout's version after its claim, for workOnPayout.
 */
export async function claimTaken(desk: Desk, works: readonly DueWork[], owner: string): Promise<Map<string, number>> {
  const ready = works.filter((w) => w.status === "approved" && w.approved && approvalsStand(w.approved.payout, w.approved.approvals));
  if (ready.length === 0) return new Map();
  return (await changeStatusManyInTx(desk.db, ready.map((w) => w.id), claimChange(owner))).versions;
}

/**
 * Before the first send: is the payout still exactly what its approvers
 * approved? Each approval holds the hash of the payload it approved; if the
 * row now hashes differently, the round's approvals are void and the payout
 * goes back to waiting for approval, with an event naming what changed.
 * Answers whether it may be sent, and the row it read (to send, when nothing
 * but the claim changed it since). (Approvals from before payloads were hashed carry none and are not checked.)
 */
async function stillAsApproved(desk: Desk, payoutId: string): Promise<{ ok: boolean; payout: ApprovedRow | null }> {
  const read = await desk.db.payout.findUnique({
    where: { id: payoutId },
    include: { approvals: { where: { decision: "approved", voidedAt: null } } },
  });
  if (!read || read.status !== "approved") return { ok: true, payout: null }; // the claim decides
  const { approvals, ...payout } = read;
  if (approvalsStand(payout, approvals)) return { ok: true, payout };
  // Not sent: say why, and void what no longer stands.
  const current = payoutPayload(payout);
  const hash = payloadHash(current);
  const live = approvals.filter((a) => a.round === payout.approvalRound);
  const differing = live.filter((a) => a.payloadHash !== null && a.payloadHash !== hash);
  // Approved with no approval standing in its round (a status set behind the desk's back): never sent on that.
  const unapproved = live.length === 0;
  const changed = [
    ...new Set(differing.flatMap((a) => (a.payload ? changedPayloadFields(a.payload as unknown as PayoutPayload, current) : ["amountMinor" as const]))),
  ];
  const words = changed.map((field) => PAYLOAD_FIELD_LABELS[field]).join(", ");
  const reason = unapproved
    ? "Marked approved without an approval standing in its current round: not sent; it waits for approval"
    : `Changed since it was approved (${words}): not sent; the approvals are void and it waits for approval again`;
  await desk.db.$transaction(async (tx) => {
    const moved = await changeStatusInTx(tx, {
      payoutId,
      to: "pending_approval",
      from: ["approved"],
      source: "system",
      note: reason,
      payload: { changedFields: changed, approvedHash: differing[0]?.payloadHash ?? null, currentHash: hash },
    });
    if (!moved.changed) return;
    const now = new Date();
    await tx.approval.updateMany({ where: { payoutId, round: payout.approvalRound, voidedAt: null }, data: { voidedAt: now, voidReason: reason } });
    await tx.payout.update({ where: { id: payoutId }, data: { approvalRound: { increment: 1 } } });
    await audit(tx, {
      actorId: null,
      action: "payout.approvals_voided",
      entityType: "payout",
      entityId: payoutId,
      details: { changedFields: changed, reason: unapproved ? "approved without a standing approval" : "payload changed after approval" },
    });
  });
  console.error(`[jobs] payout ${payoutId}: ${reason}`);
  return { ok: false, payout: null };
}

async function send(desk: Desk, payoutId: string, opts: { firstAttempt: boolean }, work: WorkContext, read?: SendablePayout): Promise<PayoutStatus> {
  const payout = read ?? (await desk.db.payout.findUniqueOrThrow({ where: { id: payoutId } }));
  const connection = await recentConnection(desk, payout.connectionId);
  if (!connection) throw new Error(`Connection ${payout.connectionId} of payout ${payoutId} is gone`);
  const provider = connection.provider as ProviderKind;
  // The calls are written with the status their answer leads to (or on their own, below, if that change is not made).
  const calls: ProviderCallRecord[] = [];
  const connector = openConnector(desk, connection, payout.id, calls);
  let result;
  try {
    result = await connector.submit({ ...payoutRequest(payout), firstAttempt: opts.firstAttempt });
  } catch (error) {
    // Connectors report transport faults as `unknown`; anything thrown is a
    // bug on our side, and the request may still have left: treat as unknown.
    result = { state: "unknown" as const, failureMessage: `Connector error: ${(error as Error).message}` };
  }
  let written = false;
  try {
    // Sent under our claim, so it is `submitting` unless a callback has already moved it (then the change misses and reads again).
    // The change also lets go of the payout, due for its first status check: what followUp would write next, in the same statement.
    const outcome = await applyProviderResult(desk.db, payoutId, result, "provider_response", "submitting", {
      calls: { connectionId: connection.id, payoutId, records: calls },
      release: { owner: work.owner, seenDueAt: work.seenDueAt, next: nextCheckAt(provider, 0), checkAttempt: 1, checked: false },
    });
    if (outcome.kind === "changed" && outcome.alsoWritten) {
      written = true;
      return outcome.to;
    }
  } finally {
    if (!written) await recordCalls(desk.db, { connectionId: connection.id, payoutId, records: calls });
  }
  return followUp(desk, payoutId, provider, 0, work, false);
}

/** When the status check after `attempt` checks is due, on the provider's backoff schedule. */
function nextCheckAt(provider: ProviderKind, attempt: number): Date {
  return new Date(Date.now() + statusCheckDelay(attempt, pollDelaysFor(provider)) * 1000);
}

/** Sets when to ask the provider next (on its backoff schedule) and lets go of the payout; answers its status now. */
async function followUp(desk: Desk, payoutId: string, provider: ProviderKind, attempt: number, work: WorkContext, checked: boolean): Promise<PayoutStatus> {
  return finishWork(desk.db, {
    id: payoutId,
    owner: work.owner,
    seenDueAt: work.seenDueAt,
    next: nextCheckAt(provider, attempt),
    checkAttempt: attempt + 1,
    checked,
  });
}

/** The status check: asks the provider, applies the answer, resends only if the provider never saw it. */
export async function checkPayoutStatus(desk: Desk, payoutId: string, attempt?: number, ctx?: WorkContext): Promise<PayoutStatus> {
  const payout = await desk.db.payout.findUnique({ where: { id: payoutId }, include: { connection: true } });
  if (!payout) return "cancelled";
  const work = ctx ?? { owner: DIRECT_OWNER, seenDueAt: payout.dueAt };
  const tries = attempt ?? payout.checkAttempt;
  const provider = payout.connection.provider as ProviderKind;
  const status = payout.status as PayoutStatus;
  if (isFinal(status) || status === "pending_approval") {
    await finishWork(desk.db, { id: payoutId, owner: work.owner, seenDueAt: work.seenDueAt, next: new Date(), checkAttempt: tries });
    return status;
  }
  if (status === "approved") return submitPayout(desk, payoutId, work);
  if (status === "submitting") {
    const heldByAnother = payout.leaseOwner !== null && payout.leaseOwner !== work.owner && payout.leaseUntil !== null && payout.leaseUntil > new Date();
    if (heldByAnother) return status; // a live worker is sending it right now
    // The worker that claimed it stopped before recording an answer (its lease ran out).
    await changeStatus(desk.db, {
      payoutId,
      to: "unknown",
      from: ["submitting"],
      source: "system",
      note: "The send was not recorded (the worker stopped); asking the provider",
    });
  }

  const connector = openConnector(desk, payout.connection, payout.id);
  if (!connector.capabilities.statusQuery) return followUp(desk, payoutId, provider, tries, work, true);
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
        patch: { leaseOwner: work.owner, leaseUntil: new Date(Date.now() + LEASE_SECONDS * 1000) },
      });
      if (resend.changed) return send(desk, payoutId, { firstAttempt: false }, work);
    } else if (!isFinal(current)) {
      await desk.db.$transaction((tx) =>
        noteProviderEvent(tx, payoutId, current, "status_query", "The provider says it has no record of this payout; still checking", result.raw),
      );
    }
    return followUp(desk, payoutId, provider, tries, work, true);
  }

  await applyProviderResult(desk.db, payoutId, result, "status_query");
  return followUp(desk, payoutId, provider, tries, work, true);
}

async function directContext(desk: Desk, payoutId: string): Promise<WorkContext> {
  const payout = await desk.db.payout.findUnique({ where: { id: payoutId }, select: { dueAt: true } });
  return { owner: DIRECT_OWNER, seenDueAt: payout?.dueAt ?? null };
}
