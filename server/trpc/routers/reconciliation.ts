// Reconciliation: everyone signed in may read runs and their results;
// starting a run and resolving an exception need an approver or admin (the
// service checks the same roles again).
import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { RESULT_KINDS } from "@/server/domain/reconciliation";
import {
  listRunItems,
  listRuns,
  reconcilableConnections,
  RECONCILER_ROLES,
  resolveItem,
  runDetail,
  startReconciliation,
} from "@/server/services/reconciliation";
import { procedure, router } from "../init";
import { text, uuid } from "../schemas";

const runInput = z.object({ runId: uuid("Must be a reconciliation run id") });
const moment = (field: string) => z.date({ error: `${field} must be a date and time` });

export const reconciliationRouter = router({
  connections: procedure(ANY_ROLE).query(({ ctx }) => reconcilableConnections(ctx.desk)),
  runs: procedure(ANY_ROLE)
    .input(
      z
        .object({
          connectionId: uuid("Must be a connection id").nullish(),
          limit: z.number({ error: "Must be a number" }).int("Must be a whole number").min(1, "At least 1").max(100, "At most 100").nullish(),
        })
        .optional(),
    )
    .query(({ ctx, input }) => listRuns(ctx.desk, ctx.actor, input ?? {})),
  run: procedure(ANY_ROLE)
    .input(runInput)
    .query(({ ctx, input }) => runDetail(ctx.desk, ctx.actor, input.runId)),
  items: procedure(ANY_ROLE)
    .input(
      z.object({
        runId: uuid("Must be a reconciliation run id"),
        kind: z.enum([...RESULT_KINDS, "exceptions"], { error: `Must be one of: exceptions, ${RESULT_KINDS.join(", ")}` }).nullish(),
        unresolvedOnly: z.boolean({ error: "Must be true or false" }).nullish(),
        page: z.number({ error: "Must be a number" }).int("Must be a whole number").min(1, "Pages start at 1").max(1_000_000, "At most 1,000,000").nullish(),
        pageSize: z.number({ error: "Must be a number" }).int("Must be a whole number").min(1, "At least 1").max(100, "At most 100").nullish(),
      }),
    )
    .query(({ ctx, input }) => listRunItems(ctx.desk, ctx.actor, input)),

  start: procedure(RECONCILER_ROLES)
    .input(
      z.object({
        connectionId: uuid("Must be a connection id"),
        periodFrom: moment("The start of the period"),
        periodTo: moment("The end of the period"),
      }),
    )
    .mutation(({ ctx, input }) => startReconciliation(ctx.desk, ctx.actor, input, ctx.ip)),
  resolve: procedure(RECONCILER_ROLES)
    .input(z.object({ itemId: uuid("Must be a reconciliation item id"), note: text(1000) }))
    .mutation(({ ctx, input }) => resolveItem(ctx.desk, ctx.actor, input, ctx.ip)),
});
