// Maker-checker decisions. Enforced here, on the server: the maker can never
// approve their own payout, whatever the browser shows or sends.
import { approvalRefusal, approvalsComplete, DEFAULT_APPROVAL_POLICY } from "@/server/domain/approval-policy";
import { payloadHash, payoutPayload, type PayoutPayload } from "@/server/domain/payout-payload";
import type { Prisma } from "@/server/db/generated/client";
import type { Actor, Desk } from "./types";
import { Conflict, FieldErrors, Forbidden, NotFound } from "./errors";
import { audit, auditMany } from "./audit";
import { changeStatusInTx, changeStatusManyInTx } from "./payout-status";

export interface DecisionInput {
  payoutId: string;
  decision: "approved" | "rejected";
  reason?: string | null;
}

export async function decide(desk: Desk, actor: Actor, input: DecisionInput, ip?: string) {
  const reason = input.reason?.trim() || null;
  if (input.decision === "rejected" && !reason) {
    throw new FieldErrors({ reason: "Give a reason for the rejection; the maker will see it" });
  }
  if (reason && reason.length > 500) throw new FieldErrors({ reason: "Keep the reason under 500 characters" });

  const result = await desk.db.$transaction(async (tx) => {
    const payout = await tx.payout.findUnique({
      where: { id: input.payoutId },
      include: { approvals: { where: { voidedAt: null }, select: { approverId: true, decision: true, round: true } } },
    });
    if (!payout) throw new NotFound("Payout");
    const refusal = approvalRefusal({
      approverId: actor.id,
      makerId: payout.createdById,
      status: payout.status,
      priorApproverIds: payout.approvals.map((a) => a.approverId),
    });
    if (refusal?.rule === "approval.own_payout") throw new Forbidden(refusal.message, refusal.rule);
    if (refusal) throw new Conflict(refusal.message);

    // What exactly is approved: the worker checks the row against this hash before sending.
    const payload = payoutPayload(payout);
    await tx.approval
      .create({
        data: {
          payoutId: payout.id,
          approverId: actor.id,
          decision: input.decision,
          reason,
          round: payout.approvalRound,
          payloadHash: payloadHash(payload),
          payload: payload as unknown as Prisma.InputJsonValue,
        },
      })
      .catch((error: { code?: string }) => {
        // The same approver's second click raced the first: one decision counts, the other is told so.
        if (error?.code === "P2002") throw new Conflict("You have already decided on this payout");
        throw error;
      });
    // The audit entry is the transaction's last write (see audit.ts: its lock is taken last).
    const recordDecision = () =>
      audit(tx, {
        actorId: actor.id,
        action: input.decision === "approved" ? "payout.approve" : "payout.reject",
        entityType: "payout",
        entityId: payout.id,
        details: reason ? { reason } : undefined,
        ip,
      });

    if (input.decision === "rejected") {
      const outcome = await changeStatusInTx(tx, {
        payoutId: payout.id,
        to: "rejected",
        from: ["pending_approval"],
        source: "user",
        actorId: actor.id,
        note: reason,
      });
      if (!outcome.changed) throw new Conflict(`This payout is ${outcome.current}; it was decided meanwhile`);
      await recordDecision();
      return { status: "rejected" as const };
    }

    const approvers = [...payout.approvals.filter((a) => a.decision === "approved").map((a) => a.approverId), actor.id];
    if (!approvalsComplete(DEFAULT_APPROVAL_POLICY, approvers)) {
      await recordDecision();
      return { status: "pending_approval" as const };
    }
    const outcome = await changeStatusInTx(tx, {
      payoutId: payout.id,
      to: "approved",
      from: ["pending_approval"],
      source: "user",
      actorId: actor.id,
      note: reason,
    });
    if (!outcome.changed) throw new Conflict(`This payout is ${outcome.current}; it was decided meanwhile`);
    await recordDecision();
    return { status: "approved" as const };
  });

  // The approval made the payout due (in the same transaction); this only
  // spares the workers their next poll.
  if (result.status === "approved") desk.jobs.wake();
  return result;
}

export interface BatchDecisionResult {
  /** Now approved: due for sending. */
  approved: string[];
  /** Approved by this person, still waiting for more approvals under the policy. */
  awaitingMore: string[];
  /** Not decided, each with the reason in words. */
  refused: Array<{ payoutId: string; reason: string }>;
}

/** At most this many payouts in one batch decision (one transaction). */
export const MAX_BATCH_DECISION = 500;

/**
 * Approves several payouts at once, in one transaction, under exactly the
 * rules of a single approval (the maker never approves their own; nobody
 * decides twice; only payouts waiting for approval). A payout that may not be
 * approved is named with the reason and the others go ahead.
 */
