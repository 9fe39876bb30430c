// For tests that call procedures guarded by step-up (approvals, connection
// credentials, exports) without going through a browser: a user with two-
// factor sign-in on, and a session that has just proved it. The step-up rule
// itself is tested through real codes (server/services/second-factor.test.ts);
// these helpers only stand in for the person typing the code.
import type { Actor, Desk } from "@/server/services/types";
import { sealTotpSecret } from "@/server/services/second-factor";
import { newTotpSecret } from "./totp";
import { ROLES_REQUIRING_TOTP } from "./second-factor-policy";
import { startSession } from "./user-sessions";

/** Turns two-factor on for a user with the given (or a fresh) secret; returns the secret. */
export async function enrolForTests(desk: Pick<Desk, "db" | "credentialsKey">, userId: string, secret = newTotpSecret(), now = new Date()): Promise<string> {
  await desk.db.user.update({
    where: { id: userId },
    data: { totpSecret: sealTotpSecret(desk.credentialsKey, userId, secret), totpEnabledAt: now, totpRecoveryCodes: [] },
  });
  return secret;
}

const sessions = new WeakMap<object, Map<string, string>>();

/**
 * A session of `actor` whose second factor was proved just now, made once per
 * user and desk and brought up to date at each call. Approvers and admins are
 * enrolled first (their role requires it); others are left as they are.
 */
export async function provedSession(desk: Pick<Desk, "db" | "credentialsKey">, actor: Actor, now = new Date()): Promise<string> {
  const id = await provedSessionIfUser(desk, actor, now);
  if (!id) throw new Error(`provedSession: no user ${actor.id}`);
  return id;
}

/** provedSession, or null for an actor a test made up (no user row, so no session can name it). */
export async function provedSessionIfUser(desk: Pick<Desk, "db" | "credentialsKey">, actor: Actor, now = new Date()): Promise<string | null> {
  let byUser = sessions.get(desk.db);
  if (!byUser) sessions.set(desk.db, (byUser = new Map()));
  const known = byUser.get(actor.id);
  if (known) {
    const { count } = await desk.db.userSession.updateMany({ where: { id: known, revokedAt: null }, data: { secondFactorAt: now, lastSeenAt: now } });
    if (count === 1) return known;
  }
  // First use, or the session was ended (a reset ends them all, and may have turned the factor off).
  const user = await desk.db.user.findUnique({ where: { id: actor.id }, select: { totpEnabledAt: true } });
  if (!user) return null;
  if (!user.totpEnabledAt && ROLES_REQUIRING_TOTP.includes(actor.role)) await enrolForTests(desk, actor.id, undefined, now);
  const { id } = await startSession(desk.db, actor.id, { ip: "127.0.0.1", userAgent: "test" }, { now: () => now, secondFactorAt: now });
  byUser.set(actor.id, id);
  return id;
}
