// The built-in PontisGlobe emulator.
//
// Wiring (the desk): mount createPontisEmulator({ basePath: "/api/sandbox/pontis", accounts })
// and answer accounts(apiKey) — called with the x-api-key of every request —
// with sandboxAccountFor(connection.credentials, connection.callbackUrl) for
// the sandbox connection whose credentials.apiKey equals apiKey, or null.
// A fresh sandbox connection's credentials come from
// sandboxCredentials() in "@/server/connectors/pontis".
import type { PontisEmulatorAccount } from "./emulator";

export {
  convertUsdt,
  createPontisEmulator,
  SANDBOX_RATES,
  type EmulatedPontisPayout,
  type EmulatedPontisStatus,
  type PontisCallbackAttempt,
  type PontisEmulator,
  type PontisEmulatorAccount,
  type PontisEmulatorOptions,
  type PontisFault,
  type PontisFaultMode,
  type PontisFaultOperation,
} from "./emulator";
export { EMULATED_METHODS, sandboxOutcome, type EmulatedMethod, type SandboxOutcome } from "./methods";

/**
 * The emulator account for a connection's credentials (the keys below are the
 * connector's credential keys): the secrets it shares with the merchant and
 * where its callbacks go. Returns null when the credentials lack a secret.
 */
export function sandboxAccountFor(credentials: Record<string, string>, callbackUrl?: string | null): PontisEmulatorAccount | null {
  const { encryptionKey, hmacKey, email, password } = credentials;
  if (!encryptionKey || !hmacKey || !email || !password) return null;
  return { encryptionKey, hmacKey, email, password, ...(callbackUrl ? { callbackUrl } : {}) };
}
