// Muda Payments: the connector, and what the desk needs to set up a
// connection (credential keys are documented on createMudaConnector).
import { randomBytes } from "node:crypto";
import type { ConnectorFactory } from "../types";
import { createMudaConnector } from "./connector";
import { DEFAULT_PRODUCT_ID } from "./products";

export { createMudaConnector, mapTransaction, MUDA_WEBHOOK_REASON, type MudaApiVersion, type MudaConnector } from "./connector";
export { clearMudaTokenCache, REFRESH_AT_SHARE } from "./token";
export { MUDA_PRODUCTS, DEFAULT_PRODUCT_ID, mudaProduct, type MudaProduct } from "./products";
export { JsonNumber, parseWithNumbers, plainDecimal, rawNumber, stringifyWithNumbers } from "./json";

/** Credentials for a fresh built-in sandbox connection: random keys, the default product. */
export function sandboxCredentials(): Record<string, string> {
  return {
    apiKey: `muda-sandbox-${randomBytes(12).toString("hex")}`,
    secretKey: randomBytes(24).toString("base64url"),
    productId: DEFAULT_PRODUCT_ID,
  };
}

export const mudaConnectorFactory: ConnectorFactory = createMudaConnector;
export default mudaConnectorFactory;
