import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { balanceHistory, balanceOverview, refreshBalancesByUser } from "@/server/services/balances";
import { procedure, router } from "../init";
import { uuid } from "../schemas";

export const balancesRouter = router({
  overview: procedure(ANY_ROLE).query(({ ctx }) => balanceOverview(ctx.desk)),
  history: procedure(ANY_ROLE)
    .input(
      z.object({
        connectionId: uuid("Must be a connection id"),
        currency: z.string().trim().toUpperCase().min(3, "Currency is a code such as ZMW").max(4, "Currency is a code such as ZMW"),
        days: z.number().int().min(1, "At least 1 day").max(365, "At most 365 days").default(30),
      }),
    )
    .query(({ ctx, input }) => balanceHistory(ctx.desk, input.connectionId, input.currency, input.days)),
  // Any signed-in role: it only reads the providers' balances, it moves no money.
  refresh: procedure(ANY_ROLE)
    .input(z.object({ connectionId: uuid("Must be a connection id").optional() }).default({}))
    .mutation(({ ctx, input }) => refreshBalancesByUser(ctx.desk, ctx.actor, input.connectionId, ctx.ip)),
});
