import type { Role } from "@/server/auth/roles";
import { generatePassword, hashPassword, passwordProblem } from "@/server/auth/password";
import type { Db } from "./types";
import { Conflict, FieldErrors } from "./errors";

export interface NewUser {
  email: string;
  name?: string;
  role: Role;
  /** Generated when absent; returned so it can be shown once. */
  password?: string;
}

export async function createUser(db: Db, input: NewUser, actorId: string | null = null) {
  const email = input.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new FieldErrors({ email: "Enter a valid email address" });
  const password = input.password ?? generatePassword();
  const problem = passwordProblem(password);
  if (problem) throw new FieldErrors({ password: problem });
  if (await db.user.findUnique({ where: { email } })) throw new Conflict(`A user with email ${email} already exists`);
  const user = await db.user.create({
    data: { email, name: input.name?.trim() || email.split("@")[0]!, role: input.role, passwordHash: await hashPassword(password) },
  });
  await db.auditLog.create({
    data: { actorId, action: "user.create", entityType: "user", entityId: user.id, details: { email, role: input.role } },
  });
  return { user, password };
}

/** Demo accounts of the embedded default: one per role, passwords in the README. */
export const DEMO_USERS: ReadonlyArray<{ email: string; name: string; role: Role; password: string }> = [
  { email: "maker@demo.desk", name: "Mary Maker", role: "maker", password: "maker-demo-pass" },
  { email: "approver@demo.desk", name: "Arthur Approver", role: "approver", password: "approver-demo-pass" },
  { email: "admin@demo.desk", name: "Ada Admin", role: "admin", password: "admin-demo-pass" },
  { email: "viewer@demo.desk", name: "Victor Viewer", role: "viewer", password: "viewer-demo-pass" },
];

export async function seedDemoUsers(db: Db): Promise<boolean> {
  if ((await db.user.count()) > 0) return false;
  for (const demo of DEMO_USERS) await createUser(db, demo);
  return true;
}
