// RFC 9421 (HTTP Message Signatures) and RFC 9530 (Content-Digest) as
// pawaPay uses them: one signature labelled `sig-pp`, params keyid, alg,
// created, expires, and a `Signature-Date` header (pawaPay's own, not RFC).
//
// Written by hand on top of `structured-headers` rather than through
// `http-message-signatures`, because that library (1.0.6) reads the clock
// itself (no injectable "now"), only knows raw r‖s ECDSA and uses Node's
// default RSA-PSS salt length. The signature base is built exactly as
// RFC 9421 §2.5 says; a test cross-checks it against that library's output.
//
// Used by both sides of the wire: the connector signs payouts and verifies
// callbacks; the sandbox emulator verifies payouts and signs callbacks.
import { privateKeyFromPem, publicKeyFrom } from "@/server/security/key-cache";
import {
  constants,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
  type KeyObject,
} from "node:crypto";
import {
  isInnerList,
  parseDictionary,
  serializeDictionary,
  serializeInnerList,
  serializeString,
  type Dictionary,
  type InnerList,
  type Item,
  type Parameters,
} from "structured-headers";

export const PAWAPAY_SIGNATURE_LABEL = "sig-pp";

export const SIGNATURE_ALGORITHMS = ["ecdsa-p256-sha256", "ecdsa-p384-sha384", "rsa-v1_5-sha256", "rsa-pss-sha512"] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

export function isSignatureAlgorithm(value: string): value is SignatureAlgorithm {
  return (SIGNATURE_ALGORITHMS as readonly string[]).includes(value);
}

export type DigestAlgorithm = "sha-512" | "sha-256";

/**
 * How an ECDSA signature is written in the Signature header.
 * - "raw": r‖s, fixed length (RFC 9421 §3.3.4/§3.3.5).
 * - "der": ASN.1 DER SEQUENCE{r, s}, which is what pawaPay's own examples
 *   (Node `createSign().sign()` and Java `SHA256withECDSA`) produce, so it is
 *   what pawaPay's verifier is known to accept.
 * Verification always accepts both.
 */
export type EcdsaSignatureFormat = "der" | "raw";

/** The components pawaPay asks merchants to sign on a financial request. */
export const PAWAPAY_REQUEST_COMPONENTS = [
  "@method",
  "@authority",
  "@path",
  "signature-date",
  "content-digest",
  "content-type",
  "content-length",
] as const;

/**
 * What the emulator signs on a callback it posts. Content-Length is left out
 * on purpose: the body is bound by content-digest already, and proxies in
 * front of the desk may re-frame the body (chunked), dropping the header.
 */
export const PAWAPAY_CALLBACK_COMPONENTS = ["@method", "@authority", "@path", "signature-date", "content-digest", "content-type"] as const;

/** What pawaPay signs on a response (its Java reference library's defaults). */
export const PAWAPAY_RESPONSE_COMPONENTS = ["@status", "signature-date", "content-digest", "content-type", "content-length"] as const;

// ---------------------------------------------------------------- digests

/** `Content-Digest` value for a body, e.g. `sha-512=:…base64…:` (RFC 9530). */
export function contentDigest(body: string | Uint8Array, algorithm: DigestAlgorithm = "sha-512"): string {
  const hash = createHash(algorithm === "sha-512" ? "sha512" : "sha256").update(body).digest();
  return serializeDictionary(new Map<string, Item>([[algorithm, [new Uint8Array(hash), new Map()]]]));
}

export type DigestCheck = { ok: true; algorithms: DigestAlgorithm[] } | { ok: false; reason: string };

/**
 * Checks a Content-Digest header against the exact bytes received. Every
 * algorithm we know must match and at least one must be present; unknown
 * algorithms are ignored (RFC 9530 §2), like pawaPay's own verifier does.
 */
export function verifyContentDigest(header: string | null | undefined, body: string | Uint8Array): DigestCheck {
  if (!header) return { ok: false, reason: "Content-Digest header is missing" };
  let parsed: Dictionary;
  try {
    parsed = parseDictionary(header);
  } catch {
    return { ok: false, reason: "Content-Digest header is not a structured dictionary" };
  }
  const checked: DigestAlgorithm[] = [];
  for (const [name, member] of parsed) {
    if (name !== "sha-512" && name !== "sha-256") continue;
    if (isInnerList(member) || !(member[0] instanceof ArrayBuffer)) {
      return { ok: false, reason: `Content-Digest ${name} is not a byte sequence` };
    }
    const expected = createHash(name === "sha-512" ? "sha512" : "sha256").update(body).digest();
    const given = Buffer.from(member[0]);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: `Content-Digest ${name} does not match the body` };
    }
    checked.push(name);
  }
  if (checked.length === 0) return { ok: false, reason: "Content-Digest has no sha-256 or sha-512 value" };
  return { ok: true, algorithms: checked };
}

