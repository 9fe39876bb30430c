// What the admin's connection form asks for, per provider. One table, so a
// connector author adds a key in one place and the form, the validation and
// the secret-hiding all follow. Settings a connector reads that are not listed
// here (set in config/desk.json) are kept untouched by the form. Values are
// stored as strings in the sealed credentials envelope ("true" / "false" for
// a yes/no setting). Every credential the README lists is here.
import { createPrivateKey } from "node:crypto";
import type { ProviderKind } from "./types";
import { algorithmsForKey, SIGNATURE_ALGORITHMS } from "./pawapay/http-signature";
import { importPublicKey } from "./paytota/signature";

export interface CredentialField {
  /** Key in the connection's credentials (what the connector reads). */
  key: string;
  label: string;
  /**
   * A secret is write-only: the browser learns only whether it is set, and a
   * blank entry on edit keeps the stored value. A non-secret value (an id, a
   * setting) is shown back so the admin can see what is configured.
   */
  secret: boolean;
  required: boolean;
  hint?: string;
  /** How the form shows it: one line (default), several lines (a PEM key), or a closed list. */
  input?: "text" | "multiline" | "select";
  /** The allowed values of a select; the first is the default. */
  options?: readonly string[];
  /** A URL the desk sends requests to (besides the base URL): changing it asks for the secrets again, like a new base URL. */
  endpoint?: boolean;
  /**
   * For a secret: whether a new base URL asks for it again (default true).
   * False only for a key that never leaves the desk and that the desk may
   * have generated itself, so the admin has no copy to enter.
   */
  reenterForNewUrl?: boolean;
}

export const CREDENTIAL_FIELDS: Readonly<Record<ProviderKind, readonly CredentialField[]>> = {
  pawapay: [
    { key: "apiToken", label: "API token", secret: true, required: true, hint: "From pawaPay's dashboard: System configuration → API tokens." },
    {
      key: "signingKeyPem",
      label: "Signing private key (PEM)",
      secret: true,
      required: false,
      input: "multiline",
      hint: "PKCS#8 private key that signs payout requests. Leave blank to have the desk generate one; register its public key at pawaPay.",
      // It signs and never leaves the desk, and a generated one was never shown to anyone.
      reenterForNewUrl: false,
    },
    { key: "signingKeyId", label: "Signing key id", secret: false, required: false, hint: "The id pawaPay knows the public key by. Generated with a generated key." },
    {
      key: "signingAlgorithm",
      label: "Signing algorithm",
      secret: false,
      required: false,
      input: "select",
      options: SIGNATURE_ALGORITHMS,
      hint: "How payout requests are signed; it must suit the signing key (EC P-256, EC P-384 or RSA).",
    },
    {
      key: "requireSignedCallbacks",
      label: "Require signed callbacks",
      secret: false,
      required: false,
      input: "select",
      options: ["true", "false"],
      hint: "Refuse callbacks without a valid pawaPay signature (recommended).",
    },
  ],
  muda: [
    { key: "apiKey", label: "API key", secret: false, required: true },
    { key: "secretKey", label: "Secret key", secret: true, required: true },
    { key: "productId", label: "Product id", secret: false, required: false, hint: "Muda's payout product; blank means 10011 (mobile money, UGX)." },
    { key: "apiVersion", label: "API version", secret: false, required: false, input: "select", options: ["current", "seed"], hint: "\"seed\" is Muda's older direct-payout call and needs the client id." },
    { key: "clientId", label: "Client id", secret: false, required: false, hint: "Muda's numeric client id; for API version \"seed\" only." },
  ],
  paytota: [
    { key: "secretKey", label: "Secret key", secret: true, required: true },
    { key: "brandId", label: "Brand id", secret: false, required: true },
    { key: "clientEmail", label: "Client email", secret: false, required: false, hint: "Sent as the client's email Paytota requires when a payout carries none." },
    {
      key: "lookupByReference",
      label: "Look up payouts by reference",
      secret: false,
      required: false,
      input: "select",
      options: ["true", "false"],
      hint: "Before a payout whose answer was lost is initiated again, ask Paytota's undocumented GET /api/v1/payouts/?reference= whether one already ran; a 404 there is read as \"no such lookup\".",
    },
    {
      key: "amountUnits",
      label: "Amounts in answers",
      secret: false,
      required: false,
      input: "select",
      options: ["minor", "major"],
      hint: "How Paytota's integer amounts in balances and payout objects are read: minor units (cents) or major units.",
    },
    {
      key: "webhookPublicKeyPem",
      label: "Webhook public key (PEM)",
      secret: false,
      required: false,
      input: "multiline",
      hint: "The RSA public key of a webhook set up in Paytota's dashboard (-----BEGIN PUBLIC KEY-----); tried before the key from GET /api/v1/public_key/.",
    },
  ],
  praxis: [
    { key: "merchantId", label: "Merchant id", secret: false, required: true },
    { key: "applicationKey", label: "Application key", secret: false, required: true },
    { key: "merchantSecret", label: "Merchant secret", secret: true, required: true },
    { key: "gateway", label: "Gateway", secret: false, required: false, hint: "The payout gateway code; a sandbox connection defaults to Praxis's test e-wallet." },
    { key: "notificationUrl", label: "Notification URL", secret: false, required: false, hint: "Sent instead of the callback URL below, e.g. a public address in front of the desk." },
    {
      key: "agentBaseUrl",
      label: "Agent API base URL",
      secret: false,
      required: false,
      endpoint: true,
      hint: "Where status queries (find-order) go, e.g. https://pci-gw-test.praxispay.com/api; blank means the base URL without its /direct.",
    },
  ],
  pontis: [
    { key: "apiKey", label: "API key", secret: false, required: true },
    { key: "encryptionKey", label: "Encryption key", secret: true, required: true },
    { key: "hmacKey", label: "HMAC key", secret: true, required: true },
    { key: "email", label: "Account email", secret: false, required: true },
    { key: "password", label: "Account password", secret: true, required: true },
    { key: "defaultPaymentMethod", label: "Default payment method", secret: false, required: false, hint: "Used when a payout names none, e.g. PH-bank_local or imps." },
    { key: "defaultCountry", label: "Default country", secret: false, required: false, hint: "ISO code (e.g. PH) deciding a bare payment method's country." },
  ],
};

