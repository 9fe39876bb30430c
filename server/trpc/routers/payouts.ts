import { z } from "zod";
import { PAYOUT_STATUSES } from "@/server/domain/payout-state";
import { ANY_ROLE } from "@/server/auth/roles";
import { cancelPayout, createPayout, duplicatesOf, getPayout, listPayouts, listTotals, updatePayout } from "@/server/services/payouts";
import { LIST_SORTS } from "@/server/domain/payout-list-params";
import { duplicateWindow, updateDuplicateWindow } from "@/server/services/duplicates";
import { procedure, router } from "../init";
import { text, uuid } from "../schemas";

const payoutId = z.uuid({ version: "v4", error: "Must be a UUIDv4 (the form makes one when it opens)" });

// The payout's fields, the same for creating and editing, and for each row of a bulk file (server/services/batches.ts).
export const payoutFields = {
  connectionId: uuid("Choose a connection"),
  // Digits, separators and a decimal point: 30 characters hold any amount int8 can.
  amount: z.string({ error: "Enter the amount as text, e.g. \"150.50\"" }).max(30, "Amount is too long (30 characters at most)"),
  currency: z.string().trim().toUpperCase().min(3, "Currency is an ISO 4217 code such as ZMW").max(4, "Currency is an ISO 4217 code such as ZMW"),
  recipientPhone: text(32).nullish(),
  recipientName: text(120).nullish(),
  recipientAccount: text(40).nullish(),
  recipientDetails: z.record(text(40), text(120)).nullish(),
  channel: text(64).nullish(),
  description: text(200),
};

// The list's filters (server/domain/payout-list-params.ts); the service checks dates, amounts and their order.
const listFilters = {
  status: z.array(z.enum(PAYOUT_STATUSES)).max(PAYOUT_STATUSES.length * 2).optional(),
  connectionId: uuid("Choose a connection").optional(),
  currency: text(4).optional(),
  batchId: uuid("Choose a batch").optional(),
  createdFrom: text(10).optional(),
  createdTo: text(10).optional(),
  timeZone: text(64).optional(),
  amountMin: text(30).optional(),
  amountMax: text(30).optional(),
  search: text(100).optional(),
  attention: z.boolean().optional(),
};

export const payoutsRouter = router({
  /** Creates a payout; `duplicates` are likely duplicates (a warning: the payout is created all the same). */
  create: procedure(["maker"])
    .input(z.object({ id: payoutId, ...payoutFields }))
    .mutation(async ({ ctx, input }) => {
      const payout = await createPayout(ctx.desk, ctx.actor, input, ctx.ip);
      return { id: payout.id, status: payout.status, duplicates: await duplicatesOf(ctx.desk, payout) };
    }),

  /** The maker edits their payout while it waits for approval; `revision` is byId's editRevision when the form opened. */
  update: procedure(["maker"])
    .input(z.object({ id: uuid("Must be a payout id"), revision: text(40), ...payoutFields }))
    .mutation(async ({ ctx, input }) => {
      const { payout, ...result } = await updatePayout(ctx.desk, ctx.actor, input, ctx.ip);
      return { ...result, duplicates: result.changed.length > 0 ? await duplicatesOf(ctx.desk, payout) : [] };
    }),

  /** Settings → General: the likely-duplicate window everyone is warned under. */
  duplicateWindow: procedure(ANY_ROLE).query(({ ctx }) => duplicateWindow(ctx.desk.db)),
  updateDuplicateWindow: procedure(["admin"])
    .input(z.object({ hours: text(10) }))
    .mutation(({ ctx, input }) => updateDuplicateWindow(ctx.desk, ctx.actor, input, ctx.ip)),

  // A search box gets whatever was pasted into it: what cannot be stored is dropped, not refused.
  list: procedure(ANY_ROLE, { searchFields: ["search"] })
    .input(
      z.object({
        ...listFilters,
        sort: z.enum(LIST_SORTS).optional(),
        direction: z.enum(["asc", "desc"]).optional(),
        cursor: text(400).nullish(),
        limit: z.number().int().min(1).max(200).optional(),
      }),
    )
    .query(({ ctx, input }) => {
      const { cursor, limit, ...filters } = input;
      return listPayouts(ctx.desk, filters, { cursor, limit });
    }),

  /** Count, sum per currency and fees of the list's current filters (exact up to a cap, then "more than"). */
  totals: procedure(ANY_ROLE, { searchFields: ["search"] })
    .input(z.object(listFilters))
    .query(({ ctx, input }) => listTotals(ctx.desk, input)),

  byId: procedure(ANY_ROLE)
    .input(z.object({ id: uuid("Must be a payout id") }))
    .query(({ ctx, input }) => getPayout(ctx.desk, ctx.actor, input.id)),

  cancel: procedure(["maker"])
    .input(z.object({ id: uuid("Must be a payout id") }))
    .mutation(({ ctx, input }) => cancelPayout(ctx.desk, ctx.actor, input.id, ctx.ip)),
});
