// A property-based fuzz of every tRPC procedure's input: whatever arrives,
// the answer is a refusal naming the field, a not-found, a conflict or a
// result, never INTERNAL_SERVER_ERROR. The procedures are walked from the
// router at run time (a router added tomorrow is fuzzed too), each called
// through createCaller by a role allowed to call it, against a real database
// and the test desk's built-in provider emulators. Every answer is also put
// through the error formatter and superjson, as the HTTP endpoint would, so a
// reply that cannot be serialised counts as a 500 as well.
//
// Inputs mix values the desk's field names take (real ids, amounts, phone
// numbers) with the adversarial ones a fuzz of the desk found: non-UUID ids,
// amounts beyond int8, NUL bytes and lone surrogates, __proto__ and
// constructor keys, deep and odd shapes, wrong types, FormData.
//
// Seeded and bounded (FUZZ_RUNS per procedure, FUZZ_SEED), so a failure is
// reproducible and the run stays near a minute on a busy 2-core machine.
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TRPCError } from "@trpc/server";
import { getErrorShape } from "@trpc/server/unstable-core-do-not-import";
import { PAYOUT_STATUSES } from "@/server/domain/payout-state";
import { testDatabases } from "@/server/db/testing";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { callProcedure, inputKeys, likelyValues, listProcedures, validInput, type Fixtures, type ProcedureInfo } from "@/server/testing/procedures";
import { appRouter } from "./router";

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
// Runs per procedure grow with its fields, so a wide input gets each field aimed at.
// PostgreSQL runs fewer: it is the same code over a second database, and the minute is shared.
const RUNS = {
  pglite: (fields: number) => Number(process.env.FUZZ_RUNS ?? 50 + 12 * fields),
  postgres: (fields: number) => Number(process.env.FUZZ_RUNS ?? 20 + 4 * fields),
};

/** An own property named `key`, even "__proto__" (an object literal would set the prototype instead). */
function withKey(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out = { ...base };
  Object.defineProperty(out, key, { value, enumerable: true, configurable: true, writable: true });
  return out;
}

function nested(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

const MEGABYTE = "x".repeat(1_000_000);

/** Text with NUL bytes and lone surrogates among ordinary code points. */
const hostileText = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.constantFrom("\u0000", "\uD800", "\uDBFF", "\uDC00", "\uDFFF") },
  ),
  maxLength: 40,
});

/** Text that PostgreSQL cannot store as it is: a NUL or a lone surrogate somewhere in it. */
const unstorableText = fc
  .tuple(hostileText, fc.constantFrom("\u0000", "\uD800", "\uDBFF", "\uDC00", "\uDFFF"), hostileText)
  .map(([before, bad, after]) => `${before}${bad}${after}`);

const nastyStrings = fc.constantFrom(
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\uD800",
  "x\uDC00y",
  "\uD83D\uDE00",
  "'; DROP TABLE \"Payout\";--",
  "%00",
  "null",
  "NaN",
  "-1",
  "1e309",
  "9".repeat(40),
  "x".repeat(10_000),
  "<script>alert(1)</script>",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "------------------------------------",
  "0000-01-01",
  "9999-12-31",
  "2026-02-31",
  "__proto__",
  "constructor",
);

const oddNumbers = fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, -1, 1.5, 2 ** 53 + 1, 1e308, Number.MIN_VALUE, 366, 201);