// ---------------------------------------------------------------- keys

/** A fresh signing key pair for an algorithm, as PEM (PKCS#8 private, SPKI public). */
export function generatePawapaySigningKey(alg: SignatureAlgorithm = "ecdsa-p256-sha256"): { privateKeyPem: string; publicKeyPem: string } {
  const pem = { publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } } as const;
  const pair = (() => {
    switch (alg) {
      case "ecdsa-p256-sha256":
        return generateKeyPairSync("ec", { namedCurve: "P-256", ...pem });
      case "ecdsa-p384-sha384":
        return generateKeyPairSync("ec", { namedCurve: "P-384", ...pem });
      case "rsa-v1_5-sha256":
      case "rsa-pss-sha512":
        // A plain rsaEncryption key serves both RSA schemes; dashboards expect that form.
        return generateKeyPairSync("rsa", { modulusLength: 2048, ...pem });
      default:
        throw new Error(`Unsupported signature algorithm ${String(alg)}`);
    }
  })();
  return { privateKeyPem: String(pair.privateKey), publicKeyPem: String(pair.publicKey) };
}

/** Reads a public key given as PEM (SPKI or certificate) or as bare base64 DER SPKI. */
export function importPublicKey(key: string): KeyObject {
  const text = key.trim();
  if (text.includes("-----BEGIN")) return publicKeyFrom(text);
  const der = Buffer.from(text.replace(/\s+/g, ""), "base64");
  return createPublicKey({ key: der, format: "der", type: "spki" });
}

/** The algorithms a key can verify or sign, from its type and curve. */
export function algorithmsForKey(key: KeyObject): SignatureAlgorithm[] {
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === "prime256v1" || curve === "P-256") return ["ecdsa-p256-sha256"];
    if (curve === "secp384r1" || curve === "P-384") return ["ecdsa-p384-sha384"];
    return [];
  }
  if (key.asymmetricKeyType === "rsa") return ["rsa-v1_5-sha256", "rsa-pss-sha512"];
  if (key.asymmetricKeyType === "rsa-pss") return ["rsa-pss-sha512"];
  return [];
}

// ---------------------------------------------------------------- messages

/** The parts of an HTTP message a signature can cover. */
export interface SignableMessage {
  /** Requests only. */
  method?: string;
  /** Requests only: the full target URI. */
  url?: string;
  /** Responses only. */
  status?: number;
  headers: Headers;
  /**
   * Requests only, when verifying: other spellings of the authority this
   * request may have been sent to (e.g. the Host header when a framework
   * rebuilt `url` from its own configuration). Any one may match.
   */
  alternateAuthorities?: string[];
}

export class SignatureBaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignatureBaseError";
  }
}

/** RFC 9421 §2.2.3: host in lower case, port only when not the scheme's default. */
export function authorityOf(url: URL): string {
  const host = url.hostname.toLowerCase();
  const defaultPort = (url.protocol === "http:" && url.port === "80") || (url.protocol === "https:" && url.port === "443");
  return url.port && !defaultPort ? `${host}:${url.port}` : host;
}

/**
 * The authorities a received request may legitimately have been signed for:
 * the one in the URL the framework hands us, and the Host header as it came
 * over the wire (they differ behind some dev servers and proxies).
 */
export function receivedAuthorities(url: string, headers: Headers): string[] {
  const result: string[] = [];
  try {
    result.push(authorityOf(new URL(url)));
  } catch {
    // no usable URL: rely on Host
  }
  const host = headers.get("host")?.trim().toLowerCase();
  if (host) {
    const scheme = (() => {
      try {
        return new URL(url).protocol;
      } catch {
        return "http:";
      }
    })();
    const normalised = scheme === "https:" ? host.replace(/:443$/, "") : host.replace(/:80$/, "");
    if (!result.includes(normalised)) result.push(normalised);
  }
  return result;
}

