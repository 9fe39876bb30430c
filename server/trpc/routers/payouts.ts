import { z } from "zod";
import { PAYOUT_STATUSES } from "@/server/domain/payout-state";
import { ANY_ROLE } from "@/server/auth/roles";
import { cancelPayout, createPayout, getPayout, listPayouts } from "@/server/services/payouts";
import { procedure, router } from "../init";

const uuid = z.uuid({ version: "v4", message: "Must be a UUIDv4" });

export const payoutsRouter = router({
  create: procedure(["maker"])
    .input(
      z.object({
        id: uuid,
        connectionId: z.string().min(1, "Choose a connection"),
        amount: z.string().max(30, "Amount is too long"),
        currency: z.string().trim().toUpperCase().min(3, "Currency is an ISO 4217 code such as ZMW").max(4, "Currency is an ISO 4217 code such as ZMW"),
        recipientPhone: z.string().max(32, "Phone number is too long").nullish(),
        recipientName: z.string().max(120, "Name is too long").nullish(),
        recipientAccount: z.string().max(40, "Account number is too long").nullish(),
        recipientDetails: z.record(z.string().max(40), z.string().max(120, "Too long (120 characters at most)")).nullish(),
        channel: z.string().max(64).nullish(),
        description: z.string().max(200, "Description is too long (200 characters at most)"),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const payout = await createPayout(ctx.desk, ctx.actor, input, ctx.ip);
      return { id: payout.id, status: payout.status };
    }),

  list: procedure(ANY_ROLE)
    .input(
      z.object({
        status: z.array(z.enum(PAYOUT_STATUSES)).optional(),
        connectionId: z.string().optional(),
        createdFrom: z.string().optional(),
        createdTo: z.string().optional(),
        search: z.string().max(100).optional(),
        attention: z.boolean().optional(),
        cursor: z.string().nullish(),
        limit: z.number().int().min(1).max(200).optional(),
      }),
    )
    .query(({ ctx, input }) => {
      const { cursor, limit, ...filters } = input;
      return listPayouts(ctx.desk, filters, { cursor, limit });
    }),

  byId: procedure(ANY_ROLE)
    .input(z.object({ id: uuid }))
    .query(({ ctx, input }) => getPayout(ctx.desk, ctx.actor, input.id)),

  cancel: procedure(["maker"])
    .input(z.object({ id: uuid }))
    .mutation(({ ctx, input }) => cancelPayout(ctx.desk, ctx.actor, input.id, ctx.ip)),
});
