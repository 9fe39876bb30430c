// Signed-in browsers as rows (UserSession), so a session can end before its
// signed cookie does: at sign-out, after a spell of inactivity, at its
// absolute limit, or when the account is disabled. The cookie only names the
// row; every request that resolves the user checks it here.
import type { Actor, Db, Tx } from "@/server/services/types";
import { audit } from "@/server/services/audit";
import { isRole } from "./roles";

export interface SessionPolicy {
  /** A session unused this long has ended. */
  idleMinutes: number;
  /** A session ends this long after sign-in, however active. */
  maxHours: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = { idleMinutes: 30, maxHours: 8 };

/**
 * lastSeenAt is written at most this often: one write per request would make
 * every page load a database write. The idle window is therefore measured
 * from an activity time that may lag the real one by up to this much.
 */
export const LAST_SEEN_RESOLUTION_MS = 60_000;

export function sessionPolicy(env: Readonly<Record<string, string | undefined>> = process.env): SessionPolicy {
  return {
    idleMinutes: positive(env.DESK_SESSION_IDLE_MINUTES, "DESK_SESSION_IDLE_MINUTES", "minutes") ?? DEFAULT_SESSION_POLICY.idleMinutes,
    maxHours: positive(env.DESK_SESSION_MAX_HOURS, "DESK_SESSION_MAX_HOURS", "hours") ?? DEFAULT_SESSION_POLICY.maxHours,
  };
}

function positive(value: string | undefined, name: string, unit: string): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number of ${unit}, not "${value}"`);
  return n;
}

/** Why a session that once existed no longer lets anyone in. */
export type SessionEndReason = "idle" | "expired" | "signed-out" | "disabled" | "invalid";

export const SESSION_END_REASONS: readonly SessionEndReason[] = ["idle", "expired", "signed-out", "disabled", "invalid"];

export function isSessionEndReason(value: unknown): value is SessionEndReason {
  return typeof value === "string" && (SESSION_END_REASONS as readonly string[]).includes(value);
}

/** The sentence shown on the sign-in page and in a 401, naming the rule that ended the session. */
export function sessionEndMessage(reason: SessionEndReason, policy: SessionPolicy = sessionPolicy()): string {
  switch (reason) {
    case "idle":
      return `Your session ended after ${duration(policy.idleMinutes, "minute")} without activity. Sign in again.`;
    case "expired":
      return `Your session reached its limit of ${duration(policy.maxHours, "hour")} since sign-in. Sign in again.`;
    case "signed-out":
      return "This session was signed out. Sign in again.";
    case "disabled":
      return "Your account is disabled, so its sessions have ended. Ask an admin to enable it.";
    case "invalid":
      return "Your session is no longer valid. Sign in again.";
  }
}

function duration(amount: number, unit: "minute" | "hour"): string {
  return `${amount} ${unit}${amount === 1 ? "" : "s"}`;
}

export interface SessionClock {
  now?: () => Date;
  policy?: SessionPolicy;
}

/**
 * Opens a session for a user who has just proved who they are.
 * `secondFactorAt`: when the sign-in proved a second factor (a code), so
 * actions that ask for a recent one need not ask again at once. Takes a
 * transaction so the sign-in that uses up a code opens the session with it.
 */
export async function startSession(
  db: Db | Tx,
  userId: string,
  client: { ip?: string | null; userAgent?: string | null },
  clock: SessionClock & { secondFactorAt?: Date | null } = {},
): Promise<{ id: string; expiresAt: Date }> {
  const now = clock.now?.() ?? new Date();
  const policy = clock.policy ?? sessionPolicy();
  const row = await db.userSession.create({
    data: {
      userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + policy.maxHours * 3_600_000),
      ip: client.ip ?? null,
      // Bounded: the header is the client's to choose.
      userAgent: client.userAgent?.slice(0, 400) ?? null,
      secondFactorAt: clock.secondFactorAt ?? null,
    },
    select: { id: true, expiresAt: true },
  });
  return row;
}

export type SessionCheck =
  | {
      active: true;
      sessionId: string;
      actor: Actor;
      /** Whether the user has two-factor sign-in on (the dashboard sends those who must and have not to enrol). */
      secondFactorEnabled: boolean;
    }
  | { active: false; reason: SessionEndReason };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether the named session still lets its user in, and who that user is now
 * (role and name fresh from the database). Counts as activity: lastSeenAt
 * moves forward, at most once per LAST_SEEN_RESOLUTION_MS.
 */
export async function checkSession(
  db: Db,
  claim: { sessionId?: unknown; userId?: unknown },
  clock: SessionClock = {},
): Promise<SessionCheck> {
  const { sessionId, userId } = claim;
  // A token from before sessions were rows, or a malformed one: no row to check.
  if (typeof sessionId !== "string" || !UUID.test(sessionId)) return { active: false, reason: "invalid" };
  const now = clock.now?.() ?? new Date();
  const policy = clock.policy ?? sessionPolicy();
  const row = await db.userSession.findUnique({ where: { id: sessionId }, include: { user: true } });
  if (!row || (userId !== undefined && row.userId !== userId)) return { active: false, reason: "invalid" };
  // Disabled first: disabling also revokes the rows, and the user should read why.
  if (row.user.disabled) return { active: false, reason: "disabled" };
  if (row.revokedAt) return { active: false, reason: "signed-out" };
  if (now.getTime() >= row.expiresAt.getTime()) return { active: false, reason: "expired" };
  if (now.getTime() - row.lastSeenAt.getTime() >= policy.idleMinutes * 60_000) return { active: false, reason: "idle" };
  if (!isRole(row.user.role)) return { active: false, reason: "invalid" };

  if (now.getTime() - row.lastSeenAt.getTime() >= LAST_SEEN_RESOLUTION_MS) {
    // Conditional on the value read, so concurrent requests write once.
    await db.userSession.updateMany({ where: { id: row.id, lastSeenAt: row.lastSeenAt }, data: { lastSeenAt: now } });
  }
  return {
    active: true,
    sessionId: row.id,
    actor: { id: row.user.id, email: row.user.email, name: row.user.name, role: row.user.role },
    secondFactorEnabled: row.user.totpEnabledAt !== null,
  };
}

/** Ends a session at sign-out, with an audit entry. Returns whether it was still open. */
export async function revokeSession(db: Db, sessionId: unknown, clock: SessionClock & { ip?: string | null } = {}): Promise<boolean> {
  if (typeof sessionId !== "string" || !UUID.test(sessionId)) return false;
  const now = clock.now?.() ?? new Date();
  return db.$transaction(async (tx) => {
    const { count } = await tx.userSession.updateMany({ where: { id: sessionId, revokedAt: null }, data: { revokedAt: now } });
    if (count === 0) return false;
    const row = await tx.userSession.findUniqueOrThrow({ where: { id: sessionId }, select: { userId: true, ip: true } });
    await audit(tx, {
      actorId: row.userId,
      action: "user.sign_out",
      entityType: "user",
      entityId: row.userId,
      details: { sessionId, signedInFrom: row.ip },
      ip: clock.ip ?? null,
    });
    return true;
  });
}
