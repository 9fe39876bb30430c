// Settings → Users: admins only (the service checks again). Approval groups
// are assigned through the policy service's setUserGroups, second factors
// through the auth router; every change is audited by the service.
import { z } from "zod";
import { ROLES } from "@/server/auth/roles";
import { CONTROLS } from "@/server/auth/controls";
import { setUserGroups } from "@/server/services/approval-policy";
import { changeRole, createUserByAdmin, listUsers, resetPassword, setDisabled } from "@/server/services/user-admin";
import { procedure, router } from "../init";
import { text, uuid } from "../schemas";

const ADMINS = CONTROLS.manageUsers.roles;
const role = z.enum(ROLES, { error: `Choose a role: ${ROLES.join(", ")}` });
const userId = uuid("Must be a user id");
// Shapes only: the service names the rule a value breaks (email form, password length).
const password = text(200).nullish();

export const usersRouter = router({
  list: procedure(ADMINS).query(({ ctx }) => listUsers(ctx.desk, ctx.actor)),
  create: procedure(ADMINS)
    .input(z.object({ email: text(320), name: text(500).nullish(), role, password }))
    .mutation(({ ctx, input }) => createUserByAdmin(ctx.desk, ctx.actor, input, ctx.ip)),
  setRole: procedure(ADMINS)
    .input(z.object({ userId, role }))
    .mutation(({ ctx, input }) => changeRole(ctx.desk, ctx.actor, input, ctx.ip)),
  setDisabled: procedure(ADMINS)
    .input(z.object({ userId, disabled: z.boolean({ error: "Must be true or false" }) }))
    .mutation(({ ctx, input }) => setDisabled(ctx.desk, ctx.actor, input, ctx.ip)),
  resetPassword: procedure(ADMINS)
    .input(z.object({ userId, password }))
    .mutation(({ ctx, input }) => resetPassword(ctx.desk, ctx.actor, input, ctx.ip, ctx.sessionId)),
  setGroups: procedure(ADMINS)
    .input(z.object({ userId, groupIds: z.array(uuid("Must be an approval group id")).max(200, "200 groups at most") }))
    .mutation(({ ctx, input }) => setUserGroups(ctx.desk, ctx.actor, input.userId, input.groupIds, ctx.ip)),
});
