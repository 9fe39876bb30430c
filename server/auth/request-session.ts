// Resolving the signed-in user of a request: the signed cookie names a
// UserSession row, and the row decides (see user-sessions.ts). One function
// for the tRPC context and for server components, so both treat an ended
// session the same way: as signed out, with the reason.
import type { Actor, Db } from "@/server/services/types";
import { readSessionToken, type CookieLike } from "./session-cookie";
import { checkSession, type SessionClock, type SessionEndReason } from "./user-sessions";

export type RequestSession =
  | { state: "anonymous" }
  | { state: "active"; sessionId: string; actor: Actor; secondFactorEnabled: boolean }
  | { state: "ended"; reason: SessionEndReason };

export async function resolveSession(
  db: Db,
  cookies: Iterable<CookieLike>,
  options: SessionClock & { secret?: string; cookieName?: string } = {},
): Promise<RequestSession> {
  const token = await readSessionToken(cookies, options);
  if (!token) return { state: "anonymous" };
  const check = await checkSession(db, { sessionId: token.sid, userId: token.uid }, options);
  return check.active
    ? { state: "active", sessionId: check.sessionId, actor: check.actor, secondFactorEnabled: check.secondFactorEnabled }
    : { state: "ended", reason: check.reason };
}
