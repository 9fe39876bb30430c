// argon2id password hashes (OWASP's recommended parameters: m=19 MiB, t=2, p=1).
import { hash, verify } from "@node-rs/argon2";
import { randomBytes } from "node:crypto";

// algorithm 2 is Argon2id (the package exports it as a const enum, which isolated modules cannot read).
const OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A password rule violation, or null. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `Password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  return null;
}

/** A random password for generated accounts: 20 characters from a URL-safe alphabet. */
export function generatePassword(): string {
  return randomBytes(15).toString("base64url");
}

// Verifying against a fixed hash when the account does not exist keeps the
// response time the same, so timing does not reveal which emails exist.
let dummyHash: Promise<string> | undefined;
export function dummyVerify(password: string): Promise<boolean> {
  dummyHash ??= hashPassword("dummy-password-for-timing");
  return dummyHash.then((h) => verifyPassword(h, password));
}
