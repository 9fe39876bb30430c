import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { PROVIDER_KINDS, type ProviderKind } from "@/server/connectors/types";
import { listConnectionsForForm, listConnectionsForAdmin } from "@/server/services/connection-views";
import {
  connectionForEdit,
  createConnection,
  providerForms,
  setConnectionEnabled,
  testConnection,
  updateConnection,
} from "@/server/services/connection-admin";
import { requireRecentSecondFactor } from "@/server/auth/step-up";
import { procedure, router } from "../init";
import { text, uuid } from "../schemas";

const id = z.object({ id: uuid("Must be a connection id") });

// Shapes only; the service checks the rules and names the field that broke one.
const draft = {
  name: text(500),
  environment: text(20),
  baseUrl: text(2000),
  credentials: z.record(text(100), text(20_000)),
  sendConcurrency: text(10).optional(),
  requestsPerMinute: text(10).optional(),
};

export const connectionsRouter = router({
  /** Enabled connections with their channels, for the create-payout form. */
  forPayouts: procedure(ANY_ROLE).query(({ ctx }) => listConnectionsForForm(ctx.desk)),
  /** Connections with what to register at the provider; never credentials. */
  list: procedure(["admin"]).query(({ ctx }) => listConnectionsForAdmin(ctx.desk)),
  names: procedure(ANY_ROLE).query(({ ctx }) =>
    ctx.desk.db.connection.findMany({ select: { id: true, name: true, provider: true }, orderBy: { name: "asc" } }),
  ),
  /** The providers the add form offers and the credential fields each needs. */
  providers: procedure(["admin"]).query(({ ctx }) => providerForms(ctx.desk)),
  /** One connection for the edit form: secrets only as set / not set. */
  get: procedure(["admin"])
    .input(id)
    .query(({ ctx, input }) => connectionForEdit(ctx.desk, input.id)),
  create: procedure(["admin"])
    .input(z.object({ provider: z.enum(PROVIDER_KINDS as [ProviderKind, ...ProviderKind[]], { message: "Choose a provider" }), ...draft }))
    .mutation(async ({ ctx, input }) => {
      // Credentials (and where they are sent) change here: a fresh second factor first.
      await requireRecentSecondFactor(ctx);
      const { provider, ...rest } = input;
      return createConnection(ctx.desk, ctx.actor, provider, rest, ctx.ip);
    }),
  update: procedure(["admin"])
    .input(
      z.object({
        ...id.shape,
        ...draft,
        version: text(40).optional(),
        // Per currency code: major units as typed, blank for none (server/services/payout-limits.ts checks them).
        limits: z.record(text(8), z.object({ maxPerPayout: text(40), daily: text(40), monthly: text(40) })).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await requireRecentSecondFactor(ctx);
      const { id: connectionId, ...rest } = input;
      return updateConnection(ctx.desk, ctx.actor, connectionId, rest, ctx.ip);
    }),
  /** Calls the provider with the stored credentials; a refusal is a result, not an error. */
  test: procedure(["admin"])
    .input(id)
    .mutation(({ ctx, input }) => testConnection(ctx.desk, ctx.actor, input.id, ctx.ip)),
  pause: procedure(["admin"])
    .input(id)
    .mutation(({ ctx, input }) => setConnectionEnabled(ctx.desk, ctx.actor, input.id, false, ctx.ip)),
  resume: procedure(["admin"])
    .input(id)
    .mutation(({ ctx, input }) => setConnectionEnabled(ctx.desk, ctx.actor, input.id, true, ctx.ip)),
});
