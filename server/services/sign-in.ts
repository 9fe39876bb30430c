// Credential sign-in with rate limits per account and per IP address,
// counted in the database so they hold across restarts and processes.
import type { Db } from "./types";
import { dummyVerify, verifyPassword } from "@/server/auth/password";
import { isRole } from "@/server/auth/roles";
import { TooManyAttempts } from "./errors";

export const SIGN_IN_LIMITS = {
  windowMinutes: 15,
  perAccount: 5,
  perIp: 30,
};

export interface SignedInUser {
  id: string;
  email: string;
  name: string;
  role: "viewer" | "maker" | "approver" | "admin";
}

/** Returns the user, null for wrong credentials, or throws TooManyAttempts. */
export async function signIn(db: Db, emailInput: string, password: string, ip: string): Promise<SignedInUser | null> {
  const email = emailInput.trim().toLowerCase();
  const since = new Date(Date.now() - SIGN_IN_LIMITS.windowMinutes * 60_000);
  const [accountFailures, ipFailures] = await Promise.all([
    db.signInAttempt.count({ where: { email, success: false, at: { gte: since } } }),
    db.signInAttempt.count({ where: { ip, success: false, at: { gte: since } } }),
  ]);
  if (accountFailures >= SIGN_IN_LIMITS.perAccount || ipFailures >= SIGN_IN_LIMITS.perIp) {
    throw new TooManyAttempts(`Too many failed sign-in attempts. Wait ${SIGN_IN_LIMITS.windowMinutes} minutes and try again.`);
  }

  const user = await db.user.findUnique({ where: { email } });
  const ok = user && !user.disabled ? await verifyPassword(user.passwordHash, password) : await dummyVerify(password).then(() => false);
  await db.signInAttempt.create({ data: { email, ip, success: Boolean(ok) } });
  if (!ok || !user || !isRole(user.role)) return null;
  await db.auditLog.create({ data: { actorId: user.id, action: "user.sign_in", entityType: "user", entityId: user.id, ip } });
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}
