// The signed-in user for server components (the dashboard layout, pages).
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { getDesk } from "@/server/runtime";
import type { Actor } from "@/server/services/types";
import { resolveSession } from "./request-session";
import { REQUEST_PATH_HEADER } from "./security-headers";
import { secondFactorRequirement } from "./second-factor-policy";

/** The page where a user sets up two-factor sign-in. */
export const ENROLMENT_PATH = "/account/security";

/**
 * The signed-in user, or a redirect to sign-in that carries why the session
 * ended (shown there in words) and where to return afterwards.
 *
 * A user who must use two-factor sign-in and has not set it up is on their
 * one sign-in of grace (see services/sign-in.ts): every page they load sends
 * them to the enrolment page until they have. (Actions that move money or
 * change controls refuse them anyway: step-up needs the factor.)
 */
export async function requireSession(): Promise<Actor> {
  const desk = await getDesk();
  const session = await resolveSession(desk.db, (await cookies()).getAll());
  const path = (await headers()).get(REQUEST_PATH_HEADER);
  if (session.state === "active") {
    if (!session.secondFactorEnabled && path && !path.startsWith(ENROLMENT_PATH) && (await secondFactorRequirement(desk.db, session.actor.role))) {
      redirect(`${ENROLMENT_PATH}?required`);
    }
    return session.actor;
  }
  const params = new URLSearchParams();
  if (session.state === "ended") params.set("ended", session.reason);
  if (path && path.startsWith("/") && !path.startsWith("//") && !path.startsWith("/login")) params.set("callbackUrl", path);
  const query = params.toString();
  redirect(query ? `/login?${query}` : "/login");
}
