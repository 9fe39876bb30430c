// Two-factor sign-in: a user's own enrolment, recovery codes and step-up
// (any signed-in role), the desk's "require it of everyone" setting and an
// admin's reset of someone else's factor (admins). Every mutation is audited
// by the service; none returns a stored secret (the set-up returns the new
// secret to its owner once, to scan or type, and enrolment the recovery
// codes once).
import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import {
  approveSecondFactorReset,
  cancelSecondFactorReset,
  confirmEnrolment,
  disableSecondFactor,
  regenerateRecoveryCodes,
  resetSecondFactor,
  secondFactorPolicy,
  secondFactorStatus,
  setRequireForAll,
  startEnrolment,
  stepUp,
  userSecondFactor,
} from "@/server/services/second-factor";
import { procedure, router } from "../init";
import { text, uuid } from "../schemas";

const code = text(64);
const userId = z.object({ userId: uuid("Must be a user id") });

export const authRouter = router({
  /** The signed-in user's own two-factor state, and when this session last proved it. */
  status: procedure(ANY_ROLE).query(({ ctx }) => secondFactorStatus(ctx.desk, ctx.actor, ctx.sessionId)),
  /** Who must use two-factor sign-in (everyone reads it; admins change it). */
  policy: procedure(ANY_ROLE).query(({ ctx }) => secondFactorPolicy(ctx.desk.db)),
  startEnrolment: procedure(ANY_ROLE).mutation(({ ctx }) => startEnrolment(ctx.desk, ctx.actor, ctx.sessionId, ctx.ip)),
  confirmEnrolment: procedure(ANY_ROLE)
    .input(z.object({ enrolment: text(4000), code }))
    .mutation(({ ctx, input }) => confirmEnrolment(ctx.desk, ctx.actor, ctx.sessionId, input, ctx.ip)),
  regenerateRecoveryCodes: procedure(ANY_ROLE).mutation(({ ctx }) => regenerateRecoveryCodes(ctx.desk, ctx.actor, ctx.sessionId, ctx.ip)),
  disable: procedure(ANY_ROLE).mutation(({ ctx }) => disableSecondFactor(ctx.desk, ctx.actor, ctx.sessionId, ctx.ip)),
  /** Proves the factor again in this session after a StepUpRequired answer; throttled with sign-in. */
  stepUp: procedure(ANY_ROLE)
    .input(z.object({ code }))
    .mutation(({ ctx, input }) => stepUp(ctx.desk, ctx.actor, ctx.sessionId, input.code, ctx.ip)),
  setRequireForAll: procedure(["admin"])
    .input(z.object({ required: z.boolean({ error: "Must be true or false" }) }))
    .mutation(({ ctx, input }) => setRequireForAll(ctx.desk, ctx.actor, ctx.sessionId, input.required, ctx.ip)),
  /** A user's second factor as Settings → Users shows it: on or off, codes left, a pending reset. */
  userSecondFactor: procedure(["admin"])
    .input(userId)
    .query(({ ctx, input }) => userSecondFactor(ctx.desk, ctx.actor, input.userId)),
  /** Resets a non-admin's factor at once; proposes the reset of an admin's, for a second admin to approve. */
  resetSecondFactor: procedure(["admin"])
    .input(userId)
    .mutation(({ ctx, input }) => resetSecondFactor(ctx.desk, ctx.actor, ctx.sessionId, input.userId, ctx.ip)),
  approveSecondFactorReset: procedure(["admin"])
    .input(userId)
    .mutation(({ ctx, input }) => approveSecondFactorReset(ctx.desk, ctx.actor, ctx.sessionId, input.userId, ctx.ip)),
  cancelSecondFactorReset: procedure(["admin"])
    .input(userId)
    .mutation(({ ctx, input }) => cancelSecondFactorReset(ctx.desk, ctx.actor, input.userId, ctx.ip)),
});
