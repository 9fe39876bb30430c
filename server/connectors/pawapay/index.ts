// pawaPay Merchant API v1: the connector and the signing helpers the desk
// needs elsewhere (key generation for a new connection, digests).
import type { ConnectorFactory } from "../types";
import { createPawapayConnector } from "./connector";

export { clearPawapayKeyCache, createPawapayConnector, KEY_REFRESH_MIN_INTERVAL_MS, mapPayoutObject, PUBLIC_KEYS_TTL_MS } from "./connector";
export {
  contentDigest,
  generatePawapaySigningKey,
  importPublicKey,
  signMessage,
  signatureBase,
  verifyContentDigest,
  verifyMessageSignature,
  PAWAPAY_CALLBACK_COMPONENTS,
  PAWAPAY_REQUEST_COMPONENTS,
  PAWAPAY_SIGNATURE_LABEL,
  SIGNATURE_ALGORITHMS,
  type DigestAlgorithm,
  type EcdsaSignatureFormat,
  type SignatureAlgorithm,
} from "./http-signature";
export { CORRESPONDENTS, predictCorrespondent, resolveCorrespondents, type Correspondent } from "./correspondents";

export const pawapayConnectorFactory: ConnectorFactory = createPawapayConnector;
export default pawapayConnectorFactory;
