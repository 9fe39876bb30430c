// Settings → Users: admins create accounts, change roles, disable and enable
// them, and reset passwords (approval groups: setUserGroups in
// approval-policy.ts; second factors: the TOTP work). Every change is audited
// with the state before and after, as its transaction's last write.
//
// Two rules hold whatever the browser sends: the desk always keeps at least
// one enabled admin, and nobody disables their own account. Changes that
// could remove an admin are serialised by one advisory lock, so two admins
// demoting each other at once cannot both pass the check. Rows are written
// with plain UPDATEs (FOR NO KEY UPDATE): never SELECT ... FOR UPDATE on a
// user, which would conflict with the key-share lock an audit insert takes
// on its actor's row (see audit.ts).
import { ROLES, type Role } from "@/server/auth/roles";
import { generatePassword, hashPassword, passwordProblem } from "@/server/auth/password";
import type { Actor, Desk, Tx } from "./types";
import { audit } from "./audit";
import { FieldErrors, Forbidden, NotFound } from "./errors";
import { createUser } from "./users";

/** Who manages users. */
export const USER_ADMIN_ROLES: readonly Role[] = ["admin"];

/** Two-key advisory lock class of changes that can remove an admin ("usrs" in ASCII). */
const USERS_LOCK_CLASS = 0x75737273;

function requireUserAdmin(actor: Actor): void {
  if (!USER_ADMIN_ROLES.includes(actor.role)) throw new Forbidden(`Only admins manage users; you are ${actor.role}`, "users.role");
}

