import { TRPCError } from "@trpc/server";
import type { Desk } from "@/server/services/types";
import { clientIp } from "@/server/auth/client-ip";
import { resolveSession } from "@/server/auth/request-session";
import { parseCookieHeader } from "@/server/auth/session-cookie";
import { sessionEndMessage, type SessionClock } from "@/server/auth/user-sessions";
import type { Context } from "./init";

/**
 * The acting user is re-read from the database on every request, so a
 * disabled account or a changed role takes effect at once, and a session that
 * was signed out, sat idle or passed its limit lets no one in even though its
 * cookie is still validly signed. An ended session answers 401 with the
 * reason, so the browser can say why; no cookie at all leaves the actor empty
 * and each procedure asks for sign-in.
 */
export async function createContext(desk: Desk, req: Request, clock: SessionClock = {}): Promise<Context> {
  const ip = clientIp(req.headers);
  const session = await resolveSession(desk.db, parseCookieHeader(req.headers.get("cookie")), clock);
  if (session.state === "ended") {
    throw new TRPCError({ code: "UNAUTHORIZED", message: sessionEndMessage(session.reason, clock.policy) });
  }
  return session.state === "active" ? { desk, actor: session.actor, ip, sessionId: session.sessionId } : { desk, actor: null, ip, sessionId: null };
}
