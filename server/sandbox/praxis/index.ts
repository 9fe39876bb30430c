// The built-in Praxis emulator (Cashier Direct API 1.2 payouts + Agent API find-order).
//
// Wiring in the desk:
//   const emulator = createPraxisEmulator({
//     basePath: "/api/sandbox/praxis",
//     accounts: (merchantId, applicationKey) => {
//       // find the sandbox connection whose credentials carry these ids
//       return sandboxAccountFor(connection.credentials, merchantId, applicationKey);
//     },
//   });
// and give the connection baseUrl = sandboxBaseUrl(origin) with
// credentials = sandboxCredentials() from "@/server/connectors/praxis".
// accounts(merchantId, applicationKey) answers { merchantSecret, notificationUrl?, gateways? }
// for a known merchant application, null otherwise. Notifications go to the
// request's notification_url (the connection's callbackUrl) unless the
// account names a notificationUrl.
import { PRAXIS_SANDBOX_GATEWAY } from "@/server/connectors/praxis/wire";
import type { PraxisEmulatorAccount } from "./emulator";

export {
  createPraxisEmulator,
  sandboxOutcome,
  PRAXIS_EMULATOR_ERRORS,
  type EmulatedPraxisTransaction,
  type NotificationAttempt,
  type PraxisEmulator,
  type PraxisEmulatorAccount,
  type PraxisEmulatorOptions,
  type PraxisFault,
  type PraxisFaultMode,
  type PraxisFaultOperation,
  type PraxisSandboxOutcome,
} from "./emulator";

export const PRAXIS_SANDBOX_BASE_PATH = "/api/sandbox/praxis";

/** The Direct API URL of the built-in emulator, to store as a sandbox connection's baseUrl. */
export function sandboxBaseUrl(origin: string): string {
  return `${origin.replace(/\/+$/, "")}${PRAXIS_SANDBOX_BASE_PATH}/api/direct`;
}

/**
 * What the emulator's accounts() must answer for a connection's (decrypted)
 * credentials: its secret when merchantId and applicationKey are the ones
 * asked for, otherwise null. The connection's own gateway is allowed besides
 * the Test E-Wallet one.
 */
export function sandboxAccountFor(
  credentials: Record<string, string>,
  merchantId: string,
  applicationKey: string,
  /** Optional fixed notification URL; without it the request's notification_url is used. */
  notificationUrl?: string,
): PraxisEmulatorAccount | null {
  if (!credentials.merchantSecret || !credentials.merchantId || !credentials.applicationKey) return null;
  if (credentials.merchantId !== merchantId || credentials.applicationKey !== applicationKey) return null;
  const gateways = [PRAXIS_SANDBOX_GATEWAY, ...(credentials.gateway && credentials.gateway !== PRAXIS_SANDBOX_GATEWAY ? [credentials.gateway] : [])];
  return { merchantSecret: credentials.merchantSecret, gateways, ...(notificationUrl ? { notificationUrl } : {}) };
}
