import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { connectorHealth, needsAttention, overview } from "@/server/services/overview";
import { procedure, router } from "../init";
import { text } from "../schemas";

export const overviewRouter = router({
  /** Counts by status, today's paid totals, and the period's charts (from/to: UTC days, YYYY-MM-DD; default the last 14 days). */
  summary: procedure(ANY_ROLE)
    .input(z.object({ from: text(10).nullish(), to: text(10).nullish() }).optional())
    .query(({ ctx, input }) => overview(ctx.desk, input ?? {})),
  /** What a person should look at now. */
  attention: procedure(ANY_ROLE).query(({ ctx }) => needsAttention(ctx.desk)),
  /** Each connection's provider calls, callbacks and payouts in flight over the last 24 hours. */
  health: procedure(ANY_ROLE).query(({ ctx }) => connectorHealth(ctx.desk)),
});
