import { ANY_ROLE } from "@/server/auth/roles";
import { overview } from "@/server/services/overview";
import { procedure, router } from "../init";

export const overviewRouter = router({
  summary: procedure(ANY_ROLE).query(({ ctx }) => overview(ctx.desk)),
});
