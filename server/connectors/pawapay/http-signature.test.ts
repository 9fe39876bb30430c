import { constants, createPrivateKey, createPublicKey, createSign, verify as cryptoVerify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createVerifier, httpbis } from "http-message-signatures";
import {
  contentDigest,
  generatePawapaySigningKey,
  importPublicKey,
  PAWAPAY_REQUEST_COMPONENTS,
  SIGNATURE_ALGORITHMS,
  signatureBase,
  signMessage,
  verifyContentDigest,
  verifyMessageSignature,
  type SignableMessage,
  type SignatureAlgorithm,
} from "./http-signature";

// The seed's example payout as compact JSON, in the documented field order.
const SEED_BODY =
  '{"payoutId":"f4401bd2-1568-4140-bf2d-eb77d2b2b639","amount":"15","currency":"ZMW","correspondent":"MTN_MOMO_ZMB",' +
  '"recipient":{"type":"MSISDN","address":{"value":"260763456789"}},"customerTimestamp":"2020-02-21T17:32:28Z",' +
  '"statementDescription":"Note of 4 to 22 chars"}';
const SEED_DIGEST = "sha-512=:ZULO+PyoV12wIltJ5qsv6WloMrbfETtczyhtZKVt00P/VmwSX/gi0cGlWGddMfP5W+5MS9C/NPNnmC3r3DK+ng==:";

const CREATED = 1582306348; // 2020-02-21T17:32:28Z

function seedRequest(body = SEED_BODY, digest = contentDigest(body)): SignableMessage {
  return {
    method: "POST",
    url: "https://api.sandbox.pawapay.io/payouts",
    headers: new Headers({
      "Signature-Date": "2020-02-21T17:32:28.000Z",
      "Content-Digest": digest,
      "Content-Type": "application/json",
      "Content-Length": String(Buffer.byteLength(body)),
    }),
  };
}

const keys = Object.fromEntries(SIGNATURE_ALGORITHMS.map((alg) => [alg, generatePawapaySigningKey(alg)])) as Record<
  SignatureAlgorithm,
  { privateKeyPem: string; publicKeyPem: string }
>;

function lookupFor(keyId: string, publicKeyPem: string) {
  return (id: string) => (id === keyId ? importPublicKey(publicKeyPem) : null);
}

const atCreated = () => new Date(CREATED * 1000 + 5_000);

describe("Content-Digest", () => {
  it("matches PROVIDERS.md's test vector for the seed example body (268 bytes)", () => {
    expect(Buffer.byteLength(SEED_BODY, "utf8")).toBe(268);
    expect(contentDigest(SEED_BODY, "sha-512")).toBe(SEED_DIGEST);
    expect(JSON.stringify(JSON.parse(SEED_BODY))).toBe(SEED_BODY);
  });

  it("verifies sha-512 and sha-256 and refuses a body that changed", () => {
    expect(verifyContentDigest(SEED_DIGEST, SEED_BODY)).toEqual({ ok: true, algorithms: ["sha-512"] });
    expect(verifyContentDigest(contentDigest(SEED_BODY, "sha-256"), SEED_BODY).ok).toBe(true);
    expect(verifyContentDigest(SEED_DIGEST, SEED_BODY.replace('"15"', '"16"'))).toMatchObject({ ok: false });
    expect(verifyContentDigest("md5=:AAAA:", SEED_BODY)).toMatchObject({ ok: false });
    expect(verifyContentDigest(null, SEED_BODY)).toMatchObject({ ok: false });
    expect(verifyContentDigest("not a dictionary ((", SEED_BODY)).toMatchObject({ ok: false });
  });
});

