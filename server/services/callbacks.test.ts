// What the webhook route keeps and answers, over real HTTP against the test
// desk (PGlite, and PostgreSQL when TEST_DATABASE_URL is set), with callbacks
// genuinely signed the way each provider (and its emulator) signs them:
// - a signed callback that contradicts a final status is noted once per distinct content;
// - a signed callback for a payout not sent yet is refused (the provider
//   retries), kept, and applied when it comes again after the send;
// - a verified callback another receiver is still applying is not answered
//   "duplicate", and one a dead receiver left is taken over;
// - refused callbacks are kept cut to 4 KB with their size and hash, at most
//   60 a minute per connection; verified ones are kept whole.
import { createHash, randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { eventually, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { approveAsRead } from "@/server/testing/approvals";
import { installCallbackTap, type CallbackTap } from "@/server/testing/callback-tap";
import { PROVIDER_CASES } from "@/server/testing/provider-cases";
import type { ProviderKind } from "@/server/connectors/types";
import { callbackSignature, decodeKey } from "@/server/connectors/pontis";
import { integerField, parsePraxisObject, toPraxisJson, verifyPraxis, withSignature } from "@/server/connectors/praxis";
import { sandboxEmulator } from "./sandbox-hosting";
import { openCredentials } from "./connections";
import { REFUSED_BODY_KEEP_BYTES, REFUSED_CALLBACKS_PER_MINUTE } from "./callbacks";

let tap: CallbackTap;
beforeAll(() => {
  tap = installCallbackTap();
});
afterAll(() => {
  tap.uninstall();
});

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

describe.each(testDatabases())("callbacks on %s", (kind) => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const connectionOf = (provider: ProviderKind) => t.desk.db.connection.findFirstOrThrow({ where: { provider } });
  const credentialsOf = async (provider: ProviderKind) => openCredentials(t.desk, await connectionOf(provider));

  async function post(connectionId: string, headers: Record<string, string>, body: string) {
    const response = await tap.realFetch(`${t.url}/api/webhooks/${connectionId}`, { method: "POST", headers, body });
    return { status: response.status, text: await response.text(), retryAfter: response.headers.get("retry-after") };
  }

  /**
   * A post on a connection of its own, closed after the answer: a flood of
   * parallel posts over fetch's pooled keep-alive sockets can pick one the
   * server is just closing (ECONNRESET), which says nothing about the desk.
   */
  function postOnNewConnection(connectionId: string, headers: Record<string, string>, body: string) {
    return new Promise<{ status: number; text: string; retryAfter: string | null }>((resolve, reject) => {
      const request = httpRequest(`${t.url}/api/webhooks/${connectionId}`, { method: "POST", agent: false, headers: { ...headers, connection: "close", "content-length": String(Buffer.byteLength(body)) } }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const retryAfter = response.headers["retry-after"];
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), retryAfter: typeof retryAfter === "string" ? retryAfter : null });
        });
        response.on("error", reject);
      });
      request.on("error", reject);
      request.end(body);
    });
  }

  /** A PontisGlobe callback signed with the connection's HMAC key, as PontisGlobe (and its emulator) sign them. */
  async function pontisCallback(body: string, options: { at?: number; eventId?: string } = {}) {
    const { hmacKey } = await credentialsOf("pontis");
    const timestamp = String(options.at ?? Math.floor(Date.now() / 1000));
    return {
      "content-type": "application/json",
      "x-pontis-timestamp": timestamp,
      "x-pontis-signature": callbackSignature(timestamp, body, decodeKey(hmacKey!, "hmacKey")),
      "x-pontis-event-id": options.eventId ?? randomUUID(),
    };
  }

  async function created(provider: ProviderKind) {
    const connection = await connectionOf(provider);
    const fields = PROVIDER_CASES.find((c) => c.provider === provider)!.success;
    const payout = await t.caller("maker").payouts.create({ id: randomUUID(), connectionId: connection.id, ...fields });
    return { connection, id: payout.id };
  }

  async function sent(provider: ProviderKind) {
    const made = await created(provider);
    await approveAsRead(t.caller("approver"), made.id);
    await t.work.run({ payoutId: made.id, max: 1 });
    return made;
  }

  const payoutOf = (id: string) => t.desk.db.payout.findUniqueOrThrow({ where: { id } });
  const eventsOf = (id: string) => t.desk.db.payoutEvent.findMany({ where: { payoutId: id }, orderBy: [{ at: "asc" }, { id: "asc" }] });

  it("notes a signed contradiction of a final status once per distinct content, however often it is replayed", async () => {
    const { connection, id } = await sent("pontis");
    const paid = await eventually(async () => {
      const payout = await payoutOf(id);
      return payout.status === "succeeded" && payout;
    });
    const reference = paid.providerReference!;
    const settledEvents = (await eventsOf(id)).length;

    // PontisGlobe's back office turns the completed payout to failed and calls back, genuinely signed.
    tap.hold(connection.id);
    const emulator = (await sandboxEmulator("pontis", t.desk)) as unknown as { settle(transactionId: string, status: string, message?: string): boolean };
    expect(emulator.settle(reference, "failed", "Beneficiary bank returned the funds")).toBe(true);
    const genuine = await eventually(async () => tap.seen.find((c) => c.connectionId === connection.id && c.body.includes(reference) && c.body.includes('"failed"')));
    const first = await post(connection.id, genuine.headers, genuine.body);
    expect(first.status).toBe(200);
    const noted = await eventsOf(id);
    expect(noted).toHaveLength(settledEvents + 1);
    expect(noted.at(-1)).toMatchObject({ fromStatus: "succeeded", toStatus: "succeeded", source: "callback", note: expect.stringMatching(/already succeeded/) });

    // Replayed as is, with new event ids (outside the HMAC), and signed afresh: the same content, noted once.
    for (let i = 0; i < 3; i++) expect((await post(connection.id, genuine.headers, genuine.body)).text).toMatch(/Duplicate/);
    for (let i = 0; i < 4; i++) {
      const reply = await post(connection.id, { ...genuine.headers, "x-pontis-event-id": randomUUID() }, genuine.body);
      expect(reply).toMatchObject({ status: 200, text: expect.stringMatching(/Duplicate/) });
    }
    expect((await post(connection.id, await pontisCallback(genuine.body), genuine.body)).text).toMatch(/Duplicate/);
    expect(await eventsOf(id)).toHaveLength(settledEvents + 1);

    // Other content (another status) is another fact: noted once more, and once only.
    const canceled = JSON.stringify({ transaction_id: reference, status: "canceled", status_message: "Cancelled by operator" });
    for (let i = 0; i < 3; i++) expect((await post(connection.id, await pontisCallback(canceled), canceled)).status).toBe(200);
    expect(await eventsOf(id)).toHaveLength(settledEvents + 2);
    expect((await payoutOf(id)).status).toBe("succeeded");

    // The verified callbacks are kept whole, with their size and hash.
    const receipt = await t.desk.db.callbackReceipt.findFirstOrThrow({ where: { connectionId: connection.id, dedupeKey: `pontis:${reference}:failed` } });
    expect(receipt).toMatchObject({ verified: true, body: genuine.body, bodyBytes: Buffer.byteLength(genuine.body), bodySha256: sha256(genuine.body), outcome: "contradiction" });
    tap.release(connection.id);
  });

  it("refuses a signed callback for a payout still pending approval, keeps it, and applies it when resent after the send", async () => {
    const { connection, id } = await created("praxis");
    const { merchantSecret, merchantId } = await credentialsOf("praxis");
    // Praxis notifies the payout approved, correctly signed, before the desk ever sent it.
    const body = toPraxisJson(
      withSignature(
        {
          amount: 1000n,
          currency: "USD",
          error_code: null,
          error_details: null,
          merchant_id: merchantId!,
          order_id: id,
          timestamp: BigInt(Math.floor(Date.now() / 1000)),
          trace_id: "9100001",
          transaction_id: "8100001",
          transaction_status: "approved",
        },
        merchantSecret!,
      ),
    );
    const headers = { "content-type": "application/json" };
    for (let i = 0; i < 2; i++) {
      const reply = await post(connection.id, headers, body);
      // Praxis's protocol: a signed reply whose status is not 0 makes Praxis send it again later.
      expect(reply.status).toBe(200);
      const fields = parsePraxisObject(reply.text)!;
      expect(verifyPraxis(fields, merchantSecret!)).toBe(true);
      expect(integerField(fields, "status")).toBe(1n);
    }
    expect((await payoutOf(id)).status).toBe("pending_approval");
    expect((await eventsOf(id)).map((e) => e.toStatus)).toEqual(["pending_approval"]);
    // Kept each time (not taken as a duplicate of the first), verified, with the reason.
    const kept = await t.desk.db.callbackReceipt.findMany({ where: { payoutId: id }, orderBy: { receivedAt: "asc" } });
    expect(kept).toHaveLength(2);
    expect(kept.every((r) => r.verified && r.body === body && /^premature/.test(r.outcome ?? ""))).toBe(true);

    // Approved and sent (Praxis's own notification held back): the resend is now applied.
    tap.hold(connection.id);
    await approveAsRead(t.caller("approver"), id);
    await t.work.run({ payoutId: id, max: 1 });
    expect((await payoutOf(id)).status).toBe("processing");
    const reply = await post(connection.id, headers, body);
    expect(integerField(parsePraxisObject(reply.text)!, "status")).toBe(0n);
    expect((await payoutOf(id)).status).toBe("succeeded");
    expect((await eventsOf(id)).at(-1)).toMatchObject({ toStatus: "succeeded", source: "callback" });
    tap.release(connection.id);
  });

  it("answers a provider without a prescribed reply 409 with Retry-After for a payout not sent yet", async () => {
    const { connection, id } = await created("pontis");
    const body = JSON.stringify({ transaction_id: `tx-${randomUUID()}`, status: "completed", status_message: "ok", idempotency_key: id });
    const reply = await post(connection.id, await pontisCallback(body), body);
    expect(reply).toMatchObject({ status: 409, text: expect.stringMatching(/has not been sent yet/) });
    expect(Number(reply.retryAfter)).toBeGreaterThan(0);
    expect((await payoutOf(id)).status).toBe("pending_approval");
    // Not a 500, and not kept under the content's key (the resend after the send must be taken).
    expect(await t.desk.db.callbackReceipt.findMany({ where: { payoutId: id } })).toEqual([
      expect.objectContaining({ verified: true, outcome: expect.stringMatching(/^premature/), dedupeKey: expect.stringMatching(/#not-applied:/) }),
    ]);
  });

  it("does not answer 'duplicate' for a callback another receiver is still applying, and takes over one a dead receiver left", async () => {
    const { connection, id } = await created("pontis");
    tap.hold(connection.id);
    await approveAsRead(t.caller("approver"), id);
    await t.work.run({ payoutId: id, max: 1 });
    const reference = (await payoutOf(id)).providerReference!;
    const genuine = await eventually(async () => tap.seen.find((c) => c.connectionId === connection.id && c.body.includes(reference)));

    // Another receiver stored this callback a moment ago and is applying it.
    const inFlight = await t.desk.db.callbackReceipt.create({
      data: { connectionId: connection.id, dedupeKey: `pontis:${reference}:completed`, payoutId: id, headers: {}, body: genuine.body, verified: true, receivedAt: new Date() },
    });
    const busy = await post(connection.id, genuine.headers, genuine.body);
    expect(busy.status).toBe(409);
    expect(busy.text).toMatch(/being processed/);
    expect((await payoutOf(id)).status).toBe("processing");

    // That receiver died two minutes ago without finishing: the resend is applied.
    await t.desk.db.callbackReceipt.update({ where: { id: inFlight.id }, data: { receivedAt: new Date(Date.now() - 120_000) } });
    const taken = await post(connection.id, genuine.headers, genuine.body);
    expect(taken).toMatchObject({ status: 200, text: expect.stringMatching(/"ok"/) });
    expect((await payoutOf(id)).status).toBe("succeeded");
    expect(await t.desk.db.callbackReceipt.findUniqueOrThrow({ where: { id: inFlight.id } })).toMatchObject({ outcome: "changed", processedAt: expect.any(Date) });
    tap.release(connection.id);
  });

  it("keeps a refused callback cut to its first 4 KB, with the whole body's size and sha256", async () => {
    const connection = await connectionOf("pawapay");
    const big = JSON.stringify({ payoutId: randomUUID(), status: "COMPLETED", note: "€".repeat(40_000) });
    const reply = await post(connection.id, { "content-type": "application/json", signature: "sig-pp=:AAAA:", "signature-input": 'sig-pp=("content-digest");keyid="x";created=1' }, big);
    expect(reply.status).toBe(401);
    const receipt = await t.desk.db.callbackReceipt.findFirstOrThrow({ where: { connectionId: connection.id, bodySha256: sha256(big) } });
    expect(receipt.verified).toBe(false);
    expect(receipt.bodyBytes).toBe(Buffer.byteLength(big));
    expect(Buffer.byteLength(receipt.body)).toBeLessThanOrEqual(REFUSED_BODY_KEEP_BYTES);
    expect(Buffer.byteLength(receipt.body)).toBeGreaterThan(REFUSED_BODY_KEEP_BYTES - 3);
    // Cut between characters, never inside the three bytes of a "€".
    expect(big.startsWith(receipt.body)).toBe(true);
  });

  it(`stores at most ${REFUSED_CALLBACKS_PER_MINUTE} refused callbacks a minute per connection, then answers 429; verified ones still pass`, async () => {
    // Paytota's own callback for a payout, genuinely signed, held back to be delivered during the flood.
    const { connection, id } = await sent("paytota");
    tap.hold(connection.id);
    const genuine = await eventually(async () => tap.seen.find((c) => c.connectionId === connection.id && c.body.includes(id)));
    const flood = 80;
    const replies = await Promise.all(
      Array.from({ length: flood }, (_, i) => postOnNewConnection(connection.id, { "content-type": "application/json", "x-signature": "Zm9yZ2Vk" }, JSON.stringify({ reference: id, status: "success", n: i }))),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(REFUSED_CALLBACKS_PER_MINUTE);
    expect(statuses.filter((s) => s === 429)).toHaveLength(flood - REFUSED_CALLBACKS_PER_MINUTE);
    for (const limited of replies.filter((r) => r.status === 429)) {
      expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60);
    }
    expect(await t.desk.db.callbackReceipt.count({ where: { connectionId: connection.id, verified: false } })).toBe(REFUSED_CALLBACKS_PER_MINUTE);
    expect((await payoutOf(id)).status).toBe("processing");

    // The provider's real callback is not held up by the flood.
    const real = await post(connection.id, genuine.headers, genuine.body);
    expect(real.status).toBe(200);
    expect((await payoutOf(id)).status).toBe("succeeded");
    // Another connection is not limited by this one's flood.
    expect((await post((await connectionOf("muda")).id, { "content-type": "application/json" }, "not json")).status).toBe(401);
    tap.release(connection.id);
  });
});
