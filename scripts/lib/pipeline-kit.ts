// What the pipeline bench and the fault drill share: a "web" process (this
// one) serving the built-in emulators and the callback route over real HTTP
// on 127.0.0.1, on a real database (a PGlite folder, or a scratch PostgreSQL
// database); worker processes (`scripts/workers.ts`, exactly as deployed) on
// that database; payouts made and approved through the tRPC procedures; and
// counts taken from the emulators themselves.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import { createDb } from "@/server/db/client";
import { createScratchPostgresDatabase, type TestDb } from "@/server/db/testing";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { sandboxEmulator } from "@/server/services/sandbox-hosting";
import type { ProviderKind } from "@/server/connectors/types";
import { isFinal, PAYOUT_STATUSES, type PayoutStatus } from "@/server/domain/payout-state";
import type { PayoutFields } from "@/server/testing/provider-cases";
import { approveManyAsRead } from "@/server/testing/approvals";
import { Dispatcher } from "@/server/jobs/dispatcher";
import { DEFAULT_SEND_CONCURRENCY } from "@/server/config";

export interface Desk {
  t: TestDesk;
  kind: "pglite" | "postgres";
  databaseUrl?: string;
  close(): Promise<void>;
}

/** The admin URL of the PostgreSQL server benches and drills make scratch databases on. */
export function postgresAdminUrl(): string | undefined {
  return process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || undefined;
}

