// What arrives over HTTP at the tRPC endpoint, through tRPC's own fetch
// adapter (the one app/api/trpc uses): bodies that are not JSON, malformed
// ones, a megabyte of bad input, reserved keys. Each gets a 4xx that names the
// problem, and the log line it leaves is bounded. Also: the message of an
// unexpected error only says "nothing was changed" when that is true.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import superjson from "superjson";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { TRPCError } from "@trpc/server";
import type { Role } from "@/server/auth/roles";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { appRouter } from "./router";
import { createCallerFactory, procedure, router } from "./init";

describe("tRPC over HTTP", () => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function post(path: string, body: BodyInit, headers: Record<string, string> = typeof body === "string" ? { "content-type": "application/json" } : {}, role: Role = "viewer") {
    const req = new Request(`http://desk.test/api/trpc/${path}`, { method: "POST", body, headers });
    const res = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req,
      router: appRouter,
      createContext: () => ({ desk: t.desk, actor: t.users[role], ip: "127.0.0.1" }),
    });
    const text = await res.text();
    const json = JSON.parse(text) as { error?: { json: { message: string; data: { code: string; fieldErrors: Record<string, string> | null } } } };
    return { status: res.status, error: json.error?.json };
  }

  const json = (input: unknown) => JSON.stringify(superjson.serialize(input));
  // superjson itself refuses to serialise a "constructor" key; a hand-made client need not.
  const rawJson = (input: unknown) => JSON.stringify({ json: input });

  it("answers balances.refresh with a multipart body 400, and reads no provider", async () => {
    const calls = await t.desk.db.providerCall.count();
    const form = new FormData();
    form.append("connectionId", t.pawapayConnectionId);
    const multipart = await post("balances.refresh", form);
    expect(multipart.status).toBe(400);
    expect(multipart.error?.data.fieldErrors).toEqual({ input: "Send this as JSON: a form upload (multipart/form-data) is not accepted here" });

    const broken = await post("balances.refresh", "--xx\r\nbroken", { "content-type": "multipart/form-data; boundary=xx" });
    expect(broken.status).toBe(400);
    const malformed = await post("balances.refresh", "{not json", { "content-type": "application/json" });
    expect(malformed.status).toBe(400);
    const notAnId = await post("balances.refresh", json({ connectionId: "pawapay" }), { "content-type": "application/json" });
    expect(notAnId).toMatchObject({ status: 400, error: { message: expect.stringMatching(/^connectionId: Must be a connection id/) } });

    expect(await t.desk.db.providerCall.count()).toBe(calls);
    expect(await t.desk.db.auditLog.count({ where: { action: "balances.refresh" } })).toBe(0);
  });

  it("refuses a megabyte of bad input with a short answer and one bounded log line that gives its size", async () => {
    const lines: string[] = [];
    const warn = vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    try {
      const huge = "\u0000".repeat(1_000_000);
      const answer = await post("payouts.create", json({ id: crypto.randomUUID(), connectionId: t.pawapayConnectionId, amount: "15", currency: "ZMW", description: huge }), undefined, "maker");
      expect(answer.status).toBe(400);
      expect(answer.error?.data.fieldErrors).toEqual({ description: expect.stringMatching(/^Contains a character that cannot be stored/) });
      const long = await post("payouts.create", json({ id: crypto.randomUUID(), connectionId: t.pawapayConnectionId, amount: "15", currency: "ZMW", description: "x".repeat(1_000_000) }), undefined, "maker");
      expect(long.error?.message).toBe("description: 200 characters at most; this has 1,000,000");
    } finally {
      warn.mockRestore();
    }
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.length).toBeLessThan(2_200);
    expect(lines[0]).toMatch(/^\[trpc\] refused payouts\.create \(input 6,000,\d{3} characters\): description: Contains a character/);
    expect(lines[1]).toMatch(/^\[trpc\] refused payouts\.create \(input 1,000,\d{3} characters\): description: 200 characters at most; this has 1,000,000$/);
  });

  it("answers a reserved key with a field error the reply can carry", async () => {
    const answer = await post(
      "payouts.create",
      rawJson({ id: crypto.randomUUID(), connectionId: t.pawapayConnectionId, amount: "15", currency: "ZMW", description: "Reserved key", recipientPhone: "260763456789", recipientDetails: { constructor: "x" } }),
      undefined,
      "maker",
    );
    expect(answer).toMatchObject({ status: 400, error: { data: { fieldErrors: { "recipientDetails.constructor": '"constructor" is not a field this form takes' } } } });
    const top = await post("payouts.list", rawJson({ constructor: 1 }), undefined, "viewer");
    // payouts.list is a query: POST is refused before any input is read (405), never a 500.
    expect(top.status).toBeLessThan(500);
  });

  it("says nothing was changed only for a read that failed", async () => {
    const failing = router({
      read: procedure(["viewer"]).query(() => {
        throw new Error("database gone");
      }),
      write: procedure(["viewer"]).mutation(() => {
        throw new Error("database gone after the provider was called");
      }),
    });
    const caller = createCallerFactory(failing)({ desk: t.desk, actor: t.users.viewer, ip: "127.0.0.1" });
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const read = await caller.read().catch((e: TRPCError) => e);
      const write = await caller.write().catch((e: TRPCError) => e);
      expect(read).toMatchObject({ code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side; this only read data, so nothing was changed" });
      expect(write).toMatchObject({ code: "INTERNAL_SERVER_ERROR" });
      expect((write as TRPCError).message).not.toMatch(/nothing was changed/);
      expect((write as TRPCError).message).toMatch(/part of it may have been done/);
      expect(errors).toHaveBeenCalledTimes(2);
    } finally {
      errors.mockRestore();
    }
  });
});