describe("RFC 9421 signature base", () => {
  const params = new Map<string, string | number>([
    ["keyid", "desk-test-key"],
    ["alg", "ecdsa-p256-sha256"],
    ["created", CREATED],
    ["expires", CREATED + 300],
  ]);

  it("is exactly the RFC 9421 §2.5 form for a fixed request", () => {
    const expected = [
      '"@method": POST',
      '"@authority": api.sandbox.pawapay.io',
      '"@path": /payouts',
      '"signature-date": 2020-02-21T17:32:28.000Z',
      `"content-digest": ${SEED_DIGEST}`,
      '"content-type": application/json',
      '"content-length": 268',
      '"@signature-params": ("@method" "@authority" "@path" "signature-date" "content-digest" "content-type" "content-length")' +
        ';keyid="desk-test-key";alg="ecdsa-p256-sha256";created=1582306348;expires=1582306648',
    ].join("\n");
    expect(signatureBase(seedRequest(), PAWAPAY_REQUEST_COMPONENTS, params)).toBe(expected);
  });

  it("agrees with the http-message-signatures library's base for the same request", () => {
    const message = seedRequest();
    const library = httpbis.createSignatureBase(
      { fields: [...PAWAPAY_REQUEST_COMPONENTS] },
      { method: "POST", url: message.url!, headers: Object.fromEntries(message.headers) },
    );
    const paramsLine = `("@method" "@authority" "@path" "signature-date" "content-digest" "content-type" "content-length");keyid="desk-test-key";alg="ecdsa-p256-sha256";created=${CREATED};expires=${CREATED + 300}`;
    library.push(['"@signature-params"', [paramsLine]]);
    expect(signatureBase(message, PAWAPAY_REQUEST_COMPONENTS, params)).toBe(httpbis.formatSignatureBase(library));
  });

  it("omits default ports, keeps others, and refuses a covered header that is missing", () => {
    const message = { ...seedRequest(), url: "https://API.sandbox.pawapay.io:443/payouts" };
    expect(signatureBase(message, ["@authority"], new Map())).toContain('"@authority": api.sandbox.pawapay.io\n');
    const local = { ...seedRequest(), url: "http://127.0.0.1:8080/api/sandbox/pawapay/payouts?x=1" };
    expect(signatureBase(local, ["@authority", "@path", "@query"], new Map())).toBe(
      '"@authority": 127.0.0.1:8080\n"@path": /api/sandbox/pawapay/payouts\n"@query": ?x=1\n"@signature-params": ("@authority" "@path" "@query")',
    );
    expect(() => signatureBase(seedRequest(), ["x-missing"], new Map())).toThrow(/missing/);
  });

  it("writes the headers as structured dictionaries labelled sig-pp", () => {
    const signed = signMessage(seedRequest(), {
      privateKey: keys["ecdsa-p256-sha256"].privateKeyPem,
      keyId: "desk-test-key",
      alg: "ecdsa-p256-sha256",
      created: CREATED,
    });
    expect(signed["Signature-Input"]).toBe(
      'sig-pp=("@method" "@authority" "@path" "signature-date" "content-digest" "content-type" "content-length")' +
        ';keyid="desk-test-key";alg="ecdsa-p256-sha256";created=1582306348;expires=1582306648',
    );
    expect(signed.Signature).toMatch(/^sig-pp=:[A-Za-z0-9+/]+=*:$/);
  });
});

