// Approving and rejecting payouts under the approval policy. Approvers and
// admins may call the decisions (a policy level may ask for admins); the
// service decides whether this person counts for this payout at all. Every
// decision asks for a fresh second factor first (step-up).
import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { requireRecentSecondFactor } from "@/server/auth/step-up";
import { approvalCard, approveMany, decide, listPendingApprovals, MAX_BATCH_DECISION, previewBatch } from "@/server/services/approvals";
import { procedure, router } from "../init";
import { text, uuid } from "../schemas";

const DECIDERS = ["approver", "admin"] as const;

const acknowledgement = {
  overBalance: z.boolean({ error: "Must be true or false" }).optional(),
  duplicates: z.array(uuid("Must be a payout id")).max(50, "50 payouts at most").optional(),
};

const decision = z.object({
  payoutId: uuid("Must be a payout id"),
  reason: text(500).nullish(),
});

const payoutIds = z
  .array(uuid("Must be a payout id"))
  .min(1, "Choose at least one payout")
  .max(MAX_BATCH_DECISION, `${MAX_BATCH_DECISION} payouts at most in one decision`);

export const approvalsRouter = router({
  /** The queue: payouts waiting for approval, each judged for the caller. */
  pending: procedure(ANY_ROLE).query(({ ctx }) => listPendingApprovals(ctx.desk, ctx.actor)),
  /** One payout's approval card (the payout page): its policy version, where it stands, the money, likely duplicates. */
  card: procedure(ANY_ROLE)
    .input(z.object({ payoutId: uuid("Must be a payout id") }))
    .query(({ ctx, input }) => approvalCard(ctx.desk, ctx.actor, input.payoutId)),
  /** What approving these together would do (levels, acknowledgements, totals), before doing it. */
  previewBatch: procedure(DECIDERS)
    .input(z.object({ payoutIds }))
    .query(({ ctx, input }) => previewBatch(ctx.desk, ctx.actor, input.payoutIds)),
  approve: procedure(DECIDERS)
    .input(decision.extend({ acknowledge: z.object(acknowledgement).optional() }))
    .mutation(async ({ ctx, input }) => {
      await requireRecentSecondFactor({ desk: ctx.desk, actor: ctx.actor, sessionId: ctx.sessionId });
      return decide(ctx.desk, ctx.actor, { ...input, decision: "approved" }, ctx.ip);
    }),
  /** Approve several payouts in one decision (one step-up); each is checked as a single approval would be. */
  approveMany: procedure(DECIDERS)
    .input(
      z.object({
        payoutIds,
        acknowledgements: z
          .array(z.object({ payoutId: uuid("Must be a payout id"), ...acknowledgement }))
          .max(MAX_BATCH_DECISION, `${MAX_BATCH_DECISION} acknowledgements at most`)
          .optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await requireRecentSecondFactor({ desk: ctx.desk, actor: ctx.actor, sessionId: ctx.sessionId });
      return approveMany(ctx.desk, ctx.actor, input.payoutIds, ctx.ip, input.acknowledgements ?? []);
    }),
  reject: procedure(DECIDERS)
    .input(decision)
    .mutation(async ({ ctx, input }) => {
      await requireRecentSecondFactor({ desk: ctx.desk, actor: ctx.actor, sessionId: ctx.sessionId });
      return decide(ctx.desk, ctx.actor, { ...input, decision: "rejected" }, ctx.ip);
    }),
});
