// The webhook forgery matrix (issue 6, section 7). For each provider, what an
// attacker or a broken network can post to the desk's webhook route:
// unsigned, badly signed, tampered, stale, replayed (a refused one resent
// identically, a valid one again), oversized, garbage, to an unknown
// connection. Posted over real HTTP to the route the desk serves, against a
// payout that is in flight at the desk and already paid at the provider: the
// emulator's genuine, signed callback for it is held back by the test (see
// callback-tap.ts), so every forgery is built from real provider bytes, and a
// forgery that got through would visibly move the payout. None may change
// the payout's status or add to its timeline, and each gets the answer its
// provider's protocol needs: a refusal is non-2xx so the provider retries,
// except Praxis (HTTP 200 with a signed status other than 0, which is what
// makes Praxis resend) and the unsigned-by-design hints (Muda's webhooks,
// pawaPay's unsigned callbacks), answered 200 and confirmed by a status query.
// Last, the genuine callback is delivered and applied exactly once: proof
// that the harness sees an applied callback when there is one.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { eventually, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { approveAsRead } from "@/server/testing/approvals";
import { installCallbackTap, type CallbackTap, type TappedCallback } from "@/server/testing/callback-tap";
import { PROVIDER_CASES } from "@/server/testing/provider-cases";
import type { ProviderKind } from "@/server/connectors/types";
import { callbackSignature, decodeKey } from "@/server/connectors/pontis";
import { parsePraxisObject, verifyPraxis, integerField } from "@/server/connectors/praxis";
import { openCredentials } from "./connections";
import { MAX_CALLBACK_BYTES } from "./callbacks";

type Sent = { headers: Record<string, string>; body: string };
/** What the desk must answer: refused (the provider resends), hint (taken, never applied), taken (applied or a duplicate). */
type Answer = "refused" | "hint" | "taken";

interface ProviderForgeries {
  provider: ProviderKind;
  /** Whether a tapped callback is the genuine one for this payout. */
  isFor(callback: TappedCallback, payout: { id: string; providerReference: string | null }): boolean;
  unsigned(genuine: Sent): Sent;
  badSignature(genuine: Sent): Sent;
  /** The genuine signature over a body that now says the payout failed. */
  tampered(genuine: Sent): Sent;
  /** How each of those is answered (the signed ones: refused; hints by design: hint). */
  answers: { unsigned: Answer; badSignature: Answer; tampered: Answer };
  /** Whether the provider's callbacks carry a time window the desk enforces (why not, if not). */
  stale: true | string;
}

/** Replaces `from` by `to` once, failing loudly if the genuine callback no longer reads as expected. */
function swap(text: string, from: string | RegExp, to: string): string {
  const changed = text.replace(from, to);
  if (changed === text) throw new Error(`The genuine callback no longer contains ${String(from)}`);
  return changed;
}
const without = (headers: Record<string, string>, ...names: string[]) => Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k)));

