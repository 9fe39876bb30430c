import { isRole, ROLES, type Role } from "@/server/auth/roles";
import { generatePassword, hashPassword, passwordProblem } from "@/server/auth/password";
import type { Db } from "./types";
import { FieldErrors } from "./errors";
import { audit } from "./audit";
import { sealTotpSecret } from "./second-factor";

export interface NewUser {
  email: string;
  name?: string;
  role: Role;
  /** Generated when absent; returned so it can be shown once. */
  password?: string;
}

export const USER_NAME_MAX = 120;
export const EMAIL_MAX = 254;

/**
 * A new account (the admin's Users section, `npm run user:create`, the demo
 * seed, tests). The password is generated when none is given and returned so
 * it can be shown once; only its argon2 hash is kept. Audited with the
 * account as created (never the password), as the transaction's last write.
 */
export async function createUser(db: Db, input: NewUser, actorId: string | null = null, ip: string | null = null) {
  const email = input.email.trim().toLowerCase();
  const name = input.name?.trim() || email.split("@")[0]!;
  const password = input.password ?? generatePassword();
  const errors: Record<string, string> = {};
  if (email.length > EMAIL_MAX || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) errors.email = "Enter a valid email address such as name@company.com";
  if (name.length > USER_NAME_MAX) errors.name = `${USER_NAME_MAX} characters at most; this has ${name.length.toLocaleString("en")}`;
  // eslint-disable-next-line no-control-regex
  else if (/[\u0000-\u001f\u007f]/.test(name)) errors.name = "One line of text: no line breaks, tabs or control characters";
  if (!isRole(input.role)) errors.role = `Choose a role: ${ROLES.join(", ")}`;
  const problem = passwordProblem(password);
  if (problem) errors.password = problem;
  if (Object.keys(errors).length > 0) throw new FieldErrors(errors);
  if (await db.user.findUnique({ where: { email } })) throw new FieldErrors({ email: `A user with email ${email} already exists` });
  // Hashed before the transaction: argon2 takes tens of milliseconds and holds no lock.
  const passwordHash = await hashPassword(password);
  const user = await db.$transaction(async (tx) => {
    const created = await tx.user.create({ data: { email, name, role: input.role, passwordHash } }).catch((error: { code?: string }) => {
      // Another admin created the same email in between.
      if (error?.code === "P2002") throw new FieldErrors({ email: `A user with email ${email} already exists` });
      throw error;
    });
    await audit(tx, {
      actorId,
      action: "user.create",
      entityType: "user",
      entityId: created.id,
      details: { after: { email, name, role: input.role, disabled: false }, password: input.password === undefined ? "generated" : "set by the creator" },
      ip,
    });
    return created;
  });
  return { user, password };
}

/**
 * Demo accounts of the embedded default: one per role, passwords in the
 * README. The approver and the admin must use two-factor sign-in, so they
 * come enrolled with a published key (printed at start, in the README, and
 * used by the browser tests to compute codes): a demo, not a secret.
 */
export const DEMO_USERS: ReadonlyArray<{ email: string; name: string; role: Role; password: string; totpKey?: string }> = [
  { email: "maker@demo.desk", name: "Mary Maker", role: "maker", password: "maker-demo-pass" },
  { email: "approver@demo.desk", name: "Arthur Approver", role: "approver", password: "approver-demo-pass", totpKey: "DEMOAPPROVERTOTPSECRETKEY2345672" },
  { email: "admin@demo.desk", name: "Ada Admin", role: "admin", password: "admin-demo-pass", totpKey: "DEMOADMINTOTPSECRETKEYFORDESK234" },
  { email: "viewer@demo.desk", name: "Victor Viewer", role: "viewer", password: "viewer-demo-pass" },
];

/** Seeds the demo users into an empty desk; with the desk's key, the approver and admin get their published TOTP keys. */
export async function seedDemoUsers(db: Db, credentialsKey?: Buffer): Promise<boolean> {
  if ((await db.user.count()) > 0) return false;
  for (const demo of DEMO_USERS) {
    const { user } = await createUser(db, demo);
    if (demo.totpKey && credentialsKey) {
      await db.user.update({
        where: { id: user.id },
        data: { totpSecret: sealTotpSecret(credentialsKey, user.id, demo.totpKey), totpEnabledAt: new Date(), totpRecoveryCodes: [] },
      });
    }
  }
  return true;
}
