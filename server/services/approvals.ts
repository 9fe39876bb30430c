// Maker-checker decisions. Enforced here, on the server: the maker can never
// approve their own payout, whatever the browser shows or sends.
import { approvalRefusal, approvalsComplete, DEFAULT_APPROVAL_POLICY } from "@/server/domain/approval-policy";
import type { Actor, Desk } from "./types";
import { Conflict, FieldErrors, Forbidden, NotFound } from "./errors";
import { audit } from "./audit";
import { changeStatusInTx } from "./payout-status";

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
      select: { id: true, createdById: true, status: true, approvals: { select: { approverId: true, decision: true } } },
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

    await tx.approval
      .create({ data: { payoutId: payout.id, approverId: actor.id, decision: input.decision, reason } })
      .catch((error: { code?: string }) => {
        // The same approver's second click raced the first: one decision counts, the other is told so.
        if (error?.code === "P2002") throw new Conflict("You have already decided on this payout");
        throw error;
      });
    await audit(tx, {
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
      return { status: "rejected" as const };
    }

    const approvers = [...payout.approvals.filter((a) => a.decision === "approved").map((a) => a.approverId), actor.id];
    if (!approvalsComplete(DEFAULT_APPROVAL_POLICY, approvers)) return { status: "pending_approval" as const };
    const outcome = await changeStatusInTx(tx, {
      payoutId: payout.id,
      to: "approved",
      from: ["pending_approval"],
      source: "user",
      actorId: actor.id,
      note: reason,
    });
    if (!outcome.changed) throw new Conflict(`This payout is ${outcome.current}; it was decided meanwhile`);
    return { status: "approved" as const };
  });

  // The approval made the payout due (in the same transaction); this only
  // spares the workers their next poll.
  if (result.status === "approved") desk.jobs.wake();
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
