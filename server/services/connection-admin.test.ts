// Connections admin through the tRPC routers (createCaller), the real
// services, a real database (PGlite, and PostgreSQL when TEST_DATABASE_URL is
// set) and the built-in pawaPay emulator over real HTTP.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import superjson from "superjson";
import { testDatabases } from "@/server/db/testing";
import { startTestDesk, type TestDesk, refusal } from "@/server/testing/desk";
import type { Role } from "@/server/auth/roles";
import { secretKeys } from "@/server/connectors/credential-fields";
import { sandboxBaseUrlFor } from "@/server/connectors/registry";
import { generateSigningKey } from "@/server/connectors/paytota/signature";
import { serveWebHandler } from "@/server/sandbox/http";
import { openCredentials } from "./connections";


const SECRET_TOKEN = `tok-${randomUUID()}`;

describe.each(testDatabases())("connections admin on %s", (kind) => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const admin = () => t.caller("admin").connections;
  const draft = (over: Partial<{ name: string; environment: string; baseUrl: string; credentials: Record<string, string> }> = {}) => ({
    provider: "pawapay" as const,
    name: over.name ?? `pawaPay ${randomUUID().slice(0, 8)}`,
    environment: over.environment ?? "sandbox",
    baseUrl: over.baseUrl ?? "sandbox://pawapay",
    credentials: over.credentials ?? { apiToken: `tok-${randomUUID()}` },
  });
  const stored = async (id: string) => openCredentials(t.desk, await t.desk.db.connection.findUniqueOrThrow({ where: { id } }));

  it("adds a pawaPay connection at the built-in emulator, with a generated signing key, and audits it without secrets", async () => {
    const { id } = await admin().create(draft({ name: "pawaPay second", credentials: { apiToken: SECRET_TOKEN } }));
    const credentials = await stored(id);
    expect(credentials.apiToken).toBe(SECRET_TOKEN);
    expect(credentials.signingKeyPem).toContain("BEGIN PRIVATE KEY");
    expect(credentials.signingKeyId).toMatch(/^desk-/);
    // Sealed at rest: the row holds an envelope, not the token.
    const row = await t.desk.db.connection.findUniqueOrThrow({ where: { id } });
    expect(row.credentials).toMatch(/^v1\./);
    expect(row.credentials).not.toContain(SECRET_TOKEN);

    const entry = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "connection.create", entityId: id } });
    expect(entry.actorId).toBe(t.users.admin.id);
    expect(entry.details).toMatchObject({ provider: "pawapay", name: "pawaPay second", credentialKeysSet: expect.arrayContaining(["apiToken", "signingKeyPem"]) });
    expect(JSON.stringify(entry.details)).not.toContain(SECRET_TOKEN);
    expect(JSON.stringify(entry.details)).not.toContain("PRIVATE KEY");

    const listed = (await admin().list()).find((c) => c.id === id)!;
    expect(listed).toMatchObject({ enabled: true, builtInSandbox: true, environment: "sandbox" });
    expect(listed.publicKeyPem).toContain("BEGIN PUBLIC KEY");
    expect(listed.callbackUrl).toBe(`${t.url}/api/webhooks/${id}`);
  });

  it("names the field and the rule for bad input", async () => {
    await admin().create(draft({ name: "Taken name" }));
    expect(await refusal(admin().create(draft({ name: "  " })))).toMatchObject({ code: "BAD_REQUEST", name: "Give the connection a name" });
    expect(await refusal(admin().create(draft({ name: "x".repeat(81) })))).toMatchObject({ name: "Keep the name to 80 characters at most" });
    expect(await refusal(admin().create(draft({ name: "taken NAME" })))).toMatchObject({ name: 'Another connection is already named "taken NAME"' });
    expect(await refusal(admin().create(draft({ baseUrl: "ftp://example.com" })))).toMatchObject({ baseUrl: "Base URL must start with https:// or http://" });
    expect(await refusal(admin().create(draft({ baseUrl: "not a url" })))).toMatchObject({ baseUrl: expect.stringContaining("full http(s) URL") });
    expect(await refusal(admin().create(draft({ baseUrl: "https://user:pw@api.pawapay.io" })))).toMatchObject({ baseUrl: expect.stringContaining("not in the base URL") });
    expect(await refusal(admin().create(draft({ environment: "live", baseUrl: "http://api.example.com" })))).toMatchObject({ baseUrl: "A live connection must use https://" });
    expect(await refusal(admin().create(draft({ environment: "live" })))).toMatchObject({ environment: expect.stringContaining("built-in emulator is a sandbox") });
    expect(await refusal(admin().create(draft({ environment: "staging" })))).toMatchObject({ environment: "Choose sandbox or live" });
    expect(await refusal(admin().create(draft({ credentials: {} })))).toMatchObject({ "credentials.apiToken": "API token is required" });
    expect(await refusal(admin().create(draft({ credentials: { apiToken: "t", colour: "blue" } })))).toMatchObject({ "credentials.colour": "colour is not a pawaPay setting" });
    expect(await refusal(admin().create(draft({ credentials: { apiToken: "t", signingKeyPem: "nonsense", signingKeyId: "k" } })))).toMatchObject({
      "credentials.signingKeyPem": expect.stringContaining("PEM private key"),
    });
    expect(await refusal(admin().create(draft({ credentials: { apiToken: "t", signingAlgorithm: "md5" } })))).toMatchObject({
      "credentials.signingAlgorithm": expect.stringContaining("must be one of"),
    });
    expect(await refusal(admin().create({ ...draft(), provider: "muda", baseUrl: "sandbox://muda", credentials: {} }))).toMatchObject({
      "credentials.apiKey": "API key is required",
      "credentials.secretKey": "Secret key is required",
    });
  });

  it("keeps a stored secret when the edit leaves it blank, and replaces it when filled", async () => {
    const { id } = await admin().create(draft({ credentials: { apiToken: "first-token", signingKeyId: "key-1" } }));
    const before = await stored(id);

    const edit = await admin().get({ id });
    expect(edit.credentials.find((c) => c.key === "apiToken")).toEqual({ key: "apiToken", set: true });
    expect(edit.credentials.find((c) => c.key === "signingKeyId")).toEqual({ key: "signingKeyId", set: true, value: "key-1" });

    const renamed = `Renamed ${randomUUID().slice(0, 8)}`;
    const result = await admin().update({ id, name: renamed, environment: "sandbox", baseUrl: "sandbox://pawapay", credentials: { apiToken: "", signingKeyPem: "", signingKeyId: "key-1" } });
    expect(result.changed).toEqual(["name"]);
    const kept = await stored(id);
    expect(kept.apiToken).toBe("first-token");
    expect(kept.signingKeyPem).toBe(before.signingKeyPem);

    await admin().update({ id, name: renamed, environment: "sandbox", baseUrl: "sandbox://pawapay", credentials: { apiToken: "second-token", signingKeyId: "key-2" } });
    const replaced = await stored(id);
    expect(replaced.apiToken).toBe("second-token");
    expect(replaced.signingKeyId).toBe("key-2");
    expect(replaced.signingKeyPem).toBe(before.signingKeyPem);

    const entries = await t.desk.db.auditLog.findMany({ where: { action: "connection.update", entityId: id }, orderBy: { id: "asc" } });
    expect(entries.map((e) => e.details)).toEqual([
      { changed: ["name"], credentialKeysChanged: [], name: renamed },
      { changed: [], credentialKeysChanged: ["apiToken", "signingKeyId"] },
    ]);
    expect(JSON.stringify(entries.map((e) => e.details))).not.toContain("second-token");

    // A save from a form loaded before someone else's change is refused, not applied over it.
    const stale = edit.version;
    expect(await refusal(admin().update({ id, version: stale, name: renamed, environment: "sandbox", baseUrl: "sandbox://pawapay", credentials: { apiToken: "third-token" } }))).toMatchObject({
      code: "CONFLICT",
    });
    expect((await stored(id)).apiToken).toBe("second-token");

    // A key that cannot sign with the chosen algorithm is caught on save, not at the first payout.
    expect(await refusal(admin().update({ id, name: renamed, environment: "sandbox", baseUrl: "sandbox://pawapay", credentials: { signingAlgorithm: "rsa-pss-sha512" } }))).toMatchObject({
      "credentials.signingAlgorithm": expect.stringContaining("cannot sign with rsa-pss-sha512"),
    });
  });

  it("a new base URL needs the secrets again: the stored secret is never sent to a host it was not entered for", async () => {
    // A host that records what it is sent: where an admin (or a stolen admin session) would point the connection.
    const seen: string[] = [];
    const elsewhere = await serveWebHandler(async (request) => {
      seen.push(request.headers.get("authorization") ?? "");
      return Response.json({ detail: "who are you" }, { status: 401 });
    });
    try {
      const token = `tok-${randomUUID()}`;
      const { id } = await admin().create(draft({ baseUrl: `${t.url}/api/sandbox/pawapay`, credentials: { apiToken: token } }));
      const edit = await admin().get({ id });
      const moved = { id, name: edit.name, environment: "sandbox", baseUrl: elsewhere.url, credentials: { apiToken: "", signingKeyPem: "", signingKeyId: edit.credentials.find((c) => c.key === "signingKeyId")!.value! } };

      expect(await refusal(admin().update(moved))).toMatchObject({ code: "BAD_REQUEST", "credentials.apiToken": "Enter the API token again: the base URL changed" });
      // The generated signing key never leaves the desk and nobody holds a copy to enter: it is not asked for.
      expect(await refusal(admin().update(moved))).not.toHaveProperty(["credentials.signingKeyPem"]);
      const row = await t.desk.db.connection.findUniqueOrThrow({ where: { id } });
      expect(row.baseUrl).toBe(`${t.url}/api/sandbox/pawapay`);
      await admin().test({ id });
      expect(seen).toEqual([]);

      // The same URL written differently is no move; a rename alone keeps the secret.
      expect((await admin().update({ ...moved, baseUrl: `${t.url}/api/sandbox/pawapay/`, name: `${edit.name} (kept)` })).changed).toEqual(["name"]);
      // Entered again, the move is saved, and only then does the new host see it.
      const other = `tok-${randomUUID()}`;
      expect((await admin().update({ ...moved, name: `${edit.name} (kept)`, credentials: { ...moved.credentials, apiToken: other } })).changed).toEqual(["baseUrl", "credentials.apiToken"]);
      await admin().test({ id });
      expect(seen).toEqual([`Bearer ${other}`]);
      // Back to the built-in emulator (the desk itself) asks for nothing.
      expect((await admin().update({ ...moved, name: `${edit.name} (kept)`, baseUrl: "sandbox://pawapay" })).changed).toEqual(["baseUrl"]);
    } finally {
      await elsewhere.close();
    }
  });

  it("asks for every secret a provider has when its base URL changes, and for Praxis when its Agent API URL changes", async () => {
    const pontis = { apiKey: `p-${randomUUID()}`, encryptionKey: "enc-secret-1", hmacKey: "hmac-secret-1", email: "ops@desk.example", password: "pw-secret-1" };
    const created = await admin().create({ ...draft(), provider: "pontis", baseUrl: "https://api.pontis.example", credentials: pontis });
    const keep = { ...pontis, encryptionKey: "", hmacKey: "", password: "" };
    expect(await refusal(admin().update({ id: created.id, name: (await admin().get({ id: created.id })).name, environment: "sandbox", baseUrl: "https://evil.example", credentials: keep }))).toMatchObject({
      "credentials.encryptionKey": "Enter the encryption key again: the base URL changed",
      "credentials.hmacKey": "Enter the HMAC key again: the base URL changed",
      "credentials.password": "Enter the account password again: the base URL changed",
    });

    const praxis = { merchantId: `m-${randomUUID()}`, applicationKey: "app", merchantSecret: "praxis-secret-1" };
    const { id } = await admin().create({ ...draft(), provider: "praxis", baseUrl: "https://pci-gw-test.praxispay.com/api/direct", credentials: { ...praxis, agentBaseUrl: "https://pci-gw-test.praxispay.com/api" } });
    const name = (await admin().get({ id })).name;
    const movedAgent = { id, name, environment: "sandbox", baseUrl: "https://pci-gw-test.praxispay.com/api/direct", credentials: { ...praxis, merchantSecret: "", agentBaseUrl: "https://evil.example/api" } };
    expect(await refusal(admin().update(movedAgent))).toMatchObject({ "credentials.merchantSecret": "Enter the merchant secret again: the agent API base URL changed" });
    expect((await admin().update({ ...movedAgent, credentials: { ...movedAgent.credentials, merchantSecret: "praxis-secret-2" } })).changed).toEqual([
      "credentials.agentBaseUrl",
      "credentials.merchantSecret",
    ]);
  });

  it("sets every credential the README lists from the form: Praxis agentBaseUrl, Paytota lookupByReference, amountUnits, webhookPublicKeyPem", async () => {
    const praxis = { merchantId: `m-${randomUUID()}`, applicationKey: "app", merchantSecret: "praxis-secret", agentBaseUrl: "https://pci-gw-test.praxispay.com/api" };
    const p = await admin().create({ ...draft(), provider: "praxis", baseUrl: "sandbox://praxis", credentials: praxis });
    expect((await stored(p.id)).agentBaseUrl).toBe("https://pci-gw-test.praxispay.com/api");
    expect((await admin().get({ id: p.id })).credentials.find((c) => c.key === "agentBaseUrl")).toEqual({ key: "agentBaseUrl", set: true, value: praxis.agentBaseUrl });
    expect(await refusal(admin().create({ ...draft(), provider: "praxis", baseUrl: "sandbox://praxis", credentials: { ...praxis, agentBaseUrl: "find-order" } }))).toMatchObject({
      "credentials.agentBaseUrl": "Agent API base URL must be a full http(s) URL, e.g. https://pci-gw-test.praxispay.com/api",
    });

    const { publicKeyPem } = generateSigningKey(1024);
    const paytota = { secretKey: `sk-${randomUUID()}`, brandId: randomUUID(), lookupByReference: "false", amountUnits: "major", webhookPublicKeyPem: publicKeyPem };
    const { id } = await admin().create({ ...draft(), provider: "paytota", baseUrl: "https://gate.paytota.example", credentials: paytota });
    expect(await stored(id)).toMatchObject({ lookupByReference: "false", amountUnits: "major", webhookPublicKeyPem: publicKeyPem.trim() });
    const form = (await admin().providers()).find((f) => f.provider === "paytota")!;
    expect(form.fields.filter((f) => ["lookupByReference", "amountUnits", "webhookPublicKeyPem"].includes(f.key))).toEqual([
      expect.objectContaining({ key: "lookupByReference", input: "select", options: ["true", "false"], hint: expect.any(String) }),
      expect.objectContaining({ key: "amountUnits", input: "select", options: ["minor", "major"], hint: expect.any(String) }),
      expect.objectContaining({ key: "webhookPublicKeyPem", input: "multiline", secret: false }),
    ]);
    const bad = (over: Record<string, string>) => refusal(admin().create({ ...draft(), provider: "paytota", baseUrl: "https://gate.paytota.example", credentials: { ...paytota, ...over } }));
    expect(await bad({ lookupByReference: "yes" })).toMatchObject({ "credentials.lookupByReference": "Look up payouts by reference must be one of true, false" });
    expect(await bad({ amountUnits: "cents" })).toMatchObject({ "credentials.amountUnits": "Amounts in answers must be one of minor, major" });
    expect(await bad({ webhookPublicKeyPem: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----" })).toMatchObject({
      "credentials.webhookPublicKeyPem": expect.stringContaining("RSA public key in PEM"),
    });
    // Every select of every provider says what it does.
    for (const provider of await admin().providers()) {
      for (const field of provider.fields.filter((f) => f.input === "select")) expect(field.hint, `${provider.provider}.${field.key}`).toBeTruthy();
    }
  });

  it("sets the send concurrency on the form: stored in the connection's settings, audited, blank for the desk's default", async () => {
    const created = draft();
    const { id } = await admin().create({ ...created, sendConcurrency: "3" });
    expect((await t.desk.db.connection.findUniqueOrThrow({ where: { id } })).settings).toEqual({ sendConcurrency: 3 });
    expect(await admin().get({ id })).toMatchObject({ sendConcurrency: "3", defaultSendConcurrency: t.desk.config.sendConcurrency });
    const { provider: _p, ...edit } = created;
    expect(await refusal(admin().update({ id, ...edit, sendConcurrency: "lots" }))).toMatchObject({ sendConcurrency: expect.stringMatching(/1 to 64/) });
    expect(await refusal(admin().update({ id, ...edit, sendConcurrency: "65" }))).toMatchObject({ sendConcurrency: expect.stringMatching(/1 to 64/) });
    const saved = await admin().update({ id, ...edit, credentials: {}, sendConcurrency: "12" });
    expect(saved.changed).toEqual(["sendConcurrency"]);
    const entry = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "connection.update", entityId: id }, orderBy: { id: "desc" } });
    expect(entry.details).toMatchObject({ sendConcurrency: { before: "3", after: "12" } });
    await admin().update({ id, ...edit, credentials: {}, sendConcurrency: "" });
    expect((await t.desk.db.connection.findUniqueOrThrow({ where: { id } })).settings).toEqual({});
    expect((await admin().get({ id })).sendConcurrency).toBe("");
  });

  it("sets the requests a minute on the form, checked and audited; blank is the provider's published limit", async () => {
    const created = draft();
    const { id } = await admin().create({ ...created, requestsPerMinute: "30" });
    expect((await t.desk.db.connection.findUniqueOrThrow({ where: { id } })).settings).toEqual({ requestsPerMinute: 30 });
    const { provider: _p, ...edit } = created;
    expect(await refusal(admin().update({ id, ...edit, credentials: {}, requestsPerMinute: "fast" }))).toMatchObject({ requestsPerMinute: expect.stringMatching(/1 to 60,000/) });
    expect((await admin().update({ id, ...edit, credentials: {}, requestsPerMinute: "" })).changed).toEqual(["requestsPerMinute"]);
    const entry = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "connection.update", entityId: id }, orderBy: { id: "desc" } });
    expect(entry.details).toMatchObject({ requestsPerMinute: { before: "30", after: "provider's" } });
    const muda = await t.desk.db.connection.findFirstOrThrow({ where: { provider: "muda" } });
    expect(await admin().get({ id: muda.id })).toMatchObject({ requestsPerMinute: "", publishedRequestsPerMinute: 100 });
  });

  it("pauses a connection so it takes no new payouts, and resumes it", async () => {
    const { id } = await admin().create(draft({ name: "Pausable" }));
    expect(await admin().pause({ id })).toEqual({ id, enabled: false });
    expect((await admin().list()).find((c) => c.id === id)?.enabled).toBe(false);
    expect((await t.caller("maker").connections.forPayouts()).map((c) => c.id)).not.toContain(id);
    const refused = await refusal(
      t.caller("maker").payouts.create({ id: randomUUID(), connectionId: id, amount: "15", currency: "ZMW", recipientPhone: "260763456789", description: "Invoice 1" }),
    );
    expect(refused.connectionId).toBe("Pausable is paused; choose another connection");

    expect(await admin().resume({ id })).toEqual({ id, enabled: true });
    expect((await t.caller("maker").connections.forPayouts()).map((c) => c.id)).toContain(id);
    const actions = await t.desk.db.auditLog.findMany({ where: { entityId: id, action: { in: ["connection.pause", "connection.resume"] } }, orderBy: { id: "asc" } });
    expect(actions.map((a) => a.action)).toEqual(["connection.pause", "connection.resume"]);
  });

  it("tests a connection against the built-in pawaPay emulator", async () => {
    const result = await admin().test({ id: t.pawapayConnectionId });
    expect(result).toMatchObject({ ok: true, via: "balances" });
    expect(result.message).toContain("ZMW");
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const entry = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "connection.test", entityId: t.pawapayConnectionId } });
    expect(entry.details).toMatchObject({ ok: true, via: "balances" });
  });

  it("reports a provider's refusal or silence as a result, not an error", async () => {
    // The emulator knows only built-in connections' tokens, so this one is refused with 401.
    const refused = await admin().create(draft({ baseUrl: `${t.url}/api/sandbox/pawapay`, credentials: { apiToken: "unknown-token" } }));
    const answer = await admin().test({ id: refused.id });
    expect(answer.ok).toBe(false);
    expect(answer.message).toContain("HTTP 401");

    const silent = await admin().create(draft({ baseUrl: "http://127.0.0.1:9/nothing", credentials: { apiToken: "x" } }));
    expect(await admin().test({ id: silent.id })).toMatchObject({ ok: false, via: "balances", message: expect.stringContaining("did not answer") });
  });

  it.each([
    ["muda", { apiKey: `muda-${randomUUID()}`, secretKey: "muda-secret-for-test" }],
    ["praxis", { merchantId: `m-${randomUUID()}`, applicationKey: "app-key", merchantSecret: "praxis-secret-for-test" }],
  ] as const)("adds a %s connection at its built-in emulator and tests it", async (provider, credentials) => {
    const { id } = await admin().create({ ...draft(), provider, baseUrl: `sandbox://${provider}`, credentials });
    const row = await t.desk.db.connection.findUniqueOrThrow({ where: { id } });
    // Stored like the seeded sandbox connection, below the emulator's own path if it has one.
    expect(row.baseUrl).toBe(sandboxBaseUrlFor(provider));
    expect((await admin().get({ id })).builtInEmulator).toBe(true);
    const result = await admin().test({ id });
    expect(result, result.message).toMatchObject({ ok: true });
  });

  it.each(["viewer", "maker", "approver"] as Role[])("refuses every admin procedure to a %s", async (role) => {
    const c = t.caller(role).connections;
    const id = t.pawapayConnectionId;
    const edit = { id, name: "x", environment: "sandbox", baseUrl: "sandbox://pawapay", credentials: {} };
    // Thunks: a refused call made before its turn would reject unhandled.
    for (const call of [() => c.list(), () => c.providers(), () => c.get({ id }), () => c.create(draft()), () => c.update(edit), () => c.test({ id }), () => c.pause({ id }), () => c.resume({ id })]) {
      expect((await refusal(call())).code).toBe("FORBIDDEN");
    }
    expect((await t.desk.db.connection.findUniqueOrThrow({ where: { id } })).enabled).toBe(true);
  });

  it("never sends a secret to the browser from any connections query", async () => {
    const { id } = await admin().create(draft({ credentials: { apiToken: SECRET_TOKEN } }));
    const rows = await t.desk.db.connection.findMany();
    const secrets = rows.flatMap((row) => {
      const credentials = openCredentials(t.desk, row);
      return [...secretKeys(row.provider)].flatMap((key) => {
        const value = credentials[key] ?? "";
        return value.includes("-----BEGIN") ? pemLines(value) : [value];
      });
    }).filter((secret) => secret.length >= 8); // the one-letter tokens of other tests would match anything
    expect(secrets).toContain(SECRET_TOKEN);

    const outputs: unknown[] = [
      await admin().list(),
      await admin().providers(),
      await t.caller("maker").connections.forPayouts(),
      await t.caller("viewer").connections.names(),
      ...(await Promise.all(rows.map((row) => admin().get({ id: row.id })))),
    ];
    // The wire format the browser receives (superjson over JSON).
    const wire = JSON.stringify(outputs.map((o) => superjson.serialize(o)));
    expect(wire).toContain(id);
    for (const secret of secrets) expect(wire).not.toContain(secret);
    expect(wire).not.toContain("PRIVATE KEY");
  });
});

/** The base64 body lines of a PEM key: any one of them leaking is a leak. */
function pemLines(pem: string): string[] {
  return pem.split("\n").filter((line) => line.length >= 32 && !line.startsWith("-----"));
}
