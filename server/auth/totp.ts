// The second factor's arithmetic, without I/O: TOTP secrets and codes
// (RFC 6238 through otplib, the settings every authenticator app reads:
// SHA-1, 6 digits, 30 seconds) and the single-use recovery codes.
//
// Codes are checked here; whether a code was already used (replay) and
// what it proves are decided by the caller, which knows when this user last
// proved a factor (see server/services/second-factor.ts).
import { randomInt } from "node:crypto";
import { generateSecret, generateURI, verify } from "otplib";
import { hashPassword, verifyPassword } from "./password";

export const TOTP_PERIOD_SECONDS = 30;
/**
 * How far a code may lag or lead the server's clock. One step back covers a
 * code typed just as the app rolled over; a few seconds ahead covers a phone
 * whose clock runs slightly fast. Kept small ahead because replay protection
 * must assume a code up to this far in the future was the one used.
 */
export const TOTP_PAST_TOLERANCE_SECONDS = 30;
export const TOTP_FUTURE_TOLERANCE_SECONDS = 5;

export const RECOVERY_CODE_COUNT = 10;
/** base32 without the letters people misread (no 0/1/8/9 in base32; l and o are left out too). */
const RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz234567";
const RECOVERY_CODE_LENGTH = 10;

/** The issuer authenticator apps show beside the account. */
export const TOTP_ISSUER = "Payout desk";

/** A fresh secret: 20 random bytes (160 bits, RFC 4226's recommendation), base32. */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** The otpauth:// URI a QR code carries. */
export function totpUri(secret: string, accountLabel: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: accountLabel, secret });
}

/** The secret as people type it into an app: groups of four. */
export function formatManualKey(secret: string): string {
  return secret.replace(/(.{4})/g, "$1 ").trim();
}

/** The RFC 6238 time step an instant falls in. */
export function timeStepAt(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The latest time step a code accepted at `at` can have belonged to (the
 * future tolerance included): a later code must be of a later step, so a
 * code that has been used once is never accepted again.
 */
export function lastStepUsableAt(at: Date): number {
  return Math.floor((at.getTime() / 1000 + TOTP_FUTURE_TOLERANCE_SECONDS) / TOTP_PERIOD_SECONDS);
}

export type CodeShape = "totp" | "recovery" | "neither";

/** Spaces and dashes dropped, lower case: how a typed code is compared. */
export function normalizeCode(code: string): string {
  return code.replace(/[\s-]/g, "").toLowerCase();
}

/** What a typed code looks like: six digits, a recovery code, or neither. */
export function codeShape(code: string): CodeShape {
  const normalized = normalizeCode(code);
  if (/^\d{6}$/.test(normalized)) return "totp";
  if (normalized.length === RECOVERY_CODE_LENGTH && [...normalized].every((c) => RECOVERY_ALPHABET.includes(c))) return "recovery";
  return "neither";
}

/** The time step a 6-digit code belongs to, or null when it is not the secret's code near `now`. */
export async function totpCodeStep(secret: string, code: string, now: Date): Promise<number | null> {
  const token = normalizeCode(code);
  if (!/^\d{6}$/.test(token)) return null;
  try {
    const result = await verify({
      secret,
      token,
      epoch: Math.floor(now.getTime() / 1000),
      epochTolerance: [TOTP_PAST_TOLERANCE_SECONDS, TOTP_FUTURE_TOLERANCE_SECONDS],
    });
    // The union type also covers HOTP results, which have no time step.
    return result.valid && "timeStep" in result ? result.timeStep : null;
  } catch {
    // A secret otplib refuses (corrupt row) proves nothing.
    return null;
  }
}

/** Ten fresh recovery codes, as shown to the user once: "abcde-fghij". */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    let code = "";
    for (let i = 0; i < RECOVERY_CODE_LENGTH; i++) code += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}

/** argon2id hashes of the codes (stored instead of the codes). */
export function hashRecoveryCodes(codes: readonly string[]): Promise<string[]> {
  return Promise.all(codes.map((code) => hashPassword(normalizeCode(code))));
}

/** The stored hash this recovery code matches, or null. */
export async function matchingRecoveryHash(hashes: readonly string[], code: string): Promise<string | null> {
  if (codeShape(code) !== "recovery") return null;
  const normalized = normalizeCode(code);
  for (const hash of hashes) if (await verifyPassword(hash, normalized)) return hash;
  return null;
}

/** The stored Json column as a list of hashes (anything else counts as none). */
export function recoveryHashesOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