export async function approveMany(desk: Desk, actor: Actor, payoutIds: readonly string[], ip?: string): Promise<BatchDecisionResult> {
  const ids = [...new Set(payoutIds.map((id) => id.toLowerCase()))].sort();
  if (ids.length === 0) throw new FieldErrors({ payoutIds: "Choose at least one payout" });
  if (ids.length > MAX_BATCH_DECISION) throw new FieldErrors({ payoutIds: `${MAX_BATCH_DECISION} payouts at most in one decision; this has ${ids.length}` });
  const result: BatchDecisionResult = { approved: [], awaitingMore: [], refused: [] };

  await desk.db.$transaction(async (tx) => {
    // Locked in id order (two batches never deadlock), so nobody decides on them meanwhile.
    await tx.$queryRaw`SELECT id FROM "Payout" WHERE id::text = ANY(${ids}::text[]) ORDER BY id FOR UPDATE`;
    const payouts = new Map(
      (
        await tx.payout.findMany({
          where: { id: { in: ids } },
          include: { approvals: { where: { voidedAt: null }, select: { approverId: true, decision: true, round: true } } },
        })
      ).map((p) => [p.id, p]),
    );
    const deciding: Array<{ id: string; complete: boolean; round: number; payload: PayoutPayload }> = [];
    for (const id of ids) {
      const payout = payouts.get(id);
      if (!payout) {
        result.refused.push({ payoutId: id, reason: "No such payout" });
        continue;
      }
      const refusal = approvalRefusal({
        approverId: actor.id,
        makerId: payout.createdById,
        status: payout.status,
        priorApproverIds: payout.approvals.map((a) => a.approverId),
      });
      if (refusal) {
        result.refused.push({ payoutId: id, reason: refusal.message });
        continue;
      }
      const approvers = [...payout.approvals.filter((a) => a.decision === "approved").map((a) => a.approverId), actor.id];
      deciding.push({ id, complete: approvalsComplete(DEFAULT_APPROVAL_POLICY, approvers), round: payout.approvalRound, payload: payoutPayload(payout) });
    }
    if (deciding.length === 0) return;
    await tx.approval.createMany({
      data: deciding.map((d) => ({
        payoutId: d.id,
        approverId: actor.id,
        decision: "approved" as const,
        round: d.round,
        payloadHash: payloadHash(d.payload),
        payload: d.payload as unknown as Prisma.InputJsonValue,
      })),
    });
    result.awaitingMore.push(...deciding.filter((d) => !d.complete).map((d) => d.id));
    const complete = deciding.filter((d) => d.complete).map((d) => d.id);
    if (complete.length > 0) {
      // The rows are locked and were pending: no change here can lose a race.
      const moved = await changeStatusManyInTx(tx, complete, { to: "approved", from: ["pending_approval"], source: "user", actorId: actor.id, note: "Approved in a batch" });
      if (moved.unchanged.length > 0) throw new Conflict(`Payout ${moved.unchanged[0]!.payoutId} is ${moved.unchanged[0]!.current}; it was decided meanwhile`);
      result.approved.push(...moved.changed);
    }
    // Last write of the transaction (see audit.ts): one lock, one read and one insert for the whole batch.
    await auditMany(
      tx,
      deciding.map((d) => ({ actorId: actor.id, action: "payout.approve", entityType: "payout", entityId: d.id, details: { batch: deciding.length }, ip })),
    );
  });

  if (result.approved.length > 0) desk.jobs.wake();
  return result;
}

export async function listPendingApprovals(desk: Desk, actor: Actor) {
  const rows = await desk.db.payout.findMany({
    where: { status: "pending_approval" },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    take: 200,
    include: {
      connection: { select: { name: true } },
      createdBy: { select: { id: true, name: true } },
      approvals: { select: { approverId: true } },
    },
  });
  return rows.map((payout) => {
    const blockedBecause = decisionBlockedFor(actor, payout);
    return { payout, canDecide: blockedBecause === null, blockedBecause };
  });
}

/** Why this person may not approve or reject this payout now, or null when they may. */
export function decisionBlockedFor(
  actor: Actor,
  payout: { createdById: string; status: string; approvals: ReadonlyArray<{ approverId: string }> },
): string | null {
  if (actor.role !== "approver") return "Only approvers decide on payouts";
  const refusal = approvalRefusal({
    approverId: actor.id,
    makerId: payout.createdById,
    status: payout.status,
    priorApproverIds: payout.approvals.map((a) => a.approverId),
  });
  return refusal?.message ?? null;
}