const FORGERIES: ProviderForgeries[] = [
  {
    provider: "pawapay",
    isFor: (c, p) => c.body.includes(p.id),
    // pawaPay signs callbacks only on accounts that enabled it: an unsigned one is a hint by design (2xx, then a status query).
    unsigned: (g) => ({ headers: without(g.headers, "signature", "signature-input", "content-digest", "signature-date"), body: g.body }),
    badSignature: (g) => ({ headers: { ...g.headers, signature: `sig-pp=:${Buffer.alloc(64, 7).toString("base64")}:` }, body: g.body }),
    tampered: (g) => ({ headers: g.headers, body: swap(g.body, '"status":"COMPLETED"', '"status":"FAILED"') }),
    answers: { unsigned: "hint", badSignature: "refused", tampered: "refused" },
    stale: true,
  },
  {
    provider: "muda",
    isFor: (c, p) => c.body.includes(p.id),
    // Muda documents no webhook signature: every webhook is a hint, answered 200 and confirmed by a status query.
    // "Bad signature" and "tampered" are the same unsigned hint with other words in it; none may be applied.
    unsigned: (g) => g,
    badSignature: (g) => ({ headers: { ...g.headers, "x-signature": "forged" }, body: g.body }),
    tampered: (g) => ({ headers: g.headers, body: swap(g.body, '"status":"SUCCESS"', '"status":"FAILED"') }),
    answers: { unsigned: "hint", badSignature: "hint", tampered: "hint" },
    stale: "Muda's webhooks are unsigned hints: there is no signed time to be stale",
  },
  {
    provider: "paytota",
    isFor: (c, p) => c.body.includes(p.id),
    unsigned: (g) => ({ headers: without(g.headers, "x-signature"), body: g.body }),
    badSignature: (g) => ({ headers: { ...g.headers, "x-signature": randomBytes(256).toString("base64") }, body: g.body }),
    tampered: (g) => ({ headers: g.headers, body: swap(g.body, /"status":\s*"success"/, '"status":"error"') }),
    answers: { unsigned: "refused", badSignature: "refused", tampered: "refused" },
    stale: "Paytota documents no timestamp in its callbacks; a replay verifies and is de-duplicated instead",
  },
  {
    provider: "pontis",
    isFor: (c, p) => p.providerReference !== null && c.body.includes(p.providerReference),
    unsigned: (g) => ({ headers: without(g.headers, "x-pontis-signature", "x-pontis-timestamp"), body: g.body }),
    badSignature: (g) => ({ headers: { ...g.headers, "x-pontis-signature": `sha256=${"0".repeat(64)}` }, body: g.body }),
    tampered: (g) => ({ headers: g.headers, body: swap(g.body, '"status":"completed"', '"status":"failed"') }),
    answers: { unsigned: "refused", badSignature: "refused", tampered: "refused" },
    stale: true,
  },
  {
    provider: "praxis",
    isFor: (c, p) => c.body.includes(p.id),
    unsigned: (g) => ({ headers: g.headers, body: swap(g.body, /,"signature":"[0-9a-f]+"/, "") }),
    badSignature: (g) => ({ headers: g.headers, body: swap(g.body, /"signature":"[0-9a-f]+"/, `"signature":"${"0".repeat(96)}"`) }),
    tampered: (g) => ({ headers: g.headers, body: swap(g.body, '"transaction_status":"approved"', '"transaction_status":"declined"') }),
    answers: { unsigned: "refused", badSignature: "refused", tampered: "refused" },
    stale: true,
  },
];

let tap: CallbackTap;
beforeAll(() => {
  tap = installCallbackTap();
});
afterAll(() => {
  tap.uninstall();
});

/** Figures for the report: per database, provider and case, how many were tried and how many got applied. */
const figures: Array<{ database: string; provider: string; case: string; tried: number; applied: number; http: string }> = [];
afterAll(() => {
  const isControl = (f: (typeof figures)[number]) => f.case === "genuine (control)";
  const sum = (rows: typeof figures, key: "tried" | "applied") => rows.reduce((n, f) => n + f[key], 0);
  const forged = figures.filter((f) => !isControl(f));
  const controls = figures.filter(isControl);
  console.log(
    `webhook forgery matrix: ${sum(forged, "tried")} forged or replayed callbacks tried, ${sum(forged, "applied")} applied; ` +
      `${sum(controls, "tried")} genuine callbacks delivered, ${sum(controls, "applied")} applied by callback (Muda's are hints, settled by a status query)`,
  );
  console.table(figures);
});

