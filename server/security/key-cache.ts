// Parsed keys, kept per process by their text. The desk opens a connector for
// every send and every callback, and parsing a PEM (and deriving its public
// half) cost more than the signature itself: a few milliseconds a payout.
// KeyObjects are immutable, so sharing them is safe; the cache is bounded.
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";

const MAX_ENTRIES = 256;
const privateKeys = new Map<string, KeyObject>();
const publicKeys = new Map<string, KeyObject>();
const publicPems = new Map<string, string>();

/** `cache`'s value for `key`, made (and kept, the oldest let go past MAX_ENTRIES) on a miss. */
export function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  const found = cache.get(key);
  if (found !== undefined) return found;
  const made = make();
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(key, made);
  return made;
}

/** createPrivateKey(pem), parsed once. Throws as createPrivateKey does (nothing is cached then). */
export function privateKeyFromPem(pem: string): KeyObject {
  return remember(privateKeys, pem, () => createPrivateKey(pem));
}

/** createPublicKey(input) for a PEM, SPKI DER or private key text, parsed once. */
export function publicKeyFrom(input: string): KeyObject {
  return remember(publicKeys, input, () => createPublicKey(input));
}

/** The SPKI PEM of the public half of a private (or public) key PEM. */
export function publicPemOf(pem: string): string {
  return remember(publicPems, pem, () => createPublicKey(pem).export({ type: "spki", format: "pem" }).toString());
}
