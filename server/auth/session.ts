// The signed-in user for server components (the dashboard layout, pages).
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { getDesk } from "@/server/runtime";
import type { Actor } from "@/server/services/types";
import { resolveSession } from "./request-session";
import { REQUEST_PATH_HEADER } from "./security-headers";

/**
 * The signed-in user, or a redirect to sign-in that carries why the session
 * ended (shown there in words) and where to return afterwards.
 */
export async function requireSession(): Promise<Actor> {
  const desk = await getDesk();
  const session = await resolveSession(desk.db, (await cookies()).getAll());
  if (session.state === "active") return session.actor;
  const params = new URLSearchParams();
  if (session.state === "ended") params.set("ended", session.reason);
  const path = (await headers()).get(REQUEST_PATH_HEADER);
  if (path && path.startsWith("/") && !path.startsWith("//") && !path.startsWith("/login")) params.set("callbackUrl", path);
  const query = params.toString();
  redirect(query ? `/login?${query}` : "/login");
}
