// A whole desk for integration tests: a fresh database (PGlite, or
// PostgreSQL when asked), the real services, the built-in emulators and the
// callback route served over real HTTP on 127.0.0.1, and a job scheduler the
// test drives by hand so every step is observable.
import { randomBytes, randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabaseKind, type TestDb } from "@/server/db/testing";
import { serveWebHandler } from "@/server/sandbox/http";
import type { Actor, Desk, JobScheduler } from "@/server/services/types";
import { createUser } from "@/server/services/users";
import { ensureSandboxConnections, openCredentials } from "@/server/services/connections";
import { supportedProviders } from "@/server/connectors/registry";
import { receiveCallbackRequest } from "@/server/services/callbacks";
import { sandboxEmulator } from "@/server/services/sandbox-hosting";
import { workOnPayout } from "@/server/services/submission";
import { takeDueWork } from "@/server/services/payout-work";
import { appRouter } from "@/server/trpc/router";
import { createCallerFactory, fieldErrorsOf } from "@/server/trpc/init";
import { TRPCError } from "@trpc/server";
import type { Role } from "@/server/auth/roles";
import { provedSessionIfUser } from "@/server/auth/second-factor-testing";
import { waitFor } from "./wait";
import { approveAsRead } from "./approvals";

/** Counts wake-ups instead of waking workers: tests run the work themselves with `work.run`. */
export class ManualWork implements JobScheduler {
  wakes = 0;
  wake() {
    this.wakes++;
  }
}

export interface TestWork {
  /** Payouts with work recorded (due now or later), oldest due first. */
  due(payoutId?: string): Promise<Array<{ id: string; status: string; dueAt: Date; checkAttempt: number }>>;
  /**
   * Does the due work now, one payout at a time, as a worker would (same
   * function, same lease). `all` also does work due later (the next status
   * check on the provider's schedule); `payoutId` limits it to one payout.
   * Returns how many pieces of work ran.
   */
  run(opts?: { all?: boolean; max?: number; payoutId?: string }): Promise<number>;
}

function testWork(desk: Desk): TestWork {
  return {
    async due(payoutId) {
      const rows = await desk.db.payout.findMany({
        where: { dueAt: { not: null }, ...(payoutId ? { id: payoutId } : {}) },
        orderBy: { dueAt: "asc" },
        select: { id: true, status: true, dueAt: true, checkAttempt: true },
      });
      return rows.map((r) => ({ ...r, dueAt: r.dueAt! }));
    },
    async run(opts = {}) {
      const max = opts.max ?? 20;
      let ran = 0;
      while (ran < max) {
        const now = opts.all ? new Date(Date.now() + 365 * 24 * 3600_000) : new Date();
        const [work] = await takeDueWork(desk.db, { owner: "test-worker", limit: 1, now, payoutId: opts.payoutId });
        if (!work) break;
        ran++;
        await workOnPayout(desk, work, "test-worker");
      }
      return ran;
    },
  };
}

const createCaller = createCallerFactory(appRouter);

export interface TestDesk {
  desk: Desk;
  /** Wake-ups the services asked for. */
  jobs: ManualWork;
  /** The payout work queue, driven by hand. */
  work: TestWork;
  url: string;
  users: Record<Role, Actor>;
  caller(role: Role | Actor | null): ReturnType<typeof createCaller>;
  pawapayConnectionId: string;
  /** A pawaPay sandbox payout made by the maker and, unless `approve: false`, approved by the approver; its id. */
  pawapayPayout(opts?: { phone?: string; amount?: string; description?: string; approve?: boolean }): Promise<string>;
  /** The pawaPay sandbox connection's API token (the emulator's fault controls take it). */
  pawapayApiToken(): Promise<string>;
  close(): Promise<void>;
}

/**
 * `opts.database`: run on this database instead of a fresh one (the benches
 * and drills give a file-backed PGlite or a PostgreSQL database that separate
 * worker processes share).
 */
export async function startTestDesk(kind: TestDatabaseKind = "pglite", opts: { database?: TestDb } = {}): Promise<TestDesk> {
  const database = opts.database ?? (await createTestDatabase(kind));
  const jobs = new ManualWork();
  const desk: Desk = {
    db: database.prisma,
    config: { appUrl: "http://127.0.0.1:0", credentialsKey: undefined, databaseUrl: undefined, embedded: true, inProcessWorkers: false, stuckAfterMinutes: 30, sendWithinSeconds: 120, sendConcurrency: 4, providerTimeoutSeconds: 5 },
    credentialsKey: randomBytes(32),
    jobs,
    connectorDeps: { timeoutMs: 5_000 },
  };
  const server = await serveWebHandler(async (request) => {
    const { pathname } = new URL(request.url);
    const sandbox = /^\/api\/sandbox\/([a-z]+)(?:\/|$)/.exec(pathname);
    if (sandbox) {
      const emulator = await sandboxEmulator(sandbox[1]!, desk);
      return emulator ? emulator.handle(request) : new Response("no emulator", { status: 404 });
    }
    const webhook = /^\/api\/webhooks\/([^/]+)$/.exec(pathname);
    // The route handler's own function (size cap included), so tests take the real path.
    if (webhook && request.method === "POST") return receiveCallbackRequest(desk, webhook[1]!, request);
    return new Response("not found", { status: 404 });
  });
  desk.config.appUrl = server.url.replace(/\/+$/, "");

  const users = {} as Record<Role, Actor>;
  for (const role of ["maker", "approver", "admin", "viewer"] as const) {
    const { user } = await createUser(desk.db, { email: `${role}@test.desk`, role, password: `${role}-test-password` });
    users[role] = { id: user.id, email: user.email, name: user.name, role };
  }
  await ensureSandboxConnections(desk, supportedProviders());
  const pawapay = await desk.db.connection.findFirstOrThrow({ where: { provider: "pawapay" } });

  // Each call comes from a session that has just proved its second factor (approvers and admins
  // enrolled on first use), as a signed-in browser that answered step-up would.
  const caller: TestDesk["caller"] = (who) =>
    createCaller(async () => {
      const actor = who === null ? null : typeof who === "string" ? users[who] : who;
      return { desk, actor, ip: "127.0.0.1", sessionId: actor ? await provedSessionIfUser(desk, actor) : null };
    });
  return {
    desk,
    jobs,
    work: testWork(desk),
    url: desk.config.appUrl,
    users,
    pawapayConnectionId: pawapay.id,
    caller,
    async pawapayPayout(opts = {}) {
      const created = await caller("maker").payouts.create({
        id: randomUUID(),
        connectionId: pawapay.id,
        amount: opts.amount ?? "12.34",
        currency: "ZMW",
        recipientPhone: opts.phone ?? "260763456789",
        description: opts.description ?? "Test payout",
      });
      // As an approver who read the approval card: suites make many alike payouts, which it flags as likely duplicates.
      if (opts.approve !== false) await approveAsRead(caller("approver"), created.id);
      return created.id;
    },
    async pawapayApiToken() {
      return openCredentials(desk, await desk.db.connection.findUniqueOrThrow({ where: { id: pawapay.id } })).apiToken!;
    },
    async close() {
      await server.close();
      await database.dispose();
    },
  };
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  return waitFor(check, timeoutMs, 100);
}

/** How a refused call reaches the browser: the tRPC code and the per-field messages. */
export async function refusal(call: Promise<unknown>): Promise<Record<string, string> & { code?: string }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return { ...fieldErrorsOf(error), code: error.code };
  }
  throw new Error("The call was expected to be refused");
}
