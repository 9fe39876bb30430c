// PontisGlobe's wire crypto against the published test vector, byte for byte.
import { describe, expect, it } from "vitest";
import {
  callbackSignature,
  callbackSignedString,
  decodeKey,
  decryptPayload,
  decryptToString,
  encryptPayload,
  generateKey,
  hexEquals,
  looksEncrypted,
  requestSignature,
} from "./crypto";

const ENC_KEY = Buffer.alloc(32, 0x01);
const HMAC_KEY = Buffer.alloc(32, 0x02);
const VECTOR_ENC = "AAAAAAAAAAAAAAAA:SXTAvcJaCPO3-PqrUvjVqw:xBfsrhRVcN7wDfsqH3uoJZf8vcPnwECfv1AsqA";
const VECTOR_SIGNATURE = "edc7f873f1c3ecbc5212474265cf2878dc7df9f98358ec5b8096e37d807d454c";

describe("the published test vector", () => {
  it("encrypts {\"transaction_id\":\"sb_test\"} with a zero IV to the exact enc", () => {
    expect(encryptPayload({ transaction_id: "sb_test" }, ENC_KEY, Buffer.alloc(12))).toBe(VECTOR_ENC);
    // The same bytes when the plaintext is given as the exact string.
    expect(encryptPayload('{"transaction_id":"sb_test"}', ENC_KEY, Buffer.alloc(12))).toBe(VECTOR_ENC);
  });

  it("signs `${timestamp}.${enc}` to the exact x-signature", () => {
    expect(requestSignature("1748023400", VECTOR_ENC, HMAC_KEY)).toBe(VECTOR_SIGNATURE);
  });

  it("decrypts the vector back to the payload", () => {
    expect(decryptToString(VECTOR_ENC, ENC_KEY)).toBe('{"transaction_id":"sb_test"}');
    expect(decryptPayload(VECTOR_ENC, ENC_KEY)).toEqual({ transaction_id: "sb_test" });
  });

  it("reads the keys from base64url secrets", () => {
    expect(decodeKey(ENC_KEY.toString("base64url"), "encryptionKey").equals(ENC_KEY)).toBe(true);
    // Standard base64 with padding is accepted as well.
    expect(decodeKey(HMAC_KEY.toString("base64"), "hmacKey").equals(HMAC_KEY)).toBe(true);
  });
});

describe("encryption", () => {
  it("uses a fresh random IV each time, with a 12-byte IV and a 16-byte tag", () => {
    const a = encryptPayload({ x: 1 }, ENC_KEY);
    const b = encryptPayload({ x: 1 }, ENC_KEY);
    expect(a).not.toBe(b);
    const [iv, tag] = a.split(":");
    expect(Buffer.from(iv!, "base64url")).toHaveLength(12);
    expect(Buffer.from(tag!, "base64url")).toHaveLength(16);
    expect(looksEncrypted(a)).toBe(true);
    expect(looksEncrypted("plain text")).toBe(false);
  });

  it("refuses altered ciphertext, a wrong key, and malformed triples", () => {
    const [iv, tag, ct] = VECTOR_ENC.split(":") as [string, string, string];
    const flipped = Buffer.from(ct, "base64url");
    flipped[0] = flipped[0]! ^ 1;
    expect(() => decryptToString(`${iv}:${tag}:${flipped.toString("base64url")}`, ENC_KEY)).toThrow(/does not verify/);
    expect(() => decryptToString(VECTOR_ENC, HMAC_KEY)).toThrow(/does not verify/);
    expect(() => decryptToString("abc", ENC_KEY)).toThrow(/triple/);
    expect(() => decryptToString(`AAAA:${tag}:${ct}`, ENC_KEY)).toThrow(/IV/);
  });

  it("names the problem with a key", () => {
    expect(() => decodeKey(undefined, "hmacKey")).toThrow(/hmacKey is missing/);
    expect(() => decodeKey("not base64!", "hmacKey")).toThrow(/not base64url/);
    expect(() => decodeKey(Buffer.alloc(16).toString("base64url"), "encryptionKey")).toThrow(/32 bytes \(it decodes to 16\)/);
    expect(decodeKey(generateKey(), "k")).toHaveLength(32);
  });
});

describe("callback signatures", () => {
  it("are sha256=<hex HMAC over `${timestamp}.${rawBody}`>", () => {
    const body = '{"transaction_id":"t1","status":"completed","status_message":"ok"}';
    expect(callbackSignedString("1748023400", body)).toBe(`1748023400.${body}`);
    expect(callbackSignature("1748023400", body, HMAC_KEY)).toBe(`sha256=${requestSignature("1748023400", body, HMAC_KEY)}`);
  });

  it("compares hex in constant time and only like with like", () => {
    expect(hexEquals(VECTOR_SIGNATURE, VECTOR_SIGNATURE.toUpperCase())).toBe(true);
    expect(hexEquals(VECTOR_SIGNATURE, VECTOR_SIGNATURE.slice(2))).toBe(false);
    expect(hexEquals("zz", "zz")).toBe(false);
  });
});
