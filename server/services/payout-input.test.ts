// Bad payout input gets a clear answer naming the field and the rule, never a
// 500: ids, amount limits, characters PostgreSQL cannot store, reserved keys,
// phone numbers of the wrong country, and a resubmit that changed something.
// Through the tRPC caller, on a real database with the built-in emulators.
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";

describe.each(testDatabases())("payout input on %s", (kind) => {
  let t: TestDesk;
  let mudaId: string;
  let praxisId: string;
  beforeAll(async () => {
    t = await startTestDesk(kind);
    mudaId = (await t.desk.db.connection.findFirstOrThrow({ where: { provider: "muda" } })).id;
    praxisId = (await t.desk.db.connection.findFirstOrThrow({ where: { provider: "praxis" } })).id;
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => {
    delete process.env.DESK_MAX_PAYOUT_MAJOR;
  });

  const zmw = (extra: Record<string, unknown> = {}) => ({
    id: randomUUID(),
    connectionId: t.pawapayConnectionId,
    amount: "15",
    currency: "ZMW",
    recipientPhone: "260763456789",
    description: "Input test payout",
    ...extra,
  });
  const create = (input: Record<string, unknown>) => t.caller("maker").payouts.create(input as Parameters<ReturnType<TestDesk["caller"]>["payouts"]["create"]>[0]);

  it("refuses ids that are not UUIDs at the router, on every id field", async () => {
    expect(await refusal(create(zmw({ connectionId: "pawapay" })))).toMatchObject({ code: "BAD_REQUEST", connectionId: expect.stringMatching(/^Choose a connection/) });
    expect(await refusal(t.caller("viewer").payouts.list({ connectionId: "1 OR 1=1" }))).toMatchObject({ code: "BAD_REQUEST", connectionId: expect.any(String) });
    expect(await refusal(t.caller("viewer").payouts.byId({ id: "abc" }))).toMatchObject({ code: "BAD_REQUEST", id: expect.any(String) });
    expect(await refusal(t.caller("approver").approvals.approve({ payoutId: "abc" }))).toMatchObject({ code: "BAD_REQUEST", payoutId: expect.any(String) });
    expect(await refusal(t.caller("viewer").balances.history({ connectionId: "x", currency: "ZMW" }))).toMatchObject({ code: "BAD_REQUEST", connectionId: expect.any(String) });
    // A search that only looks like an id is not cast to one.
    expect(await t.caller("viewer").payouts.list({ search: "-".repeat(36) })).toMatchObject({ items: [] });
    // A forged page link is refused, not cast.
    const forged = Buffer.from(`2026-01-01T00:00:00.000Z|${"-".repeat(36)}`).toString("base64url");
    expect(await refusal(t.caller("viewer").payouts.list({ cursor: forged }))).toMatchObject({ code: "BAD_REQUEST", cursor: expect.any(String) });
    expect(await refusal(t.caller("viewer").payouts.list({ createdFrom: "0000-01-01" }))).toMatchObject({ createdFrom: "Use a date from 1970-01-01 to 9999-12-30" });
    expect(await refusal(t.caller("viewer").payouts.list({ createdFrom: "2026-02-31" }))).toMatchObject({ createdFrom: "Use a date like 2026-11-21" });
  });

  it("refuses amounts over the provider's published maximum, naming the limit and the amount", async () => {
    const before = await t.desk.db.payout.count();
    expect(await refusal(create({ ...zmw(), connectionId: mudaId, currency: "UGX", recipientPhone: "256772123456", amount: "5000000" }))).toMatchObject({
      code: "BAD_REQUEST",
      amount: "At most 2,000,000 UGX per payout on Muda sandbox; this is 5,000,000 UGX",
    });
    // The maximum itself is allowed.
    await create({ ...zmw(), connectionId: mudaId, currency: "UGX", recipientPhone: "256772123456", amount: "2,000,000" });
    expect(await t.desk.db.payout.count()).toBe(before + 1);
  });

  it("refuses amounts over the desk's default where the provider publishes none, and DESK_MAX_PAYOUT_MAJOR moves it", async () => {
    expect(await refusal(create(zmw({ amount: "10000000.01" })))).toMatchObject({
      amount: "At most 10,000,000.00 ZMW per payout on pawaPay sandbox (the desk's limit); this is 10,000,000.01 ZMW",
    });
    // int8's maximum was once accepted as a 92-quadrillion payout.
    expect(await refusal(create(zmw({ amount: "92233720368547758.07" })))).toMatchObject({
      amount: "At most 10,000,000.00 ZMW per payout on pawaPay sandbox (the desk's limit); this is 92,233,720,368,547,758.07 ZMW",
    });
    // Beyond int8 it cannot even be recorded.
    expect(await refusal(create(zmw({ amount: "9999999999999999999" })))).toMatchObject({
      amount: expect.stringMatching(/^9999999999999999999 ZMW is more than any amount the desk can record/),
    });
    process.env.DESK_MAX_PAYOUT_MAJOR = "1000";
    expect(await refusal(create({ ...zmw(), connectionId: praxisId, currency: "USD", recipientPhone: "12015550100", amount: "1000.01", recipientDetails: { email: "a@b.co" } }))).toMatchObject({
      amount: "At most 1,000.00 USD per payout on Praxis sandbox (the desk's limit); this is 1,000.01 USD",
    });
    expect(await refusal(create(zmw({ amount: "1500" })))).toMatchObject({ amount: expect.stringMatching(/^At most 1,000.00 ZMW per payout/) });
  });

  it("refuses NUL bytes and lone surrogates with the field named, and drops them from a search", async () => {
    const before = await t.desk.db.payout.count();
    const cannot = "Contains a character that cannot be stored (a NUL byte or a broken Unicode character); remove it";
    expect(await refusal(create(zmw({ recipientName: "Ada\u0000Lovelace" })))).toEqual({ code: "BAD_REQUEST", recipientName: cannot });
    expect(await refusal(create(zmw({ description: "Payout \uD800" })))).toEqual({ code: "BAD_REQUEST", description: cannot });
    expect(await refusal(create(zmw({ recipientDetails: { email: "a\uDC00@b.co" } })))).toEqual({ code: "BAD_REQUEST", "recipientDetails.email": cannot });
    expect(await refusal(t.caller("approver").approvals.reject({ payoutId: randomUUID(), reason: "no\u0000pe" }))).toEqual({ code: "BAD_REQUEST", reason: cannot });
    expect(
      await refusal(
        t.caller("admin").connections.create({ provider: "pawapay", name: "x\u0000y", environment: "sandbox", baseUrl: "sandbox://pawapay", credentials: { apiToken: "t\uD800" } }),
      ),
    ).toEqual({ code: "BAD_REQUEST", name: cannot, "credentials.apiToken": cannot });
    expect(await t.desk.db.payout.count()).toBe(before);

    const payout = await create(zmw({ recipientPhone: "260763456119" }));
    const found = await t.caller("viewer").payouts.list({ search: "26076345\u00006119\uD800" });
    expect(found.items.map((p) => p.id)).toContain(payout.id);
  });

  it("refuses recipientDetails keys named like Object's own properties as unknown fields, with a reply that still serialises", async () => {
    // Names Object.prototype has are ordinary unknown keys to the service (a Map, own keys only)…
    for (const key of ["toString", "hasOwnProperty", "valueOf", "isPrototypeOf"]) {
      expect(await refusal(create({ ...zmw(), connectionId: praxisId, currency: "USD", recipientPhone: "12015550100", recipientDetails: { email: "a@b.co", [key]: "x" } })), key).toEqual({
        code: "BAD_REQUEST",
        [`recipientDetails.${key}`]: `"${key}" is not a field this connection takes`,
      });
    }
    // …and the names superjson refuses to serialise are refused before any router sees them.
    expect(await refusal(create({ ...zmw(), connectionId: praxisId, currency: "USD", recipientPhone: "12015550100", recipientDetails: { email: "a@b.co", constructor: "x" } }))).toEqual({
      code: "BAD_REQUEST",
      "recipientDetails.constructor": '"constructor" is not a field this form takes',
    });
    const proto = JSON.parse('{"email":"a@b.co","__proto__":"x"}');
    expect(await refusal(create({ ...zmw(), connectionId: praxisId, currency: "USD", recipientPhone: "12015550100", recipientDetails: proto }))).toEqual({
      code: "BAD_REQUEST",
      "recipientDetails.__proto__": '"__proto__" is not a field this form takes',
    });
  });

  it("names the real phone problem, and a number of the wrong country on the phone field only", async () => {
    expect(await refusal(create(zmw({ recipientPhone: "12345" })))).toMatchObject({ recipientPhone: expect.stringMatching(/^Too short/) });
    expect(await refusal(create(zmw({ recipientPhone: "+1 555 123 4500" })))).toMatchObject({ recipientPhone: expect.stringMatching(/^Country code \+1 is right/) });
    const ugandan = await refusal(create(zmw({ recipientPhone: "256772123456" })));
    expect(ugandan).toEqual({ code: "BAD_REQUEST", recipientPhone: "This is a Ugandan number; pawaPay sandbox pays ZMW to Zambian numbers" });
    expect(await refusal(create(zmw({ recipientPhone: "256772123456", channel: "AIRTEL_OAPI_ZMB" })))).toEqual({
      code: "BAD_REQUEST",
      recipientPhone: "This is a Ugandan number; Airtel Money (Zambia) pays to Zambian numbers",
    });
  });

  it("answers a resubmit of the same payout id with 409 naming every changed field, and an identical one with the payout", async () => {
    const first = zmw({ recipientName: "Ada", channel: "MTN_MOMO_ZMB" });
    const created = await create(first);
    expect(await create({ ...first, recipientName: " Ada ", description: " Input test payout " })).toEqual(created);

    const changes: Array<[Record<string, unknown>, string]> = [
      [{ description: "Another payout" }, "description"],
      [{ recipientName: "Grace" }, "recipient name"],
      [{ channel: null }, "network"],
      [{ amount: "16" }, "amount"],
      [{ recipientPhone: "260763456079" }, "recipient phone"],
      [{ recipientDetails: { note: "x" } }, "recipient details"],
      [{ connectionId: mudaId }, "connection"],
    ];
    for (const [change, named] of changes) {
      const error = await create({ ...first, ...change }).catch((e: { code: string; message: string }) => e);
      expect(error, named).toMatchObject({ code: "CONFLICT", message: `This payout id is already used by a payout with a different ${named}; reload the form to make a new payout` });
    }
    const both = await create({ ...first, description: "Another payout", recipientName: "Grace", amount: "20" }).catch((e: Error) => e);
    expect((both as Error).message).toBe("This payout id is already used by a payout with a different amount, recipient name and description; reload the form to make a new payout");
  });

  it("says how long an over-long description was", async () => {
    expect(await refusal(create(zmw({ description: "x".repeat(10_000) })))).toEqual({ code: "BAD_REQUEST", description: "200 characters at most; this has 10,000" });
  });
});
