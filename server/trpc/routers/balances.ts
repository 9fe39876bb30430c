import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { balanceHistory, balanceOverview, refreshBalancesByUser } from "@/server/services/balances";
import { balanceAlerts, lowBalances, setBalanceAlert } from "@/server/services/balance-alerts";
import { procedure, router } from "../init";
import { text, uuid } from "../schemas";

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
  // Low-balance alerts: everyone sees them (the banner); admins set them (Settings), audited.
  alerts: procedure(ANY_ROLE).query(({ ctx }) => balanceAlerts(ctx.desk)),
  low: procedure(ANY_ROLE).query(({ ctx }) => lowBalances(ctx.desk)),
  setAlert: procedure(["admin"])
    .input(z.object({ connectionId: uuid("Must be a connection id"), currency: text(8), amount: text(40) }))
    .mutation(({ ctx, input }) => setBalanceAlert(ctx.desk, ctx.actor, input, ctx.ip)),
  // Any signed-in role: it only reads the providers' balances, it moves no money.
  refresh: procedure(ANY_ROLE)
    .input(z.object({ connectionId: uuid("Must be a connection id").optional() }).default({}))
    .mutation(({ ctx, input }) => refreshBalancesByUser(ctx.desk, ctx.actor, input.connectionId, ctx.ip)),
});
