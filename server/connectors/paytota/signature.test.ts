// Paytota's callback signature: base64 RSA PKCS#1 v1.5 over SHA-256 of the
// raw body. PROVIDERS.md publishes no vector for Paytota, so this file pins
// one made with a fixed test key (PKCS#1 v1.5 is deterministic): the exact
// bytes, and that any change to them (even whitespace) breaks verification.
import { describe, expect, it } from "vitest";
import { generateSigningKey, importPublicKey, readPublicKeyAnswer, signBody, verifyBody } from "./signature";

const TEST_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAKXq4q59PbNH9/2Z
S6IS+869kbdAI5ZutoDWDKOrXxsaQq4VKaaM3E2i9bqv9aI74jeTKbuMTtwFv706
+CZ1L6OpowjSL1Sah+wbxJAIp8tfFzoeuO0aG3LMCEuyFMq+B5KKzw9t1bKovG9j
pDxYP4vMQnkcKtY2dDQ0OtMcHDYHAgMBAAECgYA3LCle/rSixl7XzL8S0R88+1rW
RhTPdFdp9kPTtSv2FkBwJQdpo9OqWXM/Nj4HScSK2Hv7KsgacCr3YQGdwEArsg2m
hr1XgFuZCVuGxf39fsmdK7KiUS8trXZ1OROvJfS2SRJhfmxc76U+WQEGtcIjSJhF
DqvKJV4auws6HGhdmQJBANdLxS3YhbUIFR9czdEqFPIkgzVF2lUnEmCO5KmNjGE8
aErvkvFhfjvwENObOIvN4F0tSmqUZGy6HhOsGsbsxGMCQQDFSThKNO1lGszWULWw
QHtpbDmOovcYhyTYA4+03jcGX5WMU1/cfIdzsQ7VZW5VbSKG7CSRjkJRJGIFqFmW
LN8NAkEAzv3BQLe4rXls3W9bTisYYknqgDB9nnrnN0CK5dz6R45NcyZs73fdZwED
HH9S2U8B1HOz5U5wUvyJ6D4CrJh8owJARd8/03BZX8SVJZZiMvEzhEvzOqRXFVXP
472nKOzG2jgCNDfXLLTiGERuN3/8Cr9jShvae77BmBFlshFE4V41BQJAWaY0kAAN
KveqmVJ5c+mYkR/50B0LGAEOvL4IyMdAzPu/nXM7bUwjsweKnFzWdn+3vS3ZL8rM
DkRYub+9rX8wWg==
-----END PRIVATE KEY-----
`;
const TEST_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCl6uKufT2zR/f9mUuiEvvOvZG3
QCOWbraA1gyjq18bGkKuFSmmjNxNovW6r/WiO+I3kym7jE7cBb+9OvgmdS+jqaMI
0i9UmofsG8SQCKfLXxc6HrjtGhtyzAhLshTKvgeSis8PbdWyqLxvY6Q8WD+LzEJ5
HCrWNnQ0NDrTHBw2BwIDAQAB
-----END PUBLIC KEY-----
`;
// The seed's callback, cut to the fields that decide, as compact JSON.
const BODY =
  '{"id":"7c4ea981-55b1-418a-be23-ea9f5f3e1a91","type":"payout","status":"success","reference":"159e12f9-17b7-410d-a7a8-7644e1f1c6b9","event_type":"payout.success","updated_on":1747308344}';
const SIGNATURE =
  "OKMYmlzMpheb8J3+LhoHs/yCD1hgLf8L/yQgTq0m/sKrOqzuC8xXN4SG/EUNWXzRZoczcoklU2gCo9CIKD1qGMjZlwxnjMnW+KMNK8cZkl4RM5t1cyr3JTUzEDID7SQk1N6VENrQC5KU9Nw9k1SL/kvPD1drIAWnmX7NbRFCtUg=";

describe("X-Signature", () => {
  it("signs the exact bytes to the pinned vector", () => {
    expect(signBody(BODY, TEST_PRIVATE_KEY)).toBe(SIGNATURE);
  });

  it("verifies the vector, and nothing else", () => {
    const key = importPublicKey(TEST_PUBLIC_KEY)!;
    expect(verifyBody(BODY, SIGNATURE, key)).toBe(true);
    expect(verifyBody(Buffer.from(BODY, "utf8"), SIGNATURE, key)).toBe(true);
    // Re-serialised (pretty-printed) JSON carries the same data but not the same bytes.
    expect(verifyBody(JSON.stringify(JSON.parse(BODY), null, 2), SIGNATURE, key)).toBe(false);
    expect(verifyBody(BODY.replace('"success"', '"error"'), SIGNATURE, key)).toBe(false);
    expect(verifyBody(BODY, SIGNATURE.replace(/^OK/, "AA"), key)).toBe(false);
    expect(verifyBody(BODY, "not base64!", key)).toBe(false);
    expect(verifyBody(BODY, "", key)).toBe(false);
    const other = importPublicKey(generateSigningKey(1024).publicKeyPem)!;
    expect(verifyBody(BODY, SIGNATURE, other)).toBe(false);
  });

  it("reads GET /api/v1/public_key/ as a JSON string, a bare PEM or an object", () => {
    for (const text of [JSON.stringify(TEST_PUBLIC_KEY), TEST_PUBLIC_KEY, JSON.stringify({ public_key: TEST_PUBLIC_KEY })]) {
      const key = readPublicKeyAnswer(text);
      expect(key).not.toBeNull();
      expect(verifyBody(BODY, SIGNATURE, key!)).toBe(true);
    }
    expect(readPublicKeyAnswer("<html>nope</html>")).toBeNull();
    expect(readPublicKeyAnswer(JSON.stringify({ detail: "Invalid token." }))).toBeNull();
  });
});