function componentValue(name: string, message: SignableMessage, authority?: string): string {
  switch (name) {
    case "@method":
      if (!message.method) throw new SignatureBaseError("@method is only defined for requests");
      return message.method.toUpperCase();
    case "@status":
      if (message.status === undefined) throw new SignatureBaseError("@status is only defined for responses");
      return String(message.status);
    case "@authority":
      return authority ?? authorityOf(requestUrl(message, name));
    case "@scheme":
      return requestUrl(message, name).protocol.slice(0, -1).toLowerCase();
    case "@target-uri":
      return requestUrl(message, name).href;
    case "@path":
      return requestUrl(message, name).pathname || "/";
    case "@query": {
      const { search } = requestUrl(message, name);
      return search === "" ? "?" : search;
    }
    case "@request-target": {
      const url = requestUrl(message, name);
      return `${url.pathname || "/"}${url.search}`;
    }
    default: {
      if (name.startsWith("@")) throw new SignatureBaseError(`Unsupported derived component ${name}`);
      // RFC 9421 §2.1: the field's values, each trimmed, joined by ", ".
      // `Headers` already joins repeated fields with ", ".
      const value = message.headers.get(name);
      if (value === null) throw new SignatureBaseError(`The covered header ${name} is missing`);
      return value
        .split("\n")
        .map((line) => line.trim())
        .join(" ")
        .trim();
    }
  }
}

function requestUrl(message: SignableMessage, component: string): URL {
  if (!message.url) throw new SignatureBaseError(`${component} is only defined for requests`);
  return new URL(message.url);
}

/** The serialised `@signature-params` value: `("@method" …);keyid="…";alg="…";created=…;expires=…`. */
export function serializeSignatureParams(components: readonly string[], params: Parameters): string {
  const items: Item[] = components.map((c) => [c, new Map()]);
  return serializeInnerList([items, params]);
}

/**
 * RFC 9421 §2.5 signature base: one line per covered component,
 * `"name": value`, then `"@signature-params": …`, joined by LF with no
 * trailing newline. Components are lower-case names without parameters.
 */
export function signatureBase(message: SignableMessage, components: readonly string[], params: Parameters, authority?: string): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const name of components) {
    if (name !== name.toLowerCase()) throw new SignatureBaseError(`Component ${name} must be lower case`);
    if (seen.has(name)) throw new SignatureBaseError(`Component ${name} is covered twice`);
    if (name === "@signature-params") throw new SignatureBaseError("@signature-params cannot be covered");
    seen.add(name);
    const value = componentValue(name, message, authority);
    if (/[\r\n]/.test(value)) throw new SignatureBaseError(`Component ${name} has a line break`);
    lines.push(`${serializeString(name)}: ${value}`);
  }
  lines.push(`"@signature-params": ${serializeSignatureParams(components, params)}`);
  return lines.join("\n");
}

// ---------------------------------------------------------------- signing

export interface SignOptions {
  privateKey: KeyObject | string;
  keyId: string;
  alg: SignatureAlgorithm;
  /** Unix seconds; default now. */
  created?: number;
  /** Unix seconds; default created + 300. */
  expires?: number;
  components?: readonly string[];
  label?: string;
  ecdsaFormat?: EcdsaSignatureFormat;
}

export interface SignedHeaders {
  "Signature-Input": string;
  Signature: string;
  /** The exact bytes that were signed, for logs and tests. */
  base: string;
}

/** Signs a message (all covered headers must already be set) and returns the two headers to add. */
export function signMessage(message: SignableMessage, options: SignOptions): SignedHeaders {
  const key = typeof options.privateKey === "string" ? privateKeyFromPem(options.privateKey) : options.privateKey;
  const created = options.created ?? Math.floor(Date.now() / 1000);
  const expires = options.expires ?? created + 300;
  const components = options.components ?? PAWAPAY_REQUEST_COMPONENTS;
  const label = options.label ?? PAWAPAY_SIGNATURE_LABEL;
  if (!algorithmsForKey(key).includes(options.alg)) {
    throw new Error(`The signing key (${describeKey(key)}) cannot sign ${options.alg}`);
  }
  // Order as pawaPay documents it: keyid, alg, created, expires.
  const params: Parameters = new Map<string, string | number>([
    ["keyid", options.keyId],
    ["alg", options.alg],
    ["created", created],
    ["expires", expires],
  ]);
  const base = signatureBase(message, components, params);
  const signature = rawSign(options.alg, key, Buffer.from(base, "utf8"), options.ecdsaFormat ?? "der");
  const inner: InnerList = [components.map((c): Item => [c, new Map()]), params];
  return {
    "Signature-Input": serializeDictionary(new Map([[label, inner]])),
    Signature: serializeDictionary(new Map<string, Item>([[label, [new Uint8Array(signature), new Map()]]])),
    base,
  };
}

