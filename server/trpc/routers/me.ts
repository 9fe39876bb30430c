import { ANY_ROLE } from "@/server/auth/roles";
import { procedure, router } from "../init";

export const meRouter = router({
  get: procedure(ANY_ROLE).query(({ ctx }) => ctx.actor),
});