describe.each(testDatabases())("webhook forgery matrix on %s", (kind) => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function post(connectionId: string, sent: Sent | { headers: Record<string, string>; body: BodyInit }, init: RequestInit = {}) {
    const response = await tap.realFetch(`${t.url}/api/webhooks/${connectionId}`, { method: "POST", headers: sent.headers, body: sent.body, ...init });
    const text = await response.text();
    return { status: response.status, text, retryAfter: response.headers.get("retry-after") };
  }

  it.each(FORGERIES)("$provider: no forgery is applied, every refusal is answered so the provider retries", async (forgeries) => {
    const { provider } = forgeries;
    const connection = await t.desk.db.connection.findFirstOrThrow({ where: { provider } });
    const credentials = openCredentials(t.desk, connection);
    tap.hold(connection.id);

    // A payout the provider pays, whose genuine callback the tap keeps from the desk.
    const fields = PROVIDER_CASES.find((c) => c.provider === provider)!.success;
    const created = await t.caller("maker").payouts.create({ id: randomUUID(), connectionId: connection.id, ...fields });
    await approveAsRead(t.caller("approver"), created.id);
    await t.work.run({ payoutId: created.id, max: 1 }); // sends it, nothing more
    const sentPayout = await t.desk.db.payout.findUniqueOrThrow({ where: { id: created.id } });
    const tapped = await eventually(async () => tap.seen.find((c) => c.connectionId === connection.id && forgeries.isFor(c, sentPayout)), 20_000);
    const genuine: Sent = { headers: tapped.headers, body: tapped.body };

    const snapshot = async () => {
      const payout = await t.desk.db.payout.findUniqueOrThrow({ where: { id: created.id } });
      const events = await t.desk.db.payoutEvent.findMany({ where: { payoutId: created.id }, orderBy: [{ at: "asc" }, { id: "asc" }] });
      return { status: payout.status, events: events.length, sources: events.map((e) => e.source) };
    };
    const before = await snapshot();
    expect(before.status).toBe("processing");
    const startedAt = new Date();

    /** Posts one forgery `tries` times; checks each answer and that the payout did not move. */
    async function attempt(name: string, sent: Sent | { headers: Record<string, string>; body: BodyInit }, expected: Answer | number, options: { tries?: number; to?: string; init?: RequestInit } = {}) {
      const tries = options.tries ?? 1;
      const answers: number[] = [];
      let applied = 0;
      for (let i = 0; i < tries; i++) {
        const reply = await post(options.to ?? connection.id, sent, options.init);
        answers.push(reply.status);
        checkAnswer(reply, expected, `${provider} ${name}`);
        const now = await snapshot();
        if (now.status !== before.status || now.events !== before.events) applied++;
      }
      figures.push({ database: kind, provider, case: name, tried: tries, applied, http: [...new Set(answers)].join("/") });
      expect(applied, `${provider} ${name} changed the payout`).toBe(0);
    }

    function checkAnswer(reply: { status: number; text: string }, expected: Answer | number, label: string) {
      if (typeof expected === "number") return expect(reply.status, label).toBe(expected);
      if (provider === "praxis" && expected !== "hint") {
        // Praxis's protocol: always HTTP 200 with a signed reply; only status 0 stops its resends.
        expect(reply.status, label).toBe(200);
        const fields = parsePraxisObject(reply.text);
        expect(fields && verifyPraxis(fields, credentials.merchantSecret!), `${label}: the reply is signed`).toBe(true);
        expect(integerField(fields!, "status"), label).toBe(expected === "taken" ? 0n : 1n);
        return;
      }
      // The desk's refusal: 401, so the provider sends it again (never a 500, never a 2xx).
      if (expected === "refused") return expect(reply.status, label).toBe(401);
      expect(reply.status, label).toBe(200);
      if (expected === "hint") expect(reply.text, label).toMatch(/confirmed with the provider/);
    }

    // Forgeries.
    await attempt("unsigned", forgeries.unsigned(genuine), forgeries.answers.unsigned);
    const badlySigned = forgeries.badSignature(genuine);
    await attempt("bad signature", badlySigned, forgeries.answers.badSignature);
    await attempt("tampered body", forgeries.tampered(genuine), forgeries.answers.tampered);
    // The same refused callback again: refused again (never "duplicate, stop retrying"), and kept each time.
    await attempt("replayed refused (identical resend)", badlySigned, forgeries.answers.badSignature, { tries: 3 });
    const sameBody = await t.desk.db.callbackReceipt.findMany({ where: { connectionId: connection.id, body: badlySigned.body, receivedAt: { gte: startedAt } } });
    const sameRequest = sameBody.filter((r) => Object.entries(badlySigned.headers).every(([k, v]) => (r.headers as Record<string, string>)[k] === v));
    expect(sameRequest.map((r) => r.verified)).toEqual([false, false, false, false]);
    if (forgeries.stale === true) {
      // The genuine callback, delivered 15 minutes after it was signed: past every provider's window (pawaPay's
      // signature expires after 300 s + 60 s of skew, PontisGlobe allows 300 s, Praxis 600 s by default).
      const saved = t.desk.connectorDeps;
      t.desk.connectorDeps = { ...saved, now: () => new Date(Date.now() + 15 * 60_000) };
      try {
        await attempt("stale", genuine, "refused", { tries: 2 });
      } finally {
        t.desk.connectorDeps = saved;
      }
    } else {
      figures.push({ database: kind, provider, case: `stale: n/a (${forgeries.stale})`, tried: 0, applied: 0, http: "" });
    }
    const oversized = JSON.stringify({ padding: "x".repeat(MAX_CALLBACK_BYTES), status: "COMPLETED" });
    await attempt("oversized", { headers: genuine.headers, body: oversized }, 413);
    // Without a declared length (chunked): the desk stops reading at the cap.
    const stream = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode("y".repeat(64 * 1024)));
          controller.close();
        },
      });
    await attempt("oversized, chunked", { headers: genuine.headers, body: stream() }, 413, { init: { duplex: "half" } as RequestInit });
    // A NUL byte too: PostgreSQL text refuses it, so a careless store would answer 500.
    await attempt("garbage (not JSON)", { headers: genuine.headers, body: "\u0000<html>502 Bad Gateway</html>\u00ff" }, "refused");
    await attempt("unknown connection", genuine, 404, { to: randomUUID() });
    await attempt("unknown connection (not an id)", genuine, 404, { to: "not-a-connection" });

    // Nothing verified was kept: only refusals and hints.
    const receipts = await t.desk.db.callbackReceipt.findMany({ where: { connectionId: connection.id, receivedAt: { gte: startedAt } } });
    expect(receipts.length).toBeGreaterThan(0);
    expect(receipts.every((r) => !r.verified)).toBe(true);
    const after = await snapshot();
    expect(after).toEqual(before);

    // The genuine callback: applied once (Muda's is a hint, settled by the status query it asks for).
    const delivered = await post(connection.id, genuine);
    if (provider === "muda") {
      checkAnswer(delivered, "hint", "muda genuine");
      expect((await snapshot()).status).toBe("processing");
      await t.work.run({ payoutId: created.id, all: true, max: 1 });
      const settled = await snapshot();
      expect(settled.status).toBe("succeeded");
      expect(settled.sources.at(-1)).toBe("status_query");
    } else {
      checkAnswer(delivered, "taken", `${provider} genuine`);
      const applied = await snapshot();
      expect(applied.status).toBe("succeeded");
      expect(applied.events).toBe(before.events + 1);
      expect(applied.sources.at(-1)).toBe("callback");
    }
    figures.push({ database: kind, provider, case: "genuine (control)", tried: 1, applied: provider === "muda" ? 0 : 1, http: String(delivered.status) });

    // Replays of the valid callback: taken as duplicates (so the provider stops), never applied again.
    const settled = await snapshot();
    const replayAnswer: Answer = provider === "muda" ? "hint" : "taken";
    const replays: Array<[string, Sent]> = [["replayed valid (identical)", genuine]];
    if (provider === "pontis") {
      // The event id is outside the HMAC: a replay with a new one is still the same callback (before: 8 of 8 accepted).
      for (let i = 0; i < 8; i++) replays.push(["replayed valid (new x-pontis-event-id)", { headers: { ...genuine.headers, "x-pontis-event-id": randomUUID() }, body: genuine.body }]);
      // And redelivered by PontisGlobe itself, signed afresh with a new timestamp.
      const timestamp = String(Math.floor(Date.now() / 1000));
      replays.push([
        "replayed valid (re-signed by the provider)",
        { headers: { ...genuine.headers, "x-pontis-timestamp": timestamp, "x-pontis-signature": callbackSignature(timestamp, genuine.body, decodeKey(credentials.hmacKey!, "hmacKey")) }, body: genuine.body },
      ]);
    }
    for (const [name, sent] of replays) {
      const reply = await post(connection.id, sent);
      checkAnswer(reply, replayAnswer, `${provider} ${name}`);
      if (provider !== "muda" && provider !== "praxis") expect(reply.text).toMatch(/Duplicate/);
      const now = await snapshot();
      const applied = now.events !== settled.events || now.status !== settled.status ? 1 : 0;
      figures.push({ database: kind, provider, case: name, tried: 1, applied, http: String(reply.status) });
      expect(now, `${provider} ${name}`).toEqual(settled);
    }
    expect(await t.desk.db.callbackReceipt.count({ where: { connectionId: connection.id, verified: true, receivedAt: { gte: startedAt } } })).toBe(provider === "muda" ? 0 : 1);
  }, 120_000);
});