function rawSign(alg: SignatureAlgorithm, key: KeyObject, data: Buffer, ecdsaFormat: EcdsaSignatureFormat): Buffer {
  switch (alg) {
    case "ecdsa-p256-sha256":
      return cryptoSign("sha256", data, { key, dsaEncoding: ecdsaFormat === "raw" ? "ieee-p1363" : "der" });
    case "ecdsa-p384-sha384":
      return cryptoSign("sha384", data, { key, dsaEncoding: ecdsaFormat === "raw" ? "ieee-p1363" : "der" });
    case "rsa-v1_5-sha256":
      return cryptoSign("sha256", data, { key, padding: constants.RSA_PKCS1_PADDING });
    case "rsa-pss-sha512":
      // RFC 9421 §3.3.1: MGF1 with SHA-512 and a 64-byte salt (Node's default would be the maximum).
      return cryptoSign("sha512", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 });
  }
}

function rawVerify(alg: SignatureAlgorithm, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const attempt = (fn: () => boolean) => {
    try {
      return fn();
    } catch {
      return false; // a signature that does not even parse is simply not valid
    }
  };
  switch (alg) {
    case "ecdsa-p256-sha256":
    case "ecdsa-p384-sha384": {
      const hash = alg === "ecdsa-p256-sha256" ? "sha256" : "sha384";
      const size = alg === "ecdsa-p256-sha256" ? 64 : 96;
      // Raw r‖s has a fixed length; DER is a SEQUENCE. Try what the bytes look like first.
      if (signature.length === size && attempt(() => cryptoVerify(hash, data, { key, dsaEncoding: "ieee-p1363" }, signature))) return true;
      return attempt(() => cryptoVerify(hash, data, { key, dsaEncoding: "der" }, signature));
    }
    case "rsa-v1_5-sha256":
      return attempt(() => cryptoVerify("sha256", data, { key, padding: constants.RSA_PKCS1_PADDING }, signature));
    case "rsa-pss-sha512":
      return attempt(() => cryptoVerify("sha512", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }, signature));
  }
}

function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve ? `${key.asymmetricKeyType} ${curve}` : String(key.asymmetricKeyType);
}

// ---------------------------------------------------------------- verifying

export interface VerifyOptions {
  /** Finds the public key for a keyid; null when unknown. */
  keyLookup: (keyId: string) => Promise<KeyObject | null> | KeyObject | null;
  /** Components that must be covered (e.g. content-digest). */
  requiredComponents?: readonly string[];
  /** Preferred label; when absent from the message, the only signature present is used. */
  label?: string;
  now?: () => Date;
  /** Tolerance for clocks that disagree, applied to created and expires (default 60 s). */
  clockSkewSeconds?: number;
  /** Refuse signatures created longer ago than this, even if not expired (default: no limit). */
  maxAgeSeconds?: number;
  /** Refuse signatures without `created` (default true). */
  requireCreated?: boolean;
  /** Algorithms accepted (default: all four pawaPay algorithms). */
  algorithms?: readonly SignatureAlgorithm[];
}

export type VerifyResult =
  | { ok: true; keyId: string; alg: SignatureAlgorithm; components: string[]; created?: number; expires?: number; label: string }
  | { ok: false; reason: string; keyId?: string };

/** True when the message carries any signature header at all. */
export function hasSignature(headers: Headers): boolean {
  return headers.has("signature") || headers.has("signature-input");
}

/**
 * Verifies the RFC 9421 signature on a message against the components its
 * Signature-Input declares. Does not check Content-Digest against the body:
 * callers do that with verifyContentDigest (and require content-digest to be
 * covered) so that the body is bound to the signature.
 */
