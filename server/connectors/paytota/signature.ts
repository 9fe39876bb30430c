// Paytota callback signatures: header X-Signature is the base64 RSA PKCS#1
// v1.5 signature, SHA-256, of the raw request body bytes. The public key
// comes from GET /api/v1/public_key/ (or, for a dashboard webhook, from the
// webhook's own key). Verification is over the exact bytes received: a body
// re-serialised by anyone along the way does not verify, by design.
import { privateKeyFromPem, publicKeyFrom } from "@/server/security/key-cache";
import { generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";

export const SIGNATURE_HEADER = "x-signature";

/** base64(RSASSA-PKCS1-v1_5(SHA-256(body))). */
export function signBody(body: string | Uint8Array, privateKey: KeyObject | string): string {
  const key = typeof privateKey === "string" ? privateKeyFromPem(privateKey) : privateKey;
  return sign("sha256", toBytes(body), key).toString("base64");
}

/** True when `signature` (base64) is the PKCS#1 v1.5 SHA-256 signature of exactly these body bytes. */
export function verifyBody(body: string | Uint8Array, signature: string, publicKey: KeyObject): boolean {
  const trimmed = signature.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return false;
  const bytes = Buffer.from(trimmed, "base64");
  if (bytes.length === 0) return false;
  try {
    return verify("sha256", toBytes(body), publicKey, bytes);
  } catch {
    return false;
  }
}

/**
 * Reads GET /api/v1/public_key/'s answer. Paytota (like the CHIP platform it
 * runs on) answers the PEM as a JSON string; a bare PEM body or an object
 * with `public_key` is accepted too, because the format is not documented.
 */
export function readPublicKeyAnswer(text: string): KeyObject | null {
  let candidate: unknown = text;
  try {
    candidate = JSON.parse(text);
  } catch {
    candidate = text;
  }
  if (typeof candidate === "object" && candidate !== null && !Array.isArray(candidate)) {
    const record = candidate as Record<string, unknown>;
    candidate = record.public_key ?? record.publicKey ?? record.key;
  }
  if (typeof candidate !== "string") return null;
  return importPublicKey(candidate);
}

/** A PEM public key (SPKI or PKCS#1) or certificate; null when it is not an RSA key. */
export function importPublicKey(pem: string): KeyObject | null {
  try {
    const key = publicKeyFrom(pem.replace(/\\n/g, "\n").trim());
    return key.asymmetricKeyType === "rsa" ? key : null;
  } catch {
    return null;
  }
}

/** A fresh RSA pair (the emulator's own callback key). */
export function generateSigningKey(modulusLength = 2048): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

function toBytes(body: string | Uint8Array): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
}