async function lockAdminChanges(tx: Tx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${USERS_LOCK_CLASS}::int4, 0)`;
}

/** Refuses a change that would leave the desk with no enabled admin. */
async function keepOneAdmin(tx: Tx, user: { id: string; name: string; role: string; disabled: boolean }, what: string, field: string): Promise<void> {
  if (user.role !== "admin" || user.disabled) return;
  const others = await tx.user.count({ where: { role: "admin", disabled: false, id: { not: user.id } } });
  if (others === 0) {
    throw new FieldErrors({ [field]: `${user.name} is the last enabled admin: ${what} would leave nobody to manage the desk. Make another user admin first` });
  }
}

async function loadUser(tx: Tx, userId: string) {
  const user = await tx.user.findUnique({ where: { id: userId }, select: { id: true, email: true, name: true, role: true, disabled: true } });
  if (!user) throw new NotFound("User");
  return user;
}

/** Ends every open session of a user at once; returns how many. `keep` spares one (the admin's own, on their own reset). */
async function endSessions(tx: Tx, userId: string, now: Date, keep?: string | null): Promise<number> {
  const { count } = await tx.userSession.updateMany({
    where: { userId, revokedAt: null, ...(keep ? { id: { not: keep } } : {}) },
    data: { revokedAt: now },
  });
  return count;
}

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  createdAt: Date;
  /** Two-factor sign-in is on. */
  secondFactor: boolean;
  groups: Array<{ id: string; name: string }>;
  /** The latest sign-in (session opened), or null. */
  lastSignInAt: Date | null;
  /** Sessions open now. */
  openSessions: number;
  isYou: boolean;
}

export async function listUsers(desk: Desk, actor: Actor): Promise<{ users: UserRow[]; groups: Array<{ id: string; name: string }> }> {
  requireUserAdmin(actor);
  const now = new Date();
  const [users, groups, lastSessions, open] = await Promise.all([
    desk.db.user.findMany({
      orderBy: [{ disabled: "asc" }, { name: "asc" }, { email: "asc" }],
      select: { id: true, email: true, name: true, role: true, disabled: true, createdAt: true, totpEnabledAt: true, groups: { select: { group: { select: { id: true, name: true } } } } },
    }),
    desk.db.approvalGroup.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } }),
    desk.db.userSession.groupBy({ by: ["userId"], _max: { createdAt: true } }),
    desk.db.userSession.groupBy({ by: ["userId"], where: { revokedAt: null, expiresAt: { gt: now } }, _count: { _all: true } }),
  ]);
  const last = new Map(lastSessions.map((s) => [s.userId, s._max.createdAt]));
  const openCount = new Map(open.map((s) => [s.userId, s._count._all]));
  return {
    groups,
    users: users.map((u) => ({
      id: u.id,
      email: u.email,
      name: u.name,
      role: u.role as Role,
      disabled: u.disabled,
      createdAt: u.createdAt,
      secondFactor: u.totpEnabledAt !== null,
      groups: u.groups.map((g) => g.group).sort((a, b) => a.name.localeCompare(b.name)),
      lastSignInAt: last.get(u.id) ?? null,
      openSessions: openCount.get(u.id) ?? 0,
      isYou: u.id === actor.id,
    })),
  };
}

export interface CreateUserInput {
  email: string;
  name?: string | null;
  role: Role;
  /** Absent or empty: one is generated and shown once. */
  password?: string | null;
}

/** A new account; the password (generated unless the admin set one) comes back once and is never readable again. */
export async function createUserByAdmin(desk: Desk, actor: Actor, input: CreateUserInput, ip?: string) {
  requireUserAdmin(actor);
  const password = input.password?.length ? input.password : undefined;
  const { user, password: initial } = await createUser(desk.db, { email: input.email, name: input.name ?? undefined, role: input.role, password }, actor.id, ip ?? null);
  return { id: user.id, email: user.email, name: user.name, role: user.role as Role, password: initial, generated: password === undefined };
}

/** A new role, in force on the user's next request (every request reads the role afresh). */
export async function changeRole(desk: Desk, actor: Actor, input: { userId: string; role: Role }, ip?: string) {
  requireUserAdmin(actor);
  if (!ROLES.includes(input.role)) throw new FieldErrors({ role: `Choose a role: ${ROLES.join(", ")}` });
  return desk.db.$transaction(async (tx) => {
    await lockAdminChanges(tx);
    const user = await loadUser(tx, input.userId);
    if (user.role === input.role) return { id: user.id, role: input.role, changed: false };
    if (input.role !== "admin") await keepOneAdmin(tx, user, `making them ${input.role}`, "role");
    await tx.user.update({ where: { id: user.id }, data: { role: input.role } });
    await audit(tx, {
      actorId: actor.id,
      action: "user.role",
      entityType: "user",
      entityId: user.id,
      details: { email: user.email, before: { role: user.role }, after: { role: input.role } },
      ip,
    });
    return { id: user.id, role: input.role, changed: true };
  });
}

/**
 * Disables (every open session ends at once: its rows are revoked, so the
 * next request of any of the user's browsers is refused) or enables an account.
 */
export async function setDisabled(desk: Desk, actor: Actor, input: { userId: string; disabled: boolean }, ip?: string) {
  requireUserAdmin(actor);
  if (input.disabled && input.userId.toLowerCase() === actor.id.toLowerCase()) {
    throw new Forbidden("You cannot disable your own account; another admin can", "users.disable_self");
  }
  const now = new Date();
  return desk.db.$transaction(async (tx) => {
    await lockAdminChanges(tx);
    const user = await loadUser(tx, input.userId);
    if (user.disabled === input.disabled) return { id: user.id, disabled: user.disabled, sessionsEnded: 0, changed: false };
    if (input.disabled) await keepOneAdmin(tx, user, "disabling them", "disabled");
    await tx.user.update({ where: { id: user.id }, data: { disabled: input.disabled } });
    const sessionsEnded = input.disabled ? await endSessions(tx, user.id, now) : 0;
    await audit(tx, {
      actorId: actor.id,
      action: input.disabled ? "user.disable" : "user.enable",
      entityType: "user",
      entityId: user.id,
      details: { email: user.email, before: { disabled: user.disabled }, after: { disabled: input.disabled }, ...(input.disabled ? { sessionsEnded } : {}) },
      ip,
    });
    return { id: user.id, disabled: input.disabled, sessionsEnded, changed: true };
  });
}

/**
 * A new password (generated unless the admin sets one), shown once. The
 * user's sessions end at once; an admin resetting their own keeps the
 * session they are using (so they can read it), and the others end.
 */
export async function resetPassword(
  desk: Desk,
  actor: Actor,
  input: { userId: string; password?: string | null },
  ip?: string,
  currentSessionId?: string | null,
) {
  requireUserAdmin(actor);
  const given = input.password?.length ? input.password : undefined;
  const password = given ?? generatePassword();
  const problem = passwordProblem(password);
  if (problem) throw new FieldErrors({ password: problem });
  // Outside the transaction: argon2 takes tens of milliseconds and needs no lock.
  const passwordHash = await hashPassword(password);
  const now = new Date();
  const own = input.userId.toLowerCase() === actor.id.toLowerCase();
  const result = await desk.db.$transaction(async (tx) => {
    const user = await loadUser(tx, input.userId);
    await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
    const sessionsEnded = await endSessions(tx, user.id, now, own ? currentSessionId : null);
    await audit(tx, {
      actorId: actor.id,
      action: "user.password_reset",
      entityType: "user",
      entityId: user.id,
      // Never the password or its hash: only that it changed and how.
      details: { email: user.email, password: given ? "set by the admin" : "generated", sessionsEnded },
      ip,
    });
    return { id: user.id, sessionsEnded };
  });
  return { ...result, password, generated: given === undefined };
}
