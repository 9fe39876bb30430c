import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { batchRows, createBatch, discardBatch, getBatch, LISTS, recentBatches, resumeBatch, templateInfo } from "@/server/services/batches";
import { batchOutcome } from "@/server/services/batch-results";
import { retryFailedRows } from "@/server/services/batch-retry";
import { procedure, router } from "../init";
import { uuid } from "../schemas";

const batchId = z.object({ id: uuid("Must be a batch id") });

// Uploading is a route of its own (app/api/batches/upload): a file is bytes, not JSON.
export const batchesRouter = router({
  /** A batch as the bulk page and the batch page show it; polled while its file is checked or its payouts made. */
  get: procedure(ANY_ROLE)
    .input(batchId)
    .query(({ ctx, input }) => getBatch(ctx.desk, ctx.actor, input.id)),

  /** A page of its invalid rows or likely duplicates (the maker's own batch, or an admin). */
  rows: procedure(ANY_ROLE)
    .input(z.object({ id: uuid("Must be a batch id"), list: z.enum(LISTS), page: z.number().int().min(1).max(10_000).default(1) }))
    .query(({ ctx, input }) => batchRows(ctx.desk, ctx.actor, input.id, input.list, input.page)),

  /** The maker's latest uploads. */
  recent: procedure(["maker"]).query(({ ctx }) => recentBatches(ctx.desk, ctx.actor)),

  /** A connection's columns, as its template has them. */
  template: procedure(ANY_ROLE)
    .input(z.object({ connectionId: uuid("Choose a connection") }))
    .query(({ ctx, input }) => templateInfo(ctx.desk, input.connectionId)),

  /** Creates the valid rows' payouts (in the background); again, it creates nothing twice. */
  create: procedure(["maker"])
    .input(z.object({ id: uuid("Must be a batch id"), includeDuplicates: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      const { id } = await createBatch(ctx.desk, ctx.actor, input, ctx.ip);
      return { id };
    }),

  discard: procedure(["maker"])
    .input(batchId)
    .mutation(({ ctx, input }) => discardBatch(ctx.desk, ctx.actor, input.id, ctx.ip)),

  /** What became of its payouts: per status, paid per currency, fees, a page of failed rows, the retry (the batch page). */
  outcome: procedure(ANY_ROLE)
    .input(z.object({ id: uuid("Must be a batch id"), page: z.number().int().min(1).max(10_000).default(1) }))
    .query(({ ctx, input }) => batchOutcome(ctx.desk, ctx.actor, input.id, input.page)),

  /** A new batch of the failed rows of a batch whose payouts are all final, through the upload's checks; asked again, the same one. */
  retryFailed: procedure(["maker"])
    .input(batchId)
    .mutation(async ({ ctx, input }) => {
      const { batchId: id, created, rows } = await retryFailedRows(ctx.desk, ctx.actor, input.id, ctx.ip);
      return { id, created, rows };
    }),

  /** Starts again a check or creation that stopped (the page asks when it sees `stalled`). */
  resume: procedure(["maker"])
    .input(batchId)
    .mutation(({ ctx, input }) => resumeBatch(ctx.desk, ctx.actor, input.id, ctx.ip)),
});
