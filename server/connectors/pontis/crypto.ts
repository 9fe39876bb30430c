// PontisGlobe's wire crypto: every request body is {"data": enc} where enc is
// AES-256-GCM over JSON.stringify(payload), and every request is signed with
// HMAC-SHA256 over `${timestamp}.${enc}`. Callbacks are signed with the same
// HMAC key over `${timestamp}.${rawBody}`.
//
// enc = b64url(iv) ":" b64url(tag) ":" b64url(ciphertext); 12-byte random IV,
// 16-byte tag, no AAD. Keys are the base64url-decoded secrets (32 bytes each).
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/** Pontis' limit on a request body (413 above it). */
export const MAX_BODY_BYTES = 64 * 1024;

/** Decodes a base64url secret into its 32 key bytes; throws with a readable reason otherwise. */
export function decodeKey(value: string | undefined, name: string): Buffer {
  if (!value || value.trim() === "") throw new Error(`${name} is missing`);
  const trimmed = value.trim();
  // Standard base64 (+/ and = padding) is accepted too: people paste either.
  if (!/^[A-Za-z0-9_\-+/]+={0,2}$/.test(trimmed)) throw new Error(`${name} is not base64url`);
  const bytes = Buffer.from(trimmed.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""), "base64url");
  if (bytes.length !== KEY_BYTES) throw new Error(`${name} must decode to ${KEY_BYTES} bytes (it decodes to ${bytes.length})`);
  return bytes;
}

/** Encrypts a payload (an object is JSON.stringify'd; a string is taken as the exact plaintext). */
export function encryptPayload(payload: unknown, key: Buffer, iv: Buffer = randomBytes(IV_BYTES)): string {
  if (iv.length !== IV_BYTES) throw new Error(`The IV must be ${IV_BYTES} bytes`);
  const plaintext = typeof payload === "string" ? payload : JSON.stringify(payload);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${iv.toString("base64url")}:${tag.toString("base64url")}:${ciphertext.toString("base64url")}`;
}

const ENC_PATTERN = /^([A-Za-z0-9_-]+):([A-Za-z0-9_-]+):([A-Za-z0-9_-]*)$/;

export function looksEncrypted(value: unknown): value is string {
  return typeof value === "string" && ENC_PATTERN.test(value);
}

/** Decrypts enc to its plaintext string; throws if it is malformed or the tag does not verify. */
export function decryptToString(enc: string, key: Buffer): string {
  const match = ENC_PATTERN.exec(enc);
  if (!match) throw new Error("not an iv:tag:ciphertext triple");
  const iv = Buffer.from(match[1]!, "base64url");
  const tag = Buffer.from(match[2]!, "base64url");
  const ciphertext = Buffer.from(match[3]!, "base64url");
  if (iv.length !== IV_BYTES) throw new Error(`the IV is ${iv.length} bytes, not ${IV_BYTES}`);
  if (tag.length !== TAG_BYTES) throw new Error(`the tag is ${tag.length} bytes, not ${TAG_BYTES}`);
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
  } catch {
    throw new Error("the authentication tag does not verify (wrong key or altered data)");
  }
}

/** Decrypts enc and parses the JSON plaintext. */
export function decryptPayload(enc: string, key: Buffer): unknown {
  const text = decryptToString(enc, key);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error("the decrypted payload is not JSON");
  }
}

/** x-signature of a request: lowercase hex HMAC-SHA256 over `${timestamp}.${enc}`. */
export function requestSignature(timestamp: string, enc: string, hmacKey: Buffer): string {
  return createHmac("sha256", hmacKey).update(`${timestamp}.${enc}`, "utf8").digest("hex");
}

/**
 * What a callback's signature covers. Pontis documents "HMAC over
 * `${timestamp}.${rawBody}`" without publishing a test vector, so this is the
 * one place to change if the real string turns out to differ.
 */
export function callbackSignedString(timestamp: string, rawBody: string): string {
  return `${timestamp}.${rawBody}`;
}

/** The x-pontis-signature header value of a callback: `sha256=<hex>`. */
export function callbackSignature(timestamp: string, rawBody: string, hmacKey: Buffer): string {
  return `sha256=${createHmac("sha256", hmacKey).update(callbackSignedString(timestamp, rawBody), "utf8").digest("hex")}`;
}

/** Constant-time comparison of two hex strings (false on any length or format mismatch). */
export function hexEquals(a: string, b: string): boolean {
  if (!/^[0-9a-f]+$/i.test(a) || !/^[0-9a-f]+$/i.test(b) || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a.toLowerCase(), "hex"), Buffer.from(b.toLowerCase(), "hex"));
}

/** A fresh 32-byte secret, base64url (for sandbox credentials). */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString("base64url");
}
