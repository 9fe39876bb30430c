// The download handler the export routes call, exercised with plain Requests
// carrying a real session cookie, on a real database (PGlite, and PostgreSQL
// when TEST_DATABASE_URL is set): who may download, how files are named, the
// audit entry, field errors, the empty-period answer, and a body that streams
// while the writer is still writing. The writer here is a tiny one of the
// test's own (one line per row), so these tests are about the route, not a format.
import { randomUUID } from "node:crypto";
import type { Writable } from "node:stream";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { eventually, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { revokeSession, startSession } from "@/server/auth/user-sessions";
import { sessionCookieName } from "@/server/auth/session-cookie";
import { enrolForTests } from "@/server/auth/second-factor-testing";
import type { Role } from "@/server/auth/roles";
import type { ExportFormat, ExportInput, ExportWriter } from "@/server/exports/types";
import { exportDownload, ROWS_HEADER, type WriterLookup } from "./exports";

const SECRET = "exports-test-secret-of-enough-length-000";

/** One line per row: "<payoutId> <status> <amountMinor>", after a header naming the export. */
function lineWriter(format: ExportFormat, opts: { gate?: Promise<void>; seen?: { rows: number; finished: boolean } } = {}): ExportWriter {
  return {
    format,
    extension: format === "camt053" ? "xml" : format,
    contentType: "text/plain; charset=utf-8",
    async write(input: ExportInput, out: Writable) {
      out.write(`${input.meta.kind} ${input.meta.connectionLabel} ${input.meta.currency ?? "-"} rows\n`);
      if (opts.gate) await opts.gate;
      for await (const row of input.rows()) {
        if (out.destroyed) return;
        if (opts.seen) opts.seen.rows++;
        if (!out.write(`${row.payoutId} ${row.status} ${row.amountMinor}\n`)) await new Promise((r) => out.once("drain", r));
      }
      if (opts.seen) opts.seen.finished = true;
      out.end();
    },
  };
}

const allFormats: WriterLookup = (format) => lineWriter(format);

describe.each(testDatabases())("export downloads on %s", (kind) => {
  let t: TestDesk;
  let connectionId: string;
  const cookies = {} as Record<Role, string>;

  /**
   * A signed-in browser of `role`. Approvers and admins must have two-factor
   * on, and these sessions proved it just now unless `provedAt` says when
   * (step-up has its own test below); viewers and makers need none.
   */
  async function cookieFor(role: Role, provedAt: Date | null = new Date()): Promise<string> {
    const user = await t.desk.db.user.findUniqueOrThrow({ where: { id: t.users[role].id } });
    if ((role === "approver" || role === "admin") && !user.totpEnabledAt) await enrolForTests(t.desk, user.id);
    const session = await startSession(t.desk.db, t.users[role].id, {}, { secondFactorAt: provedAt });
    const token = await encode({ token: { uid: t.users[role].id, sid: session.id }, secret: SECRET });
    return `${sessionCookieName()}=${token}`;
  }

  function get(path: string, cookie: string | null) {
    return new Request(`http://desk.test${path}`, { headers: cookie ? { cookie } : {} });
  }

  async function payout(p: { status: "succeeded" | "failed" | "processing"; amountMinor: bigint; finalizedAt?: string; approvedAt?: string; createdAt: string; description: string }) {
    const id = randomUUID();
    await t.desk.db.payout.create({
      data: {
        id,
        connectionId,
        amountMinor: p.amountMinor,
        currency: "ZMW",
        recipientPhone: "260763456789",
        description: p.description,
        status: p.status,
        createdById: t.users.maker.id,
        createdAt: new Date(p.createdAt),
        approvedAt: p.approvedAt ? new Date(p.approvedAt) : null,
        finalizedAt: p.finalizedAt ? new Date(p.finalizedAt) : null,
      },
    });
    return id;
  }

  const statementPath = (query: Record<string, string>) => `/api/statements/export?${new URLSearchParams(query)}`;
  const may = { connectionId: "", currency: "ZMW", period: "custom", from: "2026-05-01", to: "2026-05-31", timeZone: "Africa/Lusaka", format: "csv" };
  const ids: string[] = [];
  let june: string;

  beforeAll(async () => {
    vi.stubEnv("NEXTAUTH_SECRET", SECRET);
    vi.stubEnv("APP_URL", "http://desk.test");
    t = await startTestDesk(kind);
    connectionId = (
      await t.caller("admin").connections.create({
        provider: "pawapay",
        name: "Export pawaPay / Lusaka",
        environment: "sandbox",
        baseUrl: "sandbox://pawapay",
        credentials: { apiToken: `tok-${randomUUID()}` },
      })
    ).id;
    may.connectionId = connectionId;
    for (const role of ["viewer", "maker", "approver", "admin"] as const) cookies[role] = await cookieFor(role);
    // May 2026 in Lusaka (UTC+2): three settled, one in flight at the end, one settled in June.
    ids.push(await payout({ status: "succeeded", amountMinor: 1_500n, createdAt: "2026-05-02T08:00:00Z", approvedAt: "2026-05-02T08:10:00Z", finalizedAt: "2026-05-02T09:00:00Z", description: "first" }));
    ids.push(await payout({ status: "failed", amountMinor: 2_000n, createdAt: "2026-05-03T08:00:00Z", approvedAt: "2026-05-03T08:10:00Z", finalizedAt: "2026-05-03T09:00:00Z", description: "second" }));
    // 22:30 UTC on 31 May is 00:30 on 1 June in Lusaka: not settled in May, but approved in May and so in flight at its end.
    june = await payout({ status: "succeeded", amountMinor: 9_000n, createdAt: "2026-05-31T20:00:00Z", approvedAt: "2026-05-31T20:10:00Z", finalizedAt: "2026-05-31T22:30:00Z", description: "june" });
    ids.push(await payout({ status: "succeeded", amountMinor: 3_000n, createdAt: "2026-05-30T08:00:00Z", approvedAt: "2026-05-30T08:10:00Z", finalizedAt: "2026-05-30T09:00:00Z", description: "third" }));
    ids.push(await payout({ status: "processing", amountMinor: 4_000n, createdAt: "2026-05-31T08:00:00Z", approvedAt: "2026-05-31T08:10:00Z", description: "in flight" }));
  });
  afterAll(async () => {
    await t?.close();
    vi.unstubAllEnvs();
  });

  it("refuses anyone not signed in, and says why a session ended", async () => {
    const anonymous = await exportDownload(t.desk, get(statementPath(may), null), "statement", allFormats);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: "Sign in to continue" });

    const cookie = await cookieFor("viewer");
    const sid = (await t.desk.db.userSession.findFirstOrThrow({ where: { userId: t.users.viewer.id }, orderBy: { createdAt: "desc" } })).id;
    await revokeSession(t.desk.db, sid);
    const ended = await exportDownload(t.desk, get(statementPath(may), cookie), "statement", allFormats);
    expect(ended.status).toBe(401);
    expect((await ended.json()).error).toMatch(/Sign in again/);
    // A forged cookie is no session at all.
    const forged = await exportDownload(t.desk, get(statementPath(may), `${sessionCookieName()}=not-a-token`), "statement", allFormats);
    expect(forged.status).toBe(401);
    expect(await t.desk.db.auditLog.count({ where: { action: "statement.export" } })).toBe(0);
  });

  it("streams a statement to every role from viewer up, named <connection>-<currency>-<from>-<to>.<ext>, and audits who took what", async () => {
    for (const role of ["viewer", "maker", "approver", "admin"] as const) {
      const response = await exportDownload(t.desk, get(statementPath(may), cookies[role]), "statement", allFormats);
      expect(response.status, role).toBe(200);
      expect(response.headers.get("content-disposition")).toBe(
        `attachment; filename="export-pawapay-lusaka-zmw-2026-05-01-2026-05-31.csv"; filename*=UTF-8''export-pawapay-lusaka-zmw-2026-05-01-2026-05-31.csv`,
      );
      expect(response.headers.get(ROWS_HEADER)).toBe("5");
      expect(response.headers.get("cache-control")).toBe("no-store");
      const body = await response.text();
      // Settled in May by finalizedAt, then in flight at its end by approval time.
      expect(body.trim().split("\n")).toEqual([
        "statement Export pawaPay / Lusaka ZMW rows",
        `${ids[0]} succeeded 1500`,
        `${ids[1]} failed 2000`,
        `${ids[2]} succeeded 3000`,
        // As at the end of May neither had an event past approval in this seed, so each stood approved.
        `${ids[3]} approved 4000`,
        `${june} approved 9000`,
      ]);
    }
    const entries = await t.desk.db.auditLog.findMany({ where: { action: "statement.export" }, orderBy: { id: "asc" } });
    expect(entries.map((e) => e.actorId)).toEqual([t.users.viewer.id, t.users.maker.id, t.users.approver.id, t.users.admin.id]);
    expect(entries[0]).toMatchObject({
      entityType: "statement",
      entityId: connectionId,
      details: {
        format: "csv",
        fileName: "export-pawapay-lusaka-zmw-2026-05-01-2026-05-31.csv",
        connection: "Export pawaPay / Lusaka",
        currency: "ZMW",
        from: "2026-05-01",
        to: "2026-05-31",
        timeZone: "Africa/Lusaka",
        rows: 5,
      },
    });
  });

  it("names every format's file by its extension, and all connections as 'all'", async () => {
    for (const [format, extension] of [["xlsx", "xlsx"], ["pdf", "pdf"], ["camt053", "xml"]] as const) {
      const response = await exportDownload(t.desk, get(statementPath({ ...may, format }), cookies.viewer), "statement", allFormats);
      expect(response.headers.get("content-disposition")).toContain(`filename="export-pawapay-lusaka-zmw-2026-05-01-2026-05-31.${extension}"`);
      await response.body?.cancel();
    }
    const all = await exportDownload(t.desk, get(statementPath({ ...may, connectionId: "all" }), cookies.viewer), "statement", allFormats);
    expect(all.headers.get("content-disposition")).toContain('filename="all-zmw-2026-05-01-2026-05-31.csv"');
    expect((await all.text()).split("\n")[0]).toBe("statement All connections ZMW rows");
  });

  it("answers the page's field errors as JSON, every one at once, and exports nothing", async () => {
    const before = await t.desk.db.auditLog.count();
    const response = await exportDownload(t.desk, get(statementPath({ ...may, from: "2026-05-31", to: "2026-05-01", format: "docx" }), cookies.viewer), "statement", allFormats);
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.fieldErrors).toEqual({
      format: "Choose a format: csv, xlsx, pdf, camt053",
      to: "The last day cannot be before the first day (2026-05-31)",
    });
    expect(body.error).toContain("to: The last day cannot be before the first day");
    const zone = await exportDownload(t.desk, get(statementPath({ ...may, timeZone: "Mars/Base", currency: "" }), cookies.viewer), "statement", allFormats);
    expect((await zone.json()).fieldErrors).toEqual({ timeZone: expect.stringMatching(/IANA/), currency: "Choose a currency, e.g. ZMW" });
    const missing = await exportDownload(t.desk, get(statementPath(may), cookies.viewer), "statement", (f) => (f === "csv" ? undefined : lineWriter(f)));
    expect((await missing.json()).fieldErrors).toEqual({ format: "csv files cannot be made by this desk yet; choose xlsx, pdf, camt053" });
    expect(await t.desk.db.auditLog.count()).toBe(before);
  });

  it("says an empty period is empty instead of sending a file", async () => {
    const before = await t.desk.db.auditLog.count();
    const response = await exportDownload(t.desk, get(statementPath({ ...may, from: "2025-01-01", to: "2025-01-31" }), cookies.viewer), "statement", allFormats);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-disposition")).toBeNull();
    expect(await response.json()).toEqual({
      empty: true,
      error: "No payouts settled in this period (1 Jan 2025 – 31 Jan 2025, Africa/Lusaka) for Export pawaPay / Lusaka in ZMW, and none in flight at its end; there is nothing to export",
    });
    expect(await t.desk.db.auditLog.count()).toBe(before);
  });

  it("sends the first bytes while the writer is still writing, and stops the writer when the browser goes away", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const seen = { rows: 0, finished: false };
    const response = await exportDownload(t.desk, get(statementPath(may), cookies.viewer), "statement", (f) => lineWriter(f, { gate, seen }));
    const reader = response.body!.getReader();
    // The header line arrives although the writer is held before its first row: nothing waits for the whole file.
    const first = await Promise.race([reader.read(), new Promise<"held">((resolve) => setTimeout(() => resolve("held"), 20_000))]);
    expect(first).not.toBe("held");
    expect(new TextDecoder().decode((first as ReadableStreamReadResult<Uint8Array>).value)).toContain("statement Export pawaPay / Lusaka");
    expect(seen.rows).toBe(0);
    await reader.cancel();
    open();
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.finished).toBe(false);
  });

  it("exports the payouts list under its current filters, named and audited the same way", async () => {
    const path = (query: Record<string, string>) => `/api/payouts/export?${new URLSearchParams(query)}`;
    const response = await exportDownload(t.desk, get(path({ status: "succeeded", connection: connectionId, from: "2026-05-01", to: "2026-05-31", format: "csv" }), cookies.viewer), "payouts", allFormats);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toContain('filename="export-pawapay-lusaka-all-2026-05-01-2026-05-31.csv"');
    expect(response.headers.get(ROWS_HEADER)).toBe("3");
    const lines = (await response.text()).trim().split("\n");
    // The list's order: newest first.
    expect(lines[0]).toBe("payouts Export pawaPay / Lusaka - rows");
    expect(lines.slice(1).map((l) => l.split(" ")[2])).toEqual(["9000", "3000", "1500"]);
    const entry = await t.desk.db.auditLog.findFirstOrThrow({ where: { action: "payouts.export" } });
    expect(entry).toMatchObject({ actorId: t.users.viewer.id, entityType: "payouts", entityId: connectionId, details: { format: "csv", rows: 3, filters: expect.stringContaining("status Succeeded") } });

    const bad = await exportDownload(t.desk, get(path({ status: "paid", from: "2026-02-30", format: "csv" }), cookies.viewer), "payouts", allFormats);
    expect(bad.status).toBe(400);
    expect((await bad.json()).fieldErrors).toEqual({ status: 'Choose statuses from the list; "paid" is not one' });
    const badDay = await exportDownload(t.desk, get(path({ from: "2026-02-30", format: "csv" }), cookies.viewer), "payouts", allFormats);
    expect((await badDay.json()).fieldErrors).toEqual({ from: "Use a date like 2026-11-21" });

    const empty = await exportDownload(t.desk, get(path({ q: "no-such-reference", format: "csv" }), cookies.viewer), "payouts", allFormats);
    expect(empty.status).toBe(404);
    expect(await empty.json()).toEqual({ empty: true, error: 'No payouts match these filters (every status, All connections, matching "no-such-reference"); there is nothing to export' });
  });

  it("asks for a fresh code before exporting when the last was over 5 minutes ago (JSON 403 the download code acts on), only for a valid, non-empty export", async () => {
    const stale = await cookieFor("admin", new Date(Date.now() - 6 * 60_000));
    const exportsBefore = await t.desk.db.auditLog.count({ where: { action: "statement.export" } });
    const refused = await exportDownload(t.desk, get(statementPath(may), stale), "statement", allFormats);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/^Code: enter the current code/), stepUpRequired: true, stepUpReason: "stale" });
    // A bad query is named first: nobody types a code for a file that would be refused anyway.
    expect((await exportDownload(t.desk, get(statementPath({ ...may, format: "docx" }), stale), "statement", allFormats)).status).toBe(400);
    expect(await t.desk.db.auditLog.count({ where: { action: "statement.export" } })).toBe(exportsBefore);
    // A viewer, whom this desk does not require two-factor of, has nothing to step up with: the file comes.
    const allowed = await exportDownload(t.desk, get(statementPath(may), await cookieFor("viewer", null)), "statement", allFormats);
    expect(allowed.status).toBe(200);
    // Read it to the end: a body left unread would hold its writer (and a database query) open past the test.
    expect(await allowed.text()).toContain("statement Export pawaPay / Lusaka");
  });
});