/** Anything at all, of any type. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyStrings },
  { weight: 2, arbitrary: hostileText },
  { weight: 2, arbitrary: unstorableText },
  { weight: 2, arbitrary: oddNumbers },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.bigInt() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: false }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 80 }).map(nested) },
  { weight: 1, arbitrary: fc.constant(MEGABYTE) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(new Map([["a", 1]]), new Set([1]), new Uint8Array(4), /x/) },
  { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype").map((k) => withKey({}, k, "x")) },
);

/** Values aimed at one field, by the name the desk gives it. */
function aimedAt(key: string, path: string, fixtures: Fixtures, known: { connectionIds: string[]; payoutIds: string[] }): fc.Arbitrary<unknown> {
  const ids = fc.oneof(
    fc.constantFrom(...known.connectionIds, ...known.payoutIds, "not-a-uuid", "1", "", "00000000-0000-0000-0000-000000000000", "123E4567-E89B-12D3-A456-426614174000"),
    fc.uuid(),
  );
  const likely = likelyValues(key, path, fixtures);
  const aimed: Record<string, fc.Arbitrary<unknown>> = {
    id: ids,
    payoutId: ids,
    connectionId: ids,
    amount: fc.constantFrom("15", "1,250.50", "0.001", "0", "-5", "1e3", "2000001", "5000000", "10000001", "9999999999999999999", "92233720368547758.07", "92233720368547758.08", "1".repeat(30), " 15 "),
    currency: fc.constantFrom("ZMW", "UGX", "USD", "USDT", "KWD", "zmw", "XXX", "EUR", "ZZZ", "€€€", ""),
    recipientPhone: fc.constantFrom("260763456789", "256772123456", "12345", "+1 555 123 4500", "0763456789", "260211234567", "1".repeat(32), "+", ""),
    recipientAccount: fc.constantFrom("1234567890", "GB82WEST12345698765432", "12", "abc-def", ""),
    recipientDetails: fc.oneof(
      fc.dictionary(fc.constantFrom("ifsc", "bankCode", "email", "amount", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf"), fc.oneof(hostileText, fc.constantFrom("SBIN0001234", "a@b.co", ""))),
      fc.constantFrom("__proto__", "constructor", "prototype").map((k) => withKey({ ifsc: "SBIN0001234" }, k, "x")),
      fc.constant(JSON.parse('{"__proto__":{"polluted":"yes"},"email":"a@b.co"}')),
    ),
    channel: fc.constantFrom("MTN_MOMO_ZMB", "AIRTEL_OAPI_ZMB", "MTN_MOMO_UGA", "NOPE", ""),
    status: fc.array(fc.oneof(fc.constantFrom(...PAYOUT_STATUSES), nastyStrings), { maxLength: 4 }),
    cursor: fc.oneof(
      fc.base64String({ maxLength: 60 }),
      fc.constantFrom(
        Buffer.from(`2026-01-01T00:00:00.000Z|${"-".repeat(36)}`).toString("base64url"),
        Buffer.from("0000-01-01T00:00:00.000Z|00000000-0000-0000-0000-000000000000").toString("base64url"),
        Buffer.from("+275760-09-13T00:00:00.000Z|00000000-0000-0000-0000-000000000000").toString("base64url"),
        Buffer.from(`2026-01-01T00:00:00.000Z|${randomUUID()}`).toString("base64url"),
      ),
    ),
    createdFrom: fc.constantFrom("2026-01-01", "0000-01-01", "9999-12-31", "2026-02-31", "2026-13-01", "20260101"),
    createdTo: fc.constantFrom("2026-01-01", "0000-01-01", "9999-12-31", "2026-02-31", "1969-12-31"),
    baseUrl: fc.constantFrom("sandbox://pawapay", "sandbox://nope", "http://127.0.0.1:1", "ftp://x", "javascript:alert(1)", "http://[::1", "https://"),
    credentials: fc.oneof(
      fc.dictionary(fc.constantFrom("apiToken", "signingKeyPem", "correspondents", "requireSignedCallbacks", "toString", "x"), fc.oneof(hostileText, fc.constantFrom("tok", "[{\"code\":1}]", "[", "-----BEGIN PRIVATE KEY-----\nxx"))),
      fc.constantFrom("__proto__", "constructor").map((k) => withKey({ apiToken: "tok" }, k, "x")),
    ),
    provider: fc.constantFrom("pawapay", "muda", "paytota", "praxis", "pontis", "stripe", ""),
    environment: fc.constantFrom("sandbox", "live", "prod", ""),
    days: fc.oneof(fc.integer({ min: -5, max: 400 }), oddNumbers),
    limit: fc.oneof(fc.integer({ min: -5, max: 300 }), oddNumbers),
    version: fc.constantFrom("2026-01-01T00:00:00.000Z", "x", ""),
  };
  return fc.oneof(
    { weight: 3, arbitrary: likely.length ? fc.constantFrom(...likely) : anyValue },
    { weight: 4, arbitrary: aimed[key] ?? fc.oneof(hostileText, unstorableText, nastyStrings) },
    { weight: 2, arbitrary: anyValue },
  );
}

/**
 * Inputs for one procedure. Mostly a valid input with one or two fields
 * replaced (so a bad value reaches the service and the database, not just
 * the schema), a fresh payout id half the time; also every field drawn at
 * once, and sometimes anything at all, FormData included.
 */
function inputsFor(procedure: ProcedureInfo, fixtures: Fixtures, known: { connectionIds: string[]; payoutIds: string[] }): fc.Arbitrary<unknown> {
  const keys = inputKeys(procedure.schema);
  if (keys.length === 0) return fc.oneof({ weight: 4, arbitrary: anyValue }, { weight: 1, arbitrary: fc.constant(undefined) });
  const valid = validInput(procedure.path, procedure.schema, fixtures);
  const base = valid.ok && valid.value && typeof valid.value === "object" ? (valid.value as Record<string, unknown>) : {};
  const extraKey = fc.option(fc.tuple(fc.constantFrom("__proto__", "constructor", "toString", "extra", "a\u0000b"), anyValue), { freq: 5 });
  const oneOrTwoReplaced = fc
    .tuple(fc.subarray(keys, { minLength: 1, maxLength: Math.min(2, keys.length) }), fc.uuid({ version: 4 }), fc.boolean(), extraKey)
    .chain(([replaced, freshId, fresh, extra]) =>
      fc.tuple(...replaced.map((k) => aimedAt(k, procedure.path, fixtures, known))).map((values) => {
        let input: Record<string, unknown> = { ...base };
        // A new payout id, or a new connection name: otherwise every create after the first is a duplicate.
        if (fresh && "id" in base) input.id = freshId;
        if (fresh && typeof base.name === "string") input.name = `${base.name} ${freshId.slice(0, 8)}`;
        replaced.forEach((k, i) => {
          if (values[i] === undefined) delete input[k];
          else input[k] = values[i];
        });
        if (extra) input = withKey(input, extra[0], extra[1]);
        return input as unknown;
      }),
    );
  const allDrawn = fc
    .tuple(fc.tuple(...keys.map((k) => fc.option(aimedAt(k, procedure.path, fixtures, known), { nil: undefined, freq: 6 }))), extraKey)
    .map(([values, extra]) => {
      let input: Record<string, unknown> = {};
      keys.forEach((k, i) => {
        if (values[i] !== undefined) input[k] = values[i];
      });
      if (extra) input = withKey(input, extra[0], extra[1]);
      return input as unknown;
    });
  return fc.oneof(
    { weight: 10, arbitrary: oneOrTwoReplaced },
    { weight: 4, arbitrary: allDrawn },
    { weight: 1, arbitrary: anyValue },
    { weight: 1, arbitrary: fc.constant(new FormData()) },
  );
}

/**
 * The cases a fuzz of the desk found, tried on every procedure every run
 * (fast-check runs examples first): each field in turn given a NUL, a lone
 * surrogate, a number and a non-UUID, under a fresh payout id; reserved keys;
 * huge amounts; FormData, a deep shape and nothing at all.
 */
function knownCases(procedure: ProcedureInfo, fixtures: Fixtures): unknown[] {
  const keys = inputKeys(procedure.schema);
  const valid = validInput(procedure.path, procedure.schema, fixtures);
  const base = valid.ok && valid.value && typeof valid.value === "object" ? (valid.value as Record<string, unknown>) : {};
  const fresh = () => ({ ...base, ...("id" in base ? { id: randomUUID() } : {}), ...(typeof base.name === "string" ? { name: `${base.name} ${randomUUID().slice(0, 8)}` } : {}) });
  const cases: unknown[] = [undefined, new FormData(), nested(60), "\u0000"];
  for (const key of keys) {
    for (const value of ["a\u0000b", "x\uD800y", "\uDFFF", 42, "not-a-uuid", MEGABYTE]) cases.push({ ...fresh(), [key]: value });
  }
  if (keys.length > 0) {
    for (const reserved of ["__proto__", "constructor", "prototype", "toString"]) cases.push(withKey(fresh(), reserved, "x"));
  }
  if (keys.includes("amount")) for (const amount of ["9999999999999999999", "92233720368547758.07", "5000000"]) cases.push({ ...fresh(), amount });
  if (keys.includes("recipientDetails")) {
    for (const reserved of ["__proto__", "constructor", "toString", "hasOwnProperty"]) cases.push({ ...fresh(), recipientDetails: withKey({}, reserved, "x") });
  }
  return cases;
}

interface Failure {
  path: string;
  input: string;
  message: string;
}

function describeInput(input: unknown): string {
  try {
    const text = JSON.stringify(input, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)) ?? String(input);
    return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
  } catch {
    return Object.prototype.toString.call(input);
  }
}

describe.each(testDatabases())("tRPC input fuzz on %s", (kind) => {
  let t: TestDesk;
  let fixtures: Fixtures;
  const known = { connectionIds: [] as string[], payoutIds: [] as string[] };

  beforeAll(async () => {
    t = await startTestDesk(kind);
    const payout = { id: await t.pawapayPayout({ amount: "15", description: "Fuzz fixture payout", approve: false }) };
    fixtures = { connectionId: t.pawapayConnectionId, payoutId: payout.id };
    known.connectionIds = (await t.desk.db.connection.findMany({ select: { id: true } })).map((c) => c.id);
    known.payoutIds = [payout.id];
  });
  afterAll(async () => {
    await t?.close();
  });

  it("answers no input with INTERNAL_SERVER_ERROR, and logs refusals in bounded size", { timeout: 300_000 }, async () => {
    // Refusals are logged (bounded): collect the lines instead of printing thousands of them.
    const logged: string[] = [];
    const keep = (...args: unknown[]) => void logged.push(args.map(String).join(" "));
    const warn = vi.spyOn(console, "warn").mockImplementation(keep);
    const error = vi.spyOn(console, "error").mockImplementation(keep);
    const failures: Failure[] = [];
    const perProcedure: string[] = [];
    const answers = new Map<string, number>();
    const count = (answer: string) => answers.set(answer, (answers.get(answer) ?? 0) + 1);
    const byProcedure = new Map<string, Map<string, number>>();
    const countFor = (path: string, answer: string) => {
      const m = byProcedure.get(path) ?? new Map<string, number>();
      m.set(answer, (m.get(answer) ?? 0) + 1);
      byProcedure.set(path, m);
    };
    let calls = 0;
    try {
      for (const procedure of listProcedures()) {
        if (procedure.type === "subscription") continue;
        const roles = procedure.roles === "public" ? (["viewer"] as const) : procedure.roles;
        let made = 0;
        const examples = knownCases(procedure, fixtures).map((input) => [roles[0]!, input] as [(typeof roles)[number], unknown]);
        await fc.assert(
          fc.asyncProperty(fc.constantFrom(...roles), inputsFor(procedure, fixtures, known), async (role, input) => {
            made++;
            calls++;
            let shape: unknown;
            try {
              const result = await callProcedure(t.caller(role), procedure.path, input);
              count("ok");
              countFor(procedure.path, "ok");
              shape = { result };
            } catch (caught) {
              const trpcError = caught instanceof TRPCError ? caught : new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: caught });
              count(trpcError.code);
              countFor(procedure.path, trpcError.code);
              if (trpcError.code === "INTERNAL_SERVER_ERROR") {
                failures.push({ path: procedure.path, input: describeInput(input), message: String((trpcError.cause as Error | undefined)?.message ?? trpcError.message).slice(0, 300) });
                return;
              }
              // What the HTTP endpoint would send: the formatted error shape.
              shape = getErrorShape({ config: appRouter._def._config, error: trpcError, type: procedure.type, path: procedure.path, input, ctx: undefined });
            }
            try {
              superjson.serialize(shape);
            } catch (caught) {
              failures.push({ path: procedure.path, input: describeInput(input), message: `reply cannot be serialised: ${(caught as Error).message}` });
            }
          }),
          {
            seed: SEED,
            // Examples count towards numRuns: the random part keeps its own share.
            numRuns: examples.length + RUNS[kind](inputKeys(procedure.schema).length),
            endOnFailure: true,
            examples,
          },
        );
        perProcedure.push(`${procedure.path}: ${made}`);
      }
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }
    const fiveHundreds = failures.length;
    console.log(
      `tRPC fuzz (${kind}, seed ${SEED}): ${calls} calls over ${perProcedure.length} procedures, ${fiveHundreds} answered 500; ` +
        `${logged.length} log lines, the longest ${Math.max(0, ...logged.map((l) => l.length))} characters\n` +
        `  answers: ${[...answers].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`).join(", ")}` +
        (process.env.FUZZ_VERBOSE ? [...byProcedure].map(([p, m]) => `\n  ${p}: ${[...m].map(([c, n]) => `${c} ${n}`).join(", ")}`).join("") : ""),
    );
    const byPath = [...new Set(failures.map((f) => f.path))].map((path) => `${path}: ${failures.filter((f) => f.path === path).length}`);
    expect(failures.slice(0, 10), `${fiveHundreds} calls answered 500 (${byPath.join(", ")})`).toEqual([]);
    expect(calls).toBeGreaterThan(perProcedure.length * 10);
    // A megabyte of bad input was sent: no log line may carry it (each is capped near 2 KB, 4 KB for a 500).
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(line.length).toBeLessThan(4_300);
  });
});
