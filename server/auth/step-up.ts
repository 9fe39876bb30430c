// Step-up: an action that moves money or changes controls (approve, reject,
// a policy change, a connection's credentials, an export) asks for a fresh
// second-factor code when the session last proved it more than 5 minutes ago.
//
// Who is asked, and who is refused:
// - A user with two-factor sign-in on: their session must have proved a code
//   (at sign-in, at enrolment, or through auth.stepUp) within the window.
// - A user without it whose role must have it (approvers and admins, or
//   everyone when the desk requires it): refused, with the way to enrol. They
//   have nothing to step up with, and letting them through would make the
//   grace sign-in (see sign-in.ts) a way around the requirement.
// - A user without it whose role need not have it (a viewer exporting on a
//   desk that does not require two-factor of everyone): let through. There is
//   no factor to ask for, and the desk chose not to require one of them.
// Without a session (a call that did not come through a signed-in browser)
// nothing can have been proved, so anyone who would be asked is refused.
import type { Actor, Desk } from "@/server/services/types";
import { ROLE_LABELS, type Role } from "./roles";
import { secondFactorRequirement, type SecondFactorRequirement } from "./second-factor-policy";

export const STEP_UP_WINDOW_SECONDS = 300;

/** stale: a code is needed (none yet in this session, or too long ago); not-enrolled: the user must set up two-factor first. */
export type StepUpReason = "stale" | "not-enrolled";

/** The action needs a fresh code; the client shows the code field and retries. */
export class StepUpRequired extends Error {
  constructor(
    message = "Enter a code from your authenticator app to continue",
    readonly reason: StepUpReason = "stale",
  ) {
    super(message);
    this.name = "StepUpRequired";
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Throws StepUpRequired unless this session proved its second factor within the window. */
export async function requireRecentSecondFactor(ctx: { desk: Desk; actor: Actor; sessionId?: string | null; now?: () => Date }): Promise<void> {
  const now = ctx.now?.() ?? new Date();
  const db = ctx.desk.db;
  const user = await db.user.findUnique({ where: { id: ctx.actor.id }, select: { totpEnabledAt: true } });
  if (!user?.totpEnabledAt) {
    const requirement = await secondFactorRequirement(db, ctx.actor.role);
    if (!requirement) return;
    throw new StepUpRequired(notEnrolledMessage(ctx.actor.role, requirement), "not-enrolled");
  }
  const session =
    typeof ctx.sessionId === "string" && UUID.test(ctx.sessionId)
      ? await db.userSession.findUnique({ where: { id: ctx.sessionId }, select: { userId: true, revokedAt: true, secondFactorAt: true } })
      : null;
  const provedAt = session && session.userId === ctx.actor.id && !session.revokedAt ? session.secondFactorAt : null;
  if (provedAt && now.getTime() - provedAt.getTime() <= STEP_UP_WINDOW_SECONDS * 1000) return;
  throw new StepUpRequired(staleMessage(provedAt, now), "stale");
}

function staleMessage(provedAt: Date | null, now: Date): string {
  const minutes = STEP_UP_WINDOW_SECONDS / 60;
  const last = provedAt
    ? `this session last gave one ${Math.max(1, Math.floor((now.getTime() - provedAt.getTime()) / 60_000))} minutes ago`
    : "this session has not given one yet";
  return `Code: enter the current code from your authenticator app (or a recovery code) to continue; actions like this ask for one when the last was more than ${minutes} minutes ago, and ${last}`;
}

export function notEnrolledMessage(role: Role, requirement: Exclude<SecondFactorRequirement, null>): string {
  const who = requirement === "role" ? `${ROLE_LABELS[role].toLowerCase()}s` : "everyone on this desk";
  return `Two-factor sign-in is required of ${who} and you have not set it up, so this action cannot be confirmed: set it up under Two-factor sign-in (below your name in the menu), then try again`;
}