describe("export downloads with the desk's own writers", () => {
  let t: TestDesk;
  let cookie: string;
  let connectionId: string;

  beforeAll(async () => {
    vi.stubEnv("NEXTAUTH_SECRET", SECRET);
    vi.stubEnv("APP_URL", "http://desk.test");
    t = await startTestDesk("pglite");
    connectionId = t.pawapayConnectionId;
    const session = await startSession(t.desk.db, t.users.viewer.id, {});
    cookie = `${sessionCookieName()}=${await encode({ token: { uid: t.users.viewer.id, sid: session.id }, secret: SECRET })}`;
    // A payout paid through the emulator, the real way, and a balance read.
    const id = await t.pawapayPayout({ amount: "15.00", description: "Invoice 77" });
    await t.work.run();
    // pawaPay's callback (or, failing that, a status check) settles it.
    await eventually(async () => {
      await t.work.run({ all: true, payoutId: id });
      return (await t.desk.db.payout.findUniqueOrThrow({ where: { id } })).status === "succeeded";
    }, 30_000);
  });
  afterAll(async () => {
    await t?.close();
    vi.unstubAllEnvs();
  });

  it("downloads each format of today's statement, and the CSV's first rows read back", async () => {
    const { exportWriter } = await import("@/server/exports");
    const { parse } = await import("csv-parse/sync");
    const query = (format: string) => `http://desk.test/api/statements/export?${new URLSearchParams({ connectionId, currency: "ZMW", period: "today", timeZone: "UTC", format })}`;
    const bodies: Record<string, Buffer> = {};
    for (const format of ["csv", "xlsx", "pdf", "camt053"]) {
      const response = await exportDownload(t.desk, new Request(query(format), { headers: { cookie } }), "statement", exportWriter);
      expect(response.status, format).toBe(200);
      bodies[format] = Buffer.from(await response.arrayBuffer());
      expect(bodies[format]!.length, format).toBeGreaterThan(100);
    }
    const records = parse(bodies.csv!, { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: "succeeded", currency: "ZMW", amount: "15.00", amount_minor: "1500", connection: "pawaPay sandbox" });
    expect(records[0]!.description).toBe("Invoice 77");
    expect(bodies.xlsx!.subarray(0, 2).toString()).toBe("PK");
    expect(bodies.pdf!.subarray(0, 5).toString()).toBe("%PDF-");
    expect(bodies.camt053!.toString()).toContain("<BkToCstmrStmt>");
  });
});