export async function openDesk(kind: "pglite" | "postgres"): Promise<Desk> {
  if (kind === "pglite") {
    // A real data folder, as the embedded default keeps it.
    const dataDir = mkdtempSync(path.join(tmpdir(), "desk-bench-"));
    const db = await createDb({ kind: "pglite", dataDir: path.join(dataDir, "pglite") });
    const database: TestDb = { ...db, dispose: async () => db.close() };
    const t = await startTestDesk("pglite", { database });
    return {
      t,
      kind,
      close: async () => {
        await t.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const admin = postgresAdminUrl();
  if (!admin) throw new Error("PostgreSQL runs need BENCH_DATABASE_URL or TEST_DATABASE_URL (an admin connection string)");
  const scratch = await createScratchPostgresDatabase();
  const db = await createDb({ databaseUrl: scratch.url, max: 8 });
  const database: TestDb = {
    ...db,
    dispose: async () => {
      await db.close();
      await scratch.drop();
    },
  };
  const t = await startTestDesk("postgres", { database });
  return { t, kind, databaseUrl: scratch.url, close: () => t.close() };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/** One `npm run workers` process on the desk's PostgreSQL database, calling back to this process's HTTP server. */
export function spawnWorker(desk: Desk, env: Record<string, string> = {}, log?: (line: string) => void): WorkerProcess {
  if (!desk.databaseUrl) throw new Error("Separate worker processes need PostgreSQL");
  // BENCH_WORKER_PROFILE=<dir>: each worker writes a CPU profile there when it stops.
  const profile = process.env.BENCH_WORKER_PROFILE;
  const [command, args] = profile
    ? [process.execPath, ["--cpu-prof", `--cpu-prof-dir=${profile}`, "--import", "tsx", "scripts/workers.ts"]]
    : [path.resolve("node_modules/.bin/tsx"), ["scripts/workers.ts"]];
  const child = spawn(command, args, {
    env: {
      ...process.env,
      DATABASE_URL: desk.databaseUrl,
      APP_URL: desk.t.url,
      NEXTAUTH_URL: desk.t.url,
      NEXTAUTH_SECRET: randomBytes(32).toString("base64"),
      DESK_CREDENTIALS_KEY: desk.t.desk.credentialsKey.toString("base64"),
      DESK_BALANCE_EVERY_SECONDS: "3600",
      NODE_ENV: "production",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.trim() && log) log(line);
  };
  child.stdout?.on("data", forward);
  child.stderr?.on("data", forward);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { child, exited };
}

/** Waits until `count` worker processes report a heartbeat. */
export async function waitForWorkers(desk: Desk, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = await desk.t.desk.db.workerHeartbeat.count({ where: { seenAt: { gte: new Date(Date.now() - 10_000) } } });
    if (alive >= count) return;
    if (Date.now() > deadline) throw new Error(`Only ${alive} of ${count} worker processes started within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

export interface PlannedPayout {
  provider: ProviderKind;
  fields: PayoutFields;
  /** The final status the emulator's sandbox rules lead to. */
  expected: PayoutStatus;
}

/** Creates the payouts (as the maker) and returns their ids in order. */
export async function createPayouts(desk: Desk, planned: PlannedPayout[], concurrency = 8): Promise<string[]> {
  const connections = new Map(
    (await desk.t.desk.db.connection.findMany({ select: { id: true, provider: true } })).map((c) => [c.provider as string, c.id]),
  );
  const maker = desk.t.caller("maker");
  const ids = planned.map(() => randomUUID());
  await inParallel(planned.map((p, i) => () => maker.payouts.create({ id: ids[i]!, connectionId: connections.get(p.provider)!, ...p.fields }).then(() => undefined)), concurrency);
  return ids;
}

/**
 * Approves the payouts as the approver does a run of them: batch decisions of
 * 200, each reviewed first and acknowledged as it asks (a run's payouts repeat
 * numbers and amounts, which the desk flags as likely duplicates).
 */
export async function approveAll(desk: Desk, ids: string[], batch = 200): Promise<void> {
  const approver = desk.t.caller("approver");
  for (let i = 0; i < ids.length; i += batch) {
    const { refused } = await approveManyAsRead(approver, ids.slice(i, i + batch));
    if (refused.length > 0) throw new Error(`Approval refused: ${refused[0]!.reason}`);
  }
}

/**
 * Polls until every payout is final, or the deadline; returns how many are not.
 * A count of the run's own payouts (those created since the earliest of
 * them), so the watching costs the desk next to nothing.
 *
 * The earliest, not the first in `ids`: the payouts are created several at a
 * time, so ids[0] is often not the first written. Counting from its time left
 * out the few created a moment before it, and the count then stayed short of
 * the total until the deadline: runs that looked like a payout stuck for ten
 * minutes with no send and no status check, while every payout was final.
 */
export async function waitAllFinal(desk: Desk, ids: string[], deadline: number, onTick?: (final: number) => void): Promise<number> {
  const [first] = await desk.t.desk.db.$queryRaw<Array<{ at: Date }>>`SELECT min("createdAt") AS at FROM "Payout" WHERE id::text = ANY(${ids}::text[])`;
  const since = first!.at;
  const finals = [...PAYOUT_STATUSES].filter((s) => isFinal(s));
  for (;;) {
    const [row] = await desk.t.desk.db.$queryRaw<Array<{ n: number }>>`
      SELECT count(*)::int AS n FROM "Payout" WHERE "createdAt" >= ${since} AND status::text = ANY(${finals}::text[])`;
    const final = Number(row?.n ?? 0);
    onTick?.(final);
    if (final >= ids.length) return 0;
    if (Date.now() > deadline) {
      // The answer that counts is by id, whatever else the database holds.
      const [left] = await desk.t.desk.db.$queryRaw<Array<{ n: number }>>`
        SELECT count(*)::int AS n FROM "Payout" WHERE id::text = ANY(${ids}::text[]) AND NOT (status::text = ANY(${finals}::text[]))`;
      return Number(left?.n ?? 0);
    }
    await sleep(250);
  }
}

/**
 * What is holding the payouts that did not reach a final status, printed when
 * a run ends with some not final: each one's status, due time, lease, flag
 * and latest event; each worker's last heartbeat (alive, processed, errors,
 * last error) and whether its process is still running; and the database's
 * sessions that are busy, waiting or idle in a transaction.
 */
export async function describeNotFinal(desk: Desk, ids: string[], workers: WorkerProcess[] = []): Promise<void> {
  const db = desk.t.desk.db;
  const finals = [...PAYOUT_STATUSES].filter((s) => isFinal(s));
  const stuck = await db.payout.findMany({
    where: { id: { in: ids }, status: { notIn: finals } },
    select: { id: true, status: true, dueAt: true, leaseOwner: true, leaseUntil: true, checkAttempt: true, attentionReason: true, submittedAt: true, events: { orderBy: { at: "desc" }, take: 1, select: { at: true, toStatus: true, note: true } } },
    take: 20,
  });
  console.log(`\nnot final (first ${stuck.length}), at ${new Date().toISOString()}:`);
  for (const p of stuck) {
    const last = p.events[0];
    console.log(
      `  ${p.id} ${p.status} due ${p.dueAt?.toISOString() ?? "—"} lease ${p.leaseOwner ?? "—"} until ${p.leaseUntil?.toISOString() ?? "—"} ` +
        `checks ${p.checkAttempt} flag ${p.attentionReason ?? "—"} sent ${p.submittedAt?.toISOString() ?? "—"}; last event ${last ? `${last.at.toISOString()} → ${last.toStatus}: ${last.note ?? ""}` : "—"}`,
    );
  }
  for (const w of await db.workerHeartbeat.findMany({ orderBy: { startedAt: "asc" } })) {
    console.log(`  worker ${w.id}: seen ${w.seenAt.toISOString()} processed ${w.processed} errors ${w.errors}${w.lastError ? ` last error ${w.lastErrorAt?.toISOString()}: ${w.lastError}` : ""}`);
  }
  workers.forEach((w, i) => console.log(`  worker process ${i + 1} (pid ${w.child.pid}): ${w.child.exitCode === null && w.child.signalCode === null ? "running" : `exited (${w.child.exitCode ?? w.child.signalCode})`}`));
  const sessions = await db.$queryRaw<Array<{ pid: number; state: string | null; wait: string | null; age: string | null; query: string | null }>>`
    SELECT pid, state, wait_event_type || ':' || wait_event AS wait, (now() - xact_start)::text AS age, left(query, 160) AS query
    FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (state <> 'idle' OR wait_event_type = 'Lock')`;
  for (const s of sessions) console.log(`  session ${s.pid} ${s.state} wait ${s.wait ?? "—"} in transaction for ${s.age ?? "—"}: ${s.query}`);
}

/**
 * Payouts the provider holds more than once for one of our ids (a payout sent
 * twice), counted in each emulator's own records. Paytota keeps a never-executed
 * `initialized` payout when an initiate answer is lost; only executed ones move money.
 */
export async function duplicatesAtProviders(desk: Desk, ids: string[]): Promise<number> {
  const wanted = new Set(ids);
  const copies = new Map<string, number>();
  for (const provider of ["pawapay", "muda", "paytota", "praxis", "pontis"] as const) {
    const emulator = (await sandboxEmulator(provider, desk.t.desk)) as unknown as { payouts(): unknown[] };
    for (const record of emulator.payouts()) {
      if (provider === "paytota" && (record as { status?: string }).status === "initialized") continue;
      const text = JSON.stringify(record, (_k, v) => (typeof v === "bigint" ? String(v) : v));
      const ours = new Set([...text.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)].map((m) => m[0]).filter((id) => wanted.has(id)));
      for (const id of ours) copies.set(id, (copies.get(id) ?? 0) + 1);
    }
  }
  let duplicates = 0;
  for (const n of copies.values()) if (n > 1) duplicates += n - 1;
  return duplicates;
}

/** Payouts whose final status is not what the emulator's sandbox rules lead to. */
export async function wrongFinalStatuses(desk: Desk, ids: string[], planned: PlannedPayout[]): Promise<Array<{ id: string; expected: string; actual: string }>> {
  const rows = new Map((await desk.t.desk.db.payout.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } })).map((r) => [r.id, r.status]));
  const wrong: Array<{ id: string; expected: string; actual: string }> = [];
  ids.forEach((id, i) => {
    const actual = rows.get(id) as PayoutStatus | undefined;
    if (actual && isFinal(actual) && actual !== planned[i]!.expected) wrong.push({ id, expected: planned[i]!.expected, actual });
  });
  return wrong;
}

export async function inParallel(tasks: Array<() => Promise<void>>, concurrency: number): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, tasks.length) }, async () => {
    while (next < tasks.length) await tasks[next++]!();
  });
  await Promise.all(lanes);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A number argument `--name value` from the command line, or the default. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} takes a positive number`);
  return n;
}

export function stringArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** What sends the desk's payouts in a bench: the dispatcher in this process (PGlite), or worker processes (PostgreSQL). */
export interface Senders {
  dispatcher: Dispatcher | null;
  workers: WorkerProcess[];
}

export function noSenders(): Senders {
  return { dispatcher: null, workers: [] };
}

/**
 * Starts sending into `senders`: on PGlite the workers run in the desk's own
 * process, as `npm start` runs them; on PostgreSQL `workerCount` separate
 * `npm run workers` processes, as deployed at scale (their errors printed).
 */
export async function startSenders(desk: Desk, workerCount: number, senders: Senders): Promise<void> {
  if (desk.kind === "pglite") {
    // As `npm start` runs them: the product's default concurrency, not the test desk's smaller one.
    desk.t.desk.config = { ...desk.t.desk.config, sendConcurrency: DEFAULT_SEND_CONCURRENCY };
    senders.dispatcher = new Dispatcher(desk.t.desk);
    desk.t.desk.jobs = senders.dispatcher;
    senders.dispatcher.start();
    return;
  }
  for (let i = 0; i < workerCount; i++) {
    senders.workers.push(spawnWorker(desk, {}, (line) => (/error|fail/i.test(line) ? console.log(`  [worker ${i + 1}] ${line}`) : undefined)));
  }
  await waitForWorkers(desk, workerCount);
  console.log(`[${desk.kind}] ${workerCount} worker processes up`);
}

export async function stopSenders(senders: Senders): Promise<void> {
  await senders.dispatcher?.stop();
  for (const w of senders.workers) w.child.kill("SIGTERM");
  await Promise.all(senders.workers.map((w) => w.exited));
}

/** CPU time (ms) used so far by this process, its descendants (the worker processes) and the PostgreSQL server's processes on this machine. */
export interface CpuSnapshot {
  self: number;
  /** This process's main thread alone (the rest of `self`: the embedded database's thread, garbage collection, I/O). */
  selfMain: number;
  workers: number;
  postgres: number;
}

/**
 * Reads /proc (Linux; zeros elsewhere). Says where a payout's cost went
 * (this process, the workers, PostgreSQL). On a shared machine both this and
 * throughput vary from run to run (the machine's own speed changes: the same
 * work measured 16.6 and 21.9 ms a payout in two runs), so compare changes
 * over several runs. A process that ends between two snapshots loses its time,
 * so take both while the workers run.
 */
export function cpuSnapshot(): CpuSnapshot {
  const out: CpuSnapshot = { self: 0, selfMain: 0, workers: 0, postgres: 0 };
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  const ticksMs = 1000 / 100; // USER_HZ is 100 on Linux
  const read = (file: string) => {
    const stat = readFileSync(file, "utf8");
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    return { ppid: Number(fields[1]), comm: stat.slice(stat.indexOf("(") + 1, close), ms: (Number(fields[11]) + Number(fields[12])) * ticksMs };
  };
  const procs = new Map<number, { ppid: number; comm: string; ms: number }>();
  for (const pid of pids) {
    try {
      procs.set(Number(pid), read(`/proc/${pid}/stat`));
    } catch {
      // gone meanwhile
    }
  }
  try {
    out.selfMain = read(`/proc/${process.pid}/task/${process.pid}/stat`).ms;
  } catch {
    // not Linux
  }
  const descendsFromSelf = (pid: number): boolean => {
    for (let p = procs.get(pid)?.ppid, hops = 0; p && hops < 20; p = procs.get(p)?.ppid, hops++) if (p === process.pid) return true;
    return false;
  };
  for (const [pid, p] of procs) {
    if (pid === process.pid) out.self += p.ms;
    else if (descendsFromSelf(pid)) out.workers += p.ms;
    else if (p.comm === "postgres" || p.comm.startsWith("postgres:")) out.postgres += p.ms;
  }
  return out;
}

/** The CPU per payout between two snapshots, in words. */
export function cpuPerPayout(from: CpuSnapshot, to: CpuSnapshot, payouts: number, embedded = false): string {
  const per = (k: keyof CpuSnapshot) => (to[k] - from[k]) / payouts;
  const threads = `main thread ${per("selfMain").toFixed(1)}, other threads ${(per("self") - per("selfMain")).toFixed(1)}`;
  if (embedded) {
    // The embedded desk: everything in this process, the database on a thread of its own.
    return `CPU per payout ${per("self").toFixed(1)} ms, all in this process (${threads}: the embedded database's thread, garbage collection, I/O)`;
  }
  const total = per("self") + per("workers") + per("postgres");
  return `CPU per payout ${total.toFixed(1)} ms (this process: web, emulators, approvals ${per("self").toFixed(1)} [${threads}]; workers ${per("workers").toFixed(1)}; PostgreSQL ${per("postgres").toFixed(1)})`;
}
