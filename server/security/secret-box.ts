// AES-256-GCM envelopes for secrets at rest (provider credentials, TOTP
// secrets). Format: "v1." + base64url(iv) + "." + base64url(tag) + "." +
// base64url(ciphertext). The version prefix lets the key or scheme rotate.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export class SecretBoxError extends Error {}

export function parseKey(keyBase64: string | undefined): Buffer {
  if (!keyBase64) {
    throw new SecretBoxError(
      "DESK_CREDENTIALS_KEY is not set: it must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)",
    );
  }
  const key = Buffer.from(keyBase64, "base64");
  if (key.length !== 32) throw new SecretBoxError("DESK_CREDENTIALS_KEY must decode to exactly 32 bytes");
  return key;
}

export function seal(plaintext: string, key: Buffer, aad = ""): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  if (aad) cipher.setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ciphertext.toString("base64url")].join(".");
}

/** `aad` binds a sealed value to its owner (e.g. the connection id) so it cannot be copied to another row. */
export function open(sealed: string, key: Buffer, aad = ""): string {
  const parts = sealed.split(".");
  if (parts.length !== 4 || parts[0] !== "v1") throw new SecretBoxError("Not a sealed secret");
  const [, iv, tag, ciphertext] = parts as [string, string, string, string];
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    if (aad) decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new SecretBoxError("A stored secret could not be decrypted: wrong DESK_CREDENTIALS_KEY or tampered data");
  }
}
