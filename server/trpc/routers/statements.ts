// Statements: everyone signed in may read them (viewer and up). Shapes only
// here; the service checks the rules (currency, period, zone, to ≥ from) and
// names the field that broke one, for the page and the downloads alike.
import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { resolveStatementQuery, statement, statementLines, statementOptions } from "@/server/services/statements";
import { procedure, router } from "../init";
import { text, uuid } from "../schemas";

const question = {
  /** Absent or null: all connections. */
  connectionId: uuid("Choose a connection, or All connections").nullish(),
  currency: text(8),
  period: text(20),
  from: text(10).nullish(),
  to: text(10).nullish(),
  /** Absent or null: the desk's default zone. */
  timeZone: text(64).nullish(),
};

export const statementsRouter = router({
  options: procedure(ANY_ROLE).query(({ ctx }) => statementOptions(ctx.desk)),
  summary: procedure(ANY_ROLE)
    .input(z.object(question))
    .query(async ({ ctx, input }) => statement(ctx.desk, await resolveStatementQuery(ctx.desk, input))),
  lines: procedure(ANY_ROLE)
    .input(z.object({ ...question, cursor: text(400).nullish(), limit: z.number().int().min(1).max(200).optional() }))
    .query(async ({ ctx, input }) => {
      const { cursor, limit, ...rest } = input;
      return statementLines(ctx.desk, await resolveStatementQuery(ctx.desk, rest), { cursor, limit });
    }),
});
