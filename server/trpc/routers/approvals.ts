// Approving and rejecting payouts under the approval policy. Approvers and
// admins may call the decisions (a policy level may ask for admins); the
// service decides whether this person counts for this payout at all. Every
// decision asks for a fresh second factor first (step-up).
import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { requireRecentSecondFactor } from "@/server/auth/step-up";
import { approvalCard, approveMany, decide, listPendingApprovals, MAX_BATCH_DECISION, previewBatch } from "@/server/services/approvals";
import { approveBatch, batchWaitingRows, MAX_BATCH_ROWS, pendingBatches, previewBatchDecision, rejectBatch } from "@/server/services/batch-approvals";
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

/** A bulk file's batch, or chosen rows of it (all its waiting rows when none are chosen). */
const batchScope = {
  batchId: uuid("Must be a batch id"),
  payoutIds: z
    .array(uuid("Must be a payout id"))
    .min(1, "Choose at least one row, or leave the choice out for all waiting rows")
    .max(MAX_BATCH_ROWS, `${MAX_BATCH_ROWS.toLocaleString("en")} rows at most`)
    .optional(),
};

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
  /** The queue as approvers see it: single payouts one card each, a bulk file's payouts as one card per batch. */
  queue: procedure(ANY_ROLE).query(async ({ ctx }) => ({
    singles: await listPendingApprovals(ctx.desk, ctx.actor, { singlesOnly: true }),
    batches: await pendingBatches(ctx.desk),
  })),
  /** What deciding on a batch (or chosen rows of it) would do for the caller: final, awaiting a later level, not theirs and why, acknowledgements, totals. */
  batchPreview: procedure(ANY_ROLE)
    .input(z.object(batchScope))
    .query(({ ctx, input }) => previewBatchDecision(ctx.desk, ctx.actor, input)),
  /** A page of a batch's waiting rows, each judged for the caller (to choose rows). */
  batchRows: procedure(ANY_ROLE)
    .input(z.object({ batchId: uuid("Must be a batch id"), page: z.number({ error: "Must be a page number" }).int("Must be a whole number").min(1, "Pages start at 1").max(100_000, "No such page") }))
    .query(({ ctx, input }) => batchWaitingRows(ctx.desk, ctx.actor, input)),
  /** Approve a batch's waiting rows (or the chosen ones) with one step-up; each row judged as a single approval. */
  approveBatch: procedure(DECIDERS)
    .input(
      z.object({
        ...batchScope,
        acknowledge: z
          .object({ overBalance: z.boolean({ error: "Must be true or false" }).optional(), duplicates: z.boolean({ error: "Must be true or false" }).optional() })
          .optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await requireRecentSecondFactor({ desk: ctx.desk, actor: ctx.actor, sessionId: ctx.sessionId });
      return approveBatch(ctx.desk, ctx.actor, input, ctx.ip);
    }),
  /** Reject a batch's waiting rows (or the chosen ones) the caller may reject, with one step-up and one reason. */
  rejectBatch: procedure(DECIDERS)
    .input(z.object({ ...batchScope, reason: text(500) }))
    .mutation(async ({ ctx, input }) => {
      await requireRecentSecondFactor({ desk: ctx.desk, actor: ctx.actor, sessionId: ctx.sessionId });
      return rejectBatch(ctx.desk, ctx.actor, input, ctx.ip);
    }),
  reject: procedure(DECIDERS)
    .input(decision)
    .mutation(async ({ ctx, input }) => {
      await requireRecentSecondFactor({ desk: ctx.desk, actor: ctx.actor, sessionId: ctx.sessionId });
      return decide(ctx.desk, ctx.actor, { ...input, decision: "rejected" }, ctx.ip);
    }),
});
