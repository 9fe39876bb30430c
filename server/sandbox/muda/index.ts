// The built-in Muda Payments emulator.
//
// Wiring (the desk): createMudaEmulator({ basePath: "/api/sandbox/muda", accounts })
// where accounts(apiKey) finds the built-in Muda connection whose
// credentials.apiKey === apiKey and answers sandboxAccountFor(credentials,
// callbackUrl) — or null when none has that key (Muda then answers 401).
// The connection's baseUrl is the desk's {appUrl}/api/sandbox/muda: the
// connector appends /v1/... to it, exactly as to https://api.muda.tech.
import type { MudaEmulatorAccount } from "./emulator";

export {
  createMudaEmulator,
  sandboxOutcome,
  type CallbackAttempt,
  type EmulatedTransaction,
  type MudaEmulator,
  type MudaEmulatorAccount,
  type MudaEmulatorOptions,
  type MudaFault,
  type MudaFaultMode,
  type MudaFaultOperation,
  type MudaTransactionStatus,
  type SandboxOutcome,
} from "./emulator";

/**
 * What the emulator's accounts() must answer for a connection, given its
 * decrypted credentials (apiKey, secretKey, optional clientId) and the desk's
 * webhook URL for it. Null when the credentials hold no secret.
 */
export function sandboxAccountFor(credentials: Record<string, string>, callbackUrl: string): MudaEmulatorAccount | null {
  if (!credentials.apiKey || !credentials.secretKey) return null;
  return {
    secretKey: credentials.secretKey,
    callbackUrl,
    ...(credentials.clientId ? { clientId: credentials.clientId } : {}),
  };
}
