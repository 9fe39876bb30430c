// Settings → General. Everyone may read it (the Statements page needs the
// desk's default zone); only admins change it, audited by the service.
import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { generalSettings, updateGeneralSettings } from "@/server/services/settings";
import { procedure, router } from "../init";
import { text } from "../schemas";

export const settingsRouter = router({
  general: procedure(ANY_ROLE).query(({ ctx }) => generalSettings(ctx.desk.db)),
  updateGeneral: procedure(["admin"])
    .input(z.object({ merchantName: text(500), timeZone: text(100) }))
    .mutation(({ ctx, input }) => updateGeneralSettings(ctx.desk, ctx.actor, input, ctx.ip)),
});
