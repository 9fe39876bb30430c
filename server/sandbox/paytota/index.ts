// The built-in Paytota emulator (Mobile Money V2 payouts).
//
// Wiring it into the desk: the emulator calls accounts(secretKey) for every
// authenticated request. Find the built-in sandbox connection whose
// credentials.secretKey equals it and answer sandboxAccountFor(credentials,
// callbackUrl) (null when none matches): the brand the key may pay for and
// where the emulator posts signed callbacks.
import type { PaytotaEmulatorAccount } from "./emulator";

export {
  createPaytotaEmulator,
  DEFAULT_PAYOUT_FEES,
  payoutFee,
  toJsonText,
  type CallbackAttempt,
  type EmulatedPayout,
  type EmulatedPayoutStatus,
  type PaytotaEmulator,
  type PaytotaEmulatorAccount,
  type PaytotaEmulatorOptions,
  type PaytotaFault,
  type PaytotaFaultMode,
  type PaytotaFaultOperation,
  type PaytotaFeeRule,
} from "./emulator";

/** How accounts() answers for a connection with these (decrypted) credentials; null when they cannot authenticate. */
export function sandboxAccountFor(credentials: Record<string, string>, callbackUrl: string | null | undefined): PaytotaEmulatorAccount | null {
  if (!credentials.secretKey || !credentials.brandId) return null;
  return { brandId: credentials.brandId, ...(callbackUrl ? { callbackUrl } : {}) };
}