export async function verifyMessageSignature(message: SignableMessage, options: VerifyOptions): Promise<VerifyResult> {
  const inputHeader = message.headers.get("signature-input");
  const signatureHeader = message.headers.get("signature");
  if (!inputHeader || !signatureHeader) return { ok: false, reason: "Signature or Signature-Input header is missing" };

  let inputs: Dictionary;
  let signatures: Dictionary;
  try {
    inputs = parseDictionary(inputHeader);
    signatures = parseDictionary(signatureHeader);
  } catch {
    return { ok: false, reason: "Signature or Signature-Input is not a structured dictionary" };
  }

  const preferred = options.label ?? PAWAPAY_SIGNATURE_LABEL;
  const label = inputs.has(preferred) ? preferred : inputs.size === 1 ? [...inputs.keys()][0]! : null;
  if (!label) return { ok: false, reason: `No signature labelled ${preferred}` };
  const input = inputs.get(label)!;
  const signatureMember = signatures.get(label);
  if (!isInnerList(input)) return { ok: false, reason: `Signature-Input ${label} is not an inner list` };
  if (!signatureMember || isInnerList(signatureMember) || !(signatureMember[0] instanceof ArrayBuffer)) {
    return { ok: false, reason: `Signature ${label} is missing or not a byte sequence` };
  }
  const signature = Buffer.from(signatureMember[0]);

  const [items, params] = input;
  const components: string[] = [];
  for (const [value, itemParams] of items) {
    if (typeof value !== "string") return { ok: false, reason: "A covered component is not a string" };
    // Component parameters (;sf, ;key, ;bs, ;req) change what is signed; we never send them, so refuse rather than guess.
    if (itemParams.size > 0) return { ok: false, reason: `Component parameters are not supported (${value})` };
    components.push(value);
  }
  for (const required of options.requiredComponents ?? []) {
    if (!components.includes(required)) return { ok: false, reason: `The signature does not cover ${required}` };
  }

  const keyId = params.get("keyid");
  if (typeof keyId !== "string" || keyId === "") return { ok: false, reason: "The signature has no keyid" };
  const created = params.get("created");
  const expires = params.get("expires");
  if (created !== undefined && !Number.isInteger(created)) return { ok: false, reason: "created is not an integer" };
  if (expires !== undefined && !Number.isInteger(expires)) return { ok: false, reason: "expires is not an integer", keyId };

  const now = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  const skew = options.clockSkewSeconds ?? 60;
  if (created === undefined && options.requireCreated !== false) return { ok: false, reason: "The signature has no created time", keyId };
  if (typeof created === "number") {
    if (created > now + skew) return { ok: false, reason: `The signature was created in the future (${created - now} s ahead)`, keyId };
    if (options.maxAgeSeconds !== undefined && now - created > options.maxAgeSeconds + skew) {
      return { ok: false, reason: `The signature is older than ${options.maxAgeSeconds} s`, keyId };
    }
  }
  if (typeof expires === "number" && now > expires + skew) return { ok: false, reason: "The signature has expired", keyId };

  const key = await options.keyLookup(keyId);
  if (!key) return { ok: false, reason: `Unknown signing key ${keyId}`, keyId };
  const keyAlgorithms = algorithmsForKey(key);
  const declared = params.get("alg");
  let alg: SignatureAlgorithm;
  if (declared !== undefined) {
    if (typeof declared !== "string" || !isSignatureAlgorithm(declared)) {
      return { ok: false, reason: `Unsupported signature algorithm ${String(declared)}`, keyId };
    }
    if (!keyAlgorithms.includes(declared)) return { ok: false, reason: `Key ${keyId} cannot be used with ${declared}`, keyId };
    alg = declared;
  } else {
    // RFC 9421 §3.2: without alg, the key decides; an RSA key is ambiguous.
    if (keyAlgorithms.length !== 1) return { ok: false, reason: "The signature has no alg and the key does not determine one", keyId };
    alg = keyAlgorithms[0]!;
  }
  if (options.algorithms && !options.algorithms.includes(alg)) return { ok: false, reason: `Algorithm ${alg} is not accepted`, keyId };

  const authorities = [undefined, ...(message.alternateAuthorities ?? [])];
  let lastError: string | null = null;
  for (const authority of components.includes("@authority") ? authorities : [undefined]) {
    let base: string;
    try {
      base = signatureBase(message, components, params, authority);
    } catch (error) {
      lastError = (error as Error).message;
      continue;
    }
    if (rawVerify(alg, key, Buffer.from(base, "utf8"), signature)) {
      return {
        ok: true,
        keyId,
        alg,
        components,
        label,
        ...(typeof created === "number" ? { created } : {}),
        ...(typeof expires === "number" ? { expires } : {}),
      };
    }
  }
  return { ok: false, reason: lastError ?? "The signature does not match the message", keyId };
}