export function credentialFields(provider: ProviderKind): readonly CredentialField[] {
  return CREDENTIAL_FIELDS[provider];
}

/** Keys whose values must never leave the server, for a provider. */
export function secretKeys(provider: ProviderKind): Set<string> {
  return new Set(CREDENTIAL_FIELDS[provider].filter((f) => f.secret).map((f) => f.key));
}

/**
 * Provider rules across fields, checked on the credentials as they will be
 * stored (old values merged with the new). Keys of the result are credential
 * keys; the message names the rule.
 */
export function checkCredentials(provider: ProviderKind, credentials: Record<string, string>): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const field of CREDENTIAL_FIELDS[provider]) {
    const value = credentials[field.key];
    if (field.options && value && !field.options.includes(value)) {
      problems[field.key] = `${field.label} must be one of ${field.options.join(", ")}`;
    }
  }
  for (const field of CREDENTIAL_FIELDS[provider]) {
    const value = credentials[field.key];
    if (field.endpoint && value && !problems[field.key]) {
      const problem = endpointProblem(value);
      if (problem) problems[field.key] = `${field.label} ${problem}`;
    }
  }
  if (provider === "pawapay" && credentials.signingKeyPem) Object.assign(problems, checkPawapaySigningKey(credentials));
  if (provider === "paytota" && credentials.webhookPublicKeyPem && !importPublicKey(credentials.webhookPublicKeyPem)) {
    problems.webhookPublicKeyPem = "Webhook public key must be an RSA public key in PEM (-----BEGIN PUBLIC KEY-----)";
  }
  return problems;
}

/** What is wrong with a URL the desk would send requests to, as the end of a sentence; null when nothing. */
function endpointProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be a full http(s) URL, e.g. https://pci-gw-test.praxispay.com/api";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must start with https:// or http://";
  if (url.username || url.password) return "must not carry a user name or password";
  if (url.search || url.hash) return "must not carry a query or fragment";
  return null;
}

function checkPawapaySigningKey(credentials: Record<string, string>): Record<string, string> {
  let key;
  try {
    key = createPrivateKey(credentials.signingKeyPem!);
  } catch {
    return { signingKeyPem: "Signing private key must be a PEM private key (-----BEGIN PRIVATE KEY-----)" };
  }
  const algorithm = credentials.signingAlgorithm || "ecdsa-p256-sha256";
  // Caught here rather than at the first payout, which would fail to sign.
  const usable: string[] = algorithmsForKey(key);
  if (usable.length === 0) return { signingKeyPem: "Signing private key must be an EC P-256, EC P-384 or RSA key" };
  if (!usable.includes(algorithm)) {
    return { signingAlgorithm: `The signing key cannot sign with ${algorithm}; choose ${usable.join(" or ")}, or give a matching key` };
  }
  if (!credentials.signingKeyId) return { signingKeyId: "Give the key id pawaPay knows this signing key by" };
  return {};
}