describe("sign → verify", () => {
  for (const alg of SIGNATURE_ALGORITHMS) {
    it(`round-trips ${alg}`, async () => {
      const message = seedRequest();
      const signed = signMessage(message, { privateKey: keys[alg].privateKeyPem, keyId: "k1", alg, created: CREATED });
      message.headers.set("Signature-Input", signed["Signature-Input"]);
      message.headers.set("Signature", signed.Signature);
      const result = await verifyMessageSignature(message, {
        keyLookup: lookupFor("k1", keys[alg].publicKeyPem),
        requiredComponents: ["content-digest"],
        now: atCreated,
      });
      expect(result).toMatchObject({ ok: true, alg, keyId: "k1", created: CREATED, expires: CREATED + 300 });
    });
  }

  it("uses RFC 9421's 64-byte salt for rsa-pss-sha512", () => {
    const signed = signMessage(seedRequest(), { privateKey: keys["rsa-pss-sha512"].privateKeyPem, keyId: "k", alg: "rsa-pss-sha512", created: CREATED });
    const signature = Buffer.from(/:(.*):/.exec(signed.Signature)![1]!, "base64");
    const key = createPublicKey(keys["rsa-pss-sha512"].publicKeyPem);
    const check = (saltLength: number) =>
      cryptoVerify("sha512", Buffer.from(signed.base), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    expect(check(64)).toBe(true);
    expect(check(32)).toBe(false);
  });

  for (const [alg, size] of [
    ["ecdsa-p256-sha256", 64],
    ["ecdsa-p384-sha384", 96],
  ] as const) {
    it(`accepts ${alg} signatures as raw r‖s and as DER`, async () => {
      for (const format of ["raw", "der"] as const) {
        const message = seedRequest();
        const signed = signMessage(message, { privateKey: keys[alg].privateKeyPem, keyId: "k1", alg, created: CREATED, ecdsaFormat: format });
        const bytes = Buffer.from(/:(.*):/.exec(signed.Signature)![1]!, "base64");
        if (format === "raw") expect(bytes.length).toBe(size);
        else expect(bytes[0]).toBe(0x30); // DER SEQUENCE
        message.headers.set("Signature-Input", signed["Signature-Input"]);
        message.headers.set("Signature", signed.Signature);
        const result = await verifyMessageSignature(message, { keyLookup: lookupFor("k1", keys[alg].publicKeyPem), now: atCreated });
        expect(result.ok, `${format}: ${JSON.stringify(result)}`).toBe(true);
      }
    });
  }

  it("verifies a signature made the way pawaPay's Node example makes it (library + DER signer)", async () => {
    const body = SEED_BODY;
    const privateKey = createPrivateKey(keys["ecdsa-p256-sha256"].privateKeyPem);
    const signedRequest = await httpbis.signMessage(
      {
        key: { id: "CUSTOMER_TEST_KEY_ID", alg: "ecdsa-p256-sha256", sign: async (data: Buffer) => createSign("SHA256").update(data).sign(privateKey) },
        name: "sig-pp",
        fields: [...PAWAPAY_REQUEST_COMPONENTS],
      },
      {
        method: "POST",
        url: "https://api.sandbox.pawapay.io/payouts",
        headers: {
          "Signature-Date": new Date().toISOString(),
          "Content-Type": "application/json",
          "Content-Digest": contentDigest(body),
          "Content-Length": String(body.length),
        },
      },
    );
    const headers = new Headers();
    for (const [k, v] of Object.entries(signedRequest.headers)) headers.set(k, String(v));
    const result = await verifyMessageSignature(
      { method: "POST", url: "https://api.sandbox.pawapay.io/payouts", headers },
      { keyLookup: lookupFor("CUSTOMER_TEST_KEY_ID", keys["ecdsa-p256-sha256"].publicKeyPem), requiredComponents: ["content-digest"] },
    );
    expect(result).toMatchObject({ ok: true, keyId: "CUSTOMER_TEST_KEY_ID" });
  });

  it("produces raw-r‖s signatures the http-message-signatures verifier accepts", async () => {
    const message = seedRequest();
    const signed = signMessage(message, {
      privateKey: keys["ecdsa-p256-sha256"].privateKeyPem,
      keyId: "k1",
      alg: "ecdsa-p256-sha256",
      created: Math.floor(Date.now() / 1000),
      ecdsaFormat: "raw",
    });
    const verified = await httpbis.verifyMessage(
      {
        keyLookup: async () => ({
          id: "k1",
          algs: ["ecdsa-p256-sha256"],
          verify: createVerifier(createPublicKey(keys["ecdsa-p256-sha256"].publicKeyPem), "ecdsa-p256-sha256"),
        }),
      },
      {
        method: "POST",
        url: message.url!,
        headers: { ...Object.fromEntries(message.headers), "signature-input": signed["Signature-Input"], signature: signed.Signature },
      },
    );
    expect(verified).toBe(true);
  });
});

describe("verification refuses", () => {
  const alg = "ecdsa-p256-sha256";
  function signedSeed(options: { created?: number; body?: string } = {}) {
    const message = seedRequest(options.body);
    const signed = signMessage(message, { privateKey: keys[alg].privateKeyPem, keyId: "k1", alg, created: options.created ?? CREATED });
    message.headers.set("Signature-Input", signed["Signature-Input"]);
    message.headers.set("Signature", signed.Signature);
    return message;
  }
  const verify = (message: SignableMessage, extra: Partial<Parameters<typeof verifyMessageSignature>[1]> = {}) =>
    verifyMessageSignature(message, { keyLookup: lookupFor("k1", keys[alg].publicKeyPem), requiredComponents: ["content-digest"], now: atCreated, ...extra });

  it("a tampered body (the digest no longer matches)", () => {
    const message = signedSeed();
    expect(verifyContentDigest(message.headers.get("content-digest"), SEED_BODY.replace("260763456789", "260763456780"))).toMatchObject({ ok: false });
  });

  it("a Content-Digest replaced after signing", async () => {
    const message = signedSeed();
    const forged = SEED_BODY.replace('"15"', '"1500"');
    message.headers.set("Content-Digest", contentDigest(forged));
    message.headers.set("Content-Length", String(Buffer.byteLength(forged)));
    expect(await verify(message)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
  });

  it("a signature made with another key under the same keyid", async () => {
    const message = signedSeed();
    const other = generatePawapaySigningKey(alg);
    expect(await verify(message, { keyLookup: lookupFor("k1", other.publicKeyPem) })).toMatchObject({ ok: false });
  });

  it("an unknown keyid", async () => {
    expect(await verify(signedSeed(), { keyLookup: () => null })).toMatchObject({ ok: false, reason: expect.stringMatching(/Unknown signing key/) });
  });

  it("an expired signature and one from the future", async () => {
    const message = signedSeed();
    expect(await verify(message, { now: () => new Date((CREATED + 300 + 61) * 1000) })).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
    expect(await verify(message, { now: () => new Date((CREATED - 120) * 1000) })).toMatchObject({ ok: false, reason: expect.stringMatching(/future/) });
    expect(await verify(message, { now: () => new Date((CREATED + 200) * 1000), maxAgeSeconds: 60 })).toMatchObject({ ok: false });
  });

  it("a signature that does not cover content-digest when that is required", async () => {
    const message = seedRequest();
    const signed = signMessage(message, { privateKey: keys[alg].privateKeyPem, keyId: "k1", alg, created: CREATED, components: ["@method", "@path"] });
    message.headers.set("Signature-Input", signed["Signature-Input"]);
    message.headers.set("Signature", signed.Signature);
    expect(await verify(message)).toMatchObject({ ok: false, reason: expect.stringMatching(/content-digest/) });
  });

  it("an alg that does not fit the key, and a request sent elsewhere", async () => {
    const message = signedSeed();
    expect(await verify(message, { keyLookup: lookupFor("k1", keys["rsa-v1_5-sha256"].publicKeyPem) })).toMatchObject({ ok: false });
    expect(await verify({ ...message, url: "https://evil.example/payouts" })).toMatchObject({ ok: false });
    expect(await verify({ ...message, method: "PUT" })).toMatchObject({ ok: false });
  });

  it("accepts the Host header's authority when the framework's URL differs", async () => {
    const message = signedSeed();
    const rebuilt = { ...message, url: "http://localhost:3000/payouts", alternateAuthorities: ["api.sandbox.pawapay.io"] };
    expect(await verify(rebuilt)).toMatchObject({ ok: true });
  });

  it("a missing or malformed signature header", async () => {
    const message = seedRequest();
    expect(await verify(message)).toMatchObject({ ok: false });
    message.headers.set("Signature-Input", "sig-pp=(");
    message.headers.set("Signature", "sig-pp=:AAAA:");
    expect(await verify(message)).toMatchObject({ ok: false });
  });
});
