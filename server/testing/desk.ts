// A whole desk for integration tests: a fresh database (PGlite, or
// PostgreSQL when asked), the real services, the built-in emulators and the
// callback route served over real HTTP on 127.0.0.1, and a job scheduler the
// test drives by hand so every step is observable.
import { randomBytes } from "node:crypto";
import { createTestDatabase, type TestDatabaseKind } from "@/server/db/testing";
import { serveWebHandler } from "@/server/sandbox/http";
import type { Actor, Desk, JobScheduler } from "@/server/services/types";
import { createUser } from "@/server/services/users";
import { ensureSandboxConnections } from "@/server/services/connections";
import { supportedProviders } from "@/server/connectors/registry";
import { receiveCallback } from "@/server/services/callbacks";
import { sandboxEmulator } from "@/server/services/sandbox-hosting";
import { checkPayoutStatus, submitPayout } from "@/server/services/submission";
import { appRouter } from "@/server/trpc/router";
import { createCallerFactory, fieldErrorsOf } from "@/server/trpc/init";
import { TRPCError } from "@trpc/server";
import type { Role } from "@/server/auth/roles";
import { waitFor } from "./wait";

export interface QueuedJob {
  name: "submit" | "status";
  payoutId: string;
  delaySeconds: number;
  attempt: number;
}

/** Records jobs instead of queueing them; `runAll` runs what is queued, now. */
export class ManualJobs implements JobScheduler {
  queued: QueuedJob[] = [];
  history: QueuedJob[] = [];
  async submitPayout(payoutId: string) {
    this.push({ name: "submit", payoutId, delaySeconds: 0, attempt: 0 });
  }
  async checkStatus(payoutId: string, opts: { delaySeconds?: number; attempt?: number } = {}) {
    this.push({ name: "status", payoutId, delaySeconds: opts.delaySeconds ?? 0, attempt: opts.attempt ?? 0 });
  }
  private push(job: QueuedJob) {
    // Like the real queue's "stately" policy: one waiting job per payout and kind.
    if (this.queued.some((j) => j.name === job.name && j.payoutId === job.payoutId)) return;
    this.queued.push(job);
    this.history.push(job);
  }
  /** Runs queued jobs (ignoring delays) until none are left or `max` ran. */
  async runAll(desk: Desk, max = 20): Promise<number> {
    let ran = 0;
    while (this.queued.length > 0 && ran < max) {
      const job = this.queued.shift()!;
      ran++;
      if (job.name === "submit") await submitPayout(desk, job.payoutId);
      else await checkPayoutStatus(desk, job.payoutId, job.attempt);
    }
    return ran;
  }
}

const createCaller = createCallerFactory(appRouter);

export interface TestDesk {
  desk: Desk;
  jobs: ManualJobs;
  url: string;
  users: Record<Role, Actor>;
  caller(role: Role | Actor | null): ReturnType<typeof createCaller>;
  pawapayConnectionId: string;
  close(): Promise<void>;
}

export async function startTestDesk(kind: TestDatabaseKind = "pglite"): Promise<TestDesk> {
  const database = await createTestDatabase(kind);
  const jobs = new ManualJobs();
  const desk: Desk = {
    db: database.prisma,
    config: { appUrl: "http://127.0.0.1:0", credentialsKey: undefined, databaseUrl: undefined, embedded: true, inProcessWorkers: false, stuckAfterMinutes: 30 },
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
    if (webhook && request.method === "POST") {
      const reply = await receiveCallback(desk, webhook[1]!, {
        headers: request.headers,
        rawBody: await request.text(),
        url: request.url,
        method: request.method,
      });
      return new Response(reply.body, { status: reply.httpStatus, headers: { "content-type": reply.contentType } });
    }
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

  return {
    desk,
    jobs,
    url: desk.config.appUrl,
    users,
    pawapayConnectionId: pawapay.id,
    caller: (who) => createCaller({ desk, actor: who === null ? null : typeof who === "string" ? users[who] : who, ip: "127.0.0.1" }),
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
