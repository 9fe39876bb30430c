// Paytota Mobile Money V2 payouts: the connector, its signature helpers, and
// the credentials a fresh built-in sandbox connection gets.
//
// Credential keys (Record<string,string>, see readSettings in connector.ts):
//   secretKey (required), brandId (required), clientEmail, lookupByReference
//   ("true" default), amountUnits ("minor" default | "major"),
//   webhookPublicKeyPem, payoutType ("mobile" default), currencies.
import { randomBytes, randomUUID } from "node:crypto";
import type { ConnectorFactory } from "../types";
import { createPaytotaConnector } from "./connector";

export { clearPaytotaKeyCache, createPaytotaConnector, KEY_REFRESH_MIN_INTERVAL_MS, mapPayoutObject, readSettings, type PaytotaSettings } from "./connector";
export { generateSigningKey, importPublicKey, readPublicKeyAnswer, signBody, verifyBody, SIGNATURE_HEADER } from "./signature";
export {
  answerAmountText,
  countryOfMsisdn,
  JsonNumber,
  parseJsonLossless,
  payoutObjectSchema,
  requestAmount,
  responseAmountMinor,
  PAYOUT_STATUSES,
  type AmountUnits,
  type InitiateBody,
  type PayoutObject,
} from "./wire";

/** Credentials for a new built-in sandbox connection: a random secret key and brand id (the emulator learns them through accounts()). */
export function sandboxCredentials(): Record<string, string> {
  return {
    secretKey: `sandbox-${randomBytes(24).toString("hex")}`,
    brandId: randomUUID(),
    clientEmail: "payouts@sandbox.example",
  };
}

export const paytotaConnectorFactory: ConnectorFactory = createPaytotaConnector;
export default paytotaConnectorFactory;
