// PontisGlobe (USDT-funded bank payouts): the connector, its wire crypto, and
// the credentials a fresh built-in sandbox connection gets.
//
// Credential keys the connector reads (ConnectionConfig.credentials):
//   apiKey, encryptionKey (base64url, 32 bytes), hmacKey (base64url, 32 bytes),
//   email, password; optional defaultPaymentMethod, defaultCountry,
//   paymentNetwork, sourceOfFunds, paymentMethods (JSON). See connector.ts.
import { randomBytes } from "node:crypto";
import type { ConnectorFactory } from "../types";
import { createPontisConnector } from "./connector";
import { generateKey } from "./crypto";

export { createPontisConnector, PONTIS_PATHS, SOURCE_CURRENCY, type PontisConnectorDeps } from "./connector";
export {
  callbackSignature,
  callbackSignedString,
  decodeKey,
  decryptPayload,
  decryptToString,
  encryptPayload,
  generateKey,
  looksEncrypted,
  requestSignature,
  MAX_BODY_BYTES,
} from "./crypto";
export { channelCode, findMethod, resolvePaymentMethods, PAYMENT_METHODS, type PaymentMethod, type MethodField } from "./methods";
export { clearPontisSessions } from "./session";
export { ERROR_DESCRIPTIONS, mapTransactionStatus, readEnvelope, TRANSACTION_STATUSES, type SendPayoutPayload } from "./wire";

/** The credentials of the built-in Pontis sandbox account: fresh random keys and a login. */
export interface PontisSandboxCredentials {
  apiKey: string;
  encryptionKey: string;
  hmacKey: string;
  email: string;
  password: string;
  [key: string]: string;
}

export function sandboxCredentials(): PontisSandboxCredentials {
  return {
    apiKey: `pk_sandbox_${randomBytes(12).toString("hex")}`,
    encryptionKey: generateKey(),
    hmacKey: generateKey(),
    email: `desk-${randomBytes(4).toString("hex")}@sandbox.pontisglobe.test`,
    password: randomBytes(18).toString("base64url"),
  };
}

export const pontisConnectorFactory: ConnectorFactory = createPontisConnector;
export default pontisConnectorFactory;
