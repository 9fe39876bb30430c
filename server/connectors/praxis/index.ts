// Praxis Cashier Direct API 1.2 (payouts): the connector, its signing helpers
// and what a fresh built-in sandbox connection needs.
//
// Credential keys (ConnectionConfig.credentials), see createPraxisConnector:
//   merchantId, applicationKey, merchantSecret  (required)
//   gateway            (required live; sandbox default PRAXIS_SANDBOX_GATEWAY)
//   notificationUrl, returnUrl, agentBaseUrl, callbackMaxAgeSeconds  (optional)
import { randomBytes } from "node:crypto";
import type { ConnectorFactory } from "../types";
import { createPraxisConnector } from "./connector";
import { PRAXIS_SANDBOX_GATEWAY } from "./wire";

export { createPraxisConnector, customerPin, mapTransaction, plainJson } from "./connector";
export {
  integerField,
  isFields,
  JsonNumber,
  parsePraxisJson,
  parsePraxisObject,
  PRAXIS_VERSION,
  signatureBase,
  signatureText,
  signPraxis,
  textField,
  toPraxisJson,
  verifyPraxis,
  withSignature,
  type PraxisFields,
  type PraxisValue,
} from "./signature";
export {
  fromPraxisAmount,
  ORDER_NOT_FOUND,
  PRAXIS_AS_IS_CURRENCIES,
  PRAXIS_SANDBOX_GATEWAY,
  PRAXIS_TEST_PROCESSOR,
  toPraxisAmount,
  type PraxisNotificationStatus,
  type PraxisTransactionStatus,
} from "./wire";

export const praxisConnectorFactory: ConnectorFactory = createPraxisConnector;
export default praxisConnectorFactory;

export interface PraxisSandboxCredentials {
  merchantId: string;
  applicationKey: string;
  merchantSecret: string;
  gateway: string;
  [key: string]: string;
}

/**
 * Credentials for a fresh built-in sandbox connection: random ids and a
 * random 32-byte secret, routed to the emulator's Test E-Wallet gateway.
 * The connection's baseUrl is `${origin}/api/sandbox/praxis/api/direct`
 * (see sandboxBaseUrl in server/sandbox/praxis).
 */
export function sandboxCredentials(): PraxisSandboxCredentials {
  return {
    merchantId: `sandbox-merchant-${randomBytes(4).toString("hex")}`,
    applicationKey: `sandbox-app-${randomBytes(6).toString("hex")}`,
    merchantSecret: randomBytes(32).toString("hex"),
    gateway: PRAXIS_SANDBOX_GATEWAY,
  };
}
