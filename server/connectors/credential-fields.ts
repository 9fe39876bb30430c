// What the admin's connection form asks for, per provider. One table, so a
// connector author adds a key in one place and the form, the validation and
// the secret-hiding all follow. Settings a connector reads that are not listed
// here (set in config/desk.json) are kept untouched by the form. Values are
// stored as strings in the sealed credentials envelope ("true" / "false" for
// a yes/no setting).
import { createPrivateKey } from "node:crypto";
import type { ProviderKind } from "./types";
import { algorithmsForKey, SIGNATURE_ALGORITHMS } from "./pawapay/http-signature";

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
    },
    { key: "signingKeyId", label: "Signing key id", secret: false, required: false, hint: "The id pawaPay knows the public key by. Generated with a generated key." },
    { key: "signingAlgorithm", label: "Signing algorithm", secret: false, required: false, input: "select", options: SIGNATURE_ALGORITHMS },
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
  ],
  praxis: [
    { key: "merchantId", label: "Merchant id", secret: false, required: true },
    { key: "applicationKey", label: "Application key", secret: false, required: true },
    { key: "merchantSecret", label: "Merchant secret", secret: true, required: true },
    { key: "gateway", label: "Gateway", secret: false, required: false, hint: "The payout gateway code; a sandbox connection defaults to Praxis's test e-wallet." },
    { key: "notificationUrl", label: "Notification URL", secret: false, required: false, hint: "Sent instead of the callback URL below, e.g. a public address in front of the desk." },
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
  if (provider === "pawapay" && credentials.signingKeyPem) Object.assign(problems, checkPawapaySigningKey(credentials));
  return problems;
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
