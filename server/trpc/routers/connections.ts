import { ANY_ROLE } from "@/server/auth/roles";
import { listConnectionsForForm, listConnectionsForAdmin } from "@/server/services/connection-views";
import { procedure, router } from "../init";

export const connectionsRouter = router({
  /** Enabled connections with their channels, for the create-payout form. */
  forPayouts: procedure(ANY_ROLE).query(({ ctx }) => listConnectionsForForm(ctx.desk)),
  /** Connections with what to register at the provider; never credentials. */
  list: procedure(["admin"]).query(({ ctx }) => listConnectionsForAdmin(ctx.desk)),
  names: procedure(ANY_ROLE).query(({ ctx }) =>
    ctx.desk.db.connection.findMany({ select: { id: true, name: true, provider: true }, orderBy: { name: "asc" } }),
  ),
});
