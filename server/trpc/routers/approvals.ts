import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { approveMany, decide, listPendingApprovals, MAX_BATCH_DECISION } from "@/server/services/approvals";
import { procedure, router } from "../init";
import { text, uuid } from "../schemas";

const decision = z.object({
  payoutId: uuid("Must be a payout id"),
  reason: text(500).nullish(),
});

export const approvalsRouter = router({
  pending: procedure(ANY_ROLE).query(({ ctx }) => listPendingApprovals(ctx.desk, ctx.actor)),
  approve: procedure(["approver"])
    .input(decision)
    .mutation(({ ctx, input }) => decide(ctx.desk, ctx.actor, { ...input, decision: "approved" }, ctx.ip)),
  /** Approve several payouts in one decision; each is checked as a single approval would be. */
  approveMany: procedure(["approver"])
    .input(z.object({ payoutIds: z.array(uuid("Must be a payout id")).min(1, "Choose at least one payout").max(MAX_BATCH_DECISION, `${MAX_BATCH_DECISION} payouts at most in one decision`) }))
    .mutation(({ ctx, input }) => approveMany(ctx.desk, ctx.actor, input.payoutIds, ctx.ip)),
  reject: procedure(["approver"])
    .input(decision)
    .mutation(({ ctx, input }) => decide(ctx.desk, ctx.actor, { ...input, decision: "rejected" }, ctx.ip)),
});
