import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { decide, listPendingApprovals } from "@/server/services/approvals";
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
  reject: procedure(["approver"])
    .input(decision)
    .mutation(({ ctx, input }) => decide(ctx.desk, ctx.actor, { ...input, decision: "rejected" }, ctx.ip)),
});
