// The "Outcome unknown" work page: everyone signed in may read it; asking the
// provider again and resolving by hand need an approver or admin (the service
// checks the same roles again, and the two-person rule).
import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import {
  approveResolution,
  checkAgainNow,
  countOutcomeWork,
  listOutcomeWork,
  outcomeForPayout,
  proposeResolution,
  rejectResolution,
  RESOLVER_ROLES,
  withdrawResolution,
} from "@/server/services/outcomes";
import { procedure, router } from "../init";
import { text, uuid } from "../schemas";

const payoutInput = z.object({ payoutId: uuid("Must be a payout id") });

const decisionInput = z.object({
  resolutionId: uuid("Must be a proposal id"),
  note: text(500).nullish(),
});

export const outcomesRouter = router({
  list: procedure(ANY_ROLE).query(({ ctx }) => listOutcomeWork(ctx.desk, ctx.actor)),
  count: procedure(ANY_ROLE).query(({ ctx }) => countOutcomeWork(ctx.desk)),
  forPayout: procedure(ANY_ROLE)
    .input(payoutInput)
    .query(({ ctx, input }) => outcomeForPayout(ctx.desk, ctx.actor, input.payoutId)),

  checkNow: procedure(RESOLVER_ROLES)
    .input(payoutInput)
    .mutation(({ ctx, input }) => checkAgainNow(ctx.desk, ctx.actor, input.payoutId, ctx.ip)),

  propose: procedure(RESOLVER_ROLES)
    .input(
      z.object({
        payoutId: uuid("Must be a payout id"),
        outcome: z.enum(["succeeded", "failed"], { error: "Choose “mark paid” or “mark failed”" }),
        providerReference: text(200).nullish(),
        note: text(1000),
        confirmedWithProvider: z.boolean({ error: "Must be true or false" }).nullish(),
      }),
    )
    .mutation(({ ctx, input }) => proposeResolution(ctx.desk, ctx.actor, input, ctx.ip)),
  approve: procedure(RESOLVER_ROLES)
    .input(decisionInput)
    .mutation(({ ctx, input }) => approveResolution(ctx.desk, ctx.actor, input, ctx.ip)),
  reject: procedure(RESOLVER_ROLES)
    .input(decisionInput)
    .mutation(({ ctx, input }) => rejectResolution(ctx.desk, ctx.actor, input, ctx.ip)),
  withdraw: procedure(RESOLVER_ROLES)
    .input(decisionInput)
    .mutation(({ ctx, input }) => withdrawResolution(ctx.desk, ctx.actor, input, ctx.ip)),
});
