// Reconciliation: the desk's payouts of one connection and period compared
// with the provider's own record, each difference kept until a person
// resolves it with a note.
//
// How the provider's truth is read:
// - Paytota: its company statement (request, poll until ready, download the
//   CSV; read by the connector's reader, paytota/statement.ts) for the
//   period widened by STATEMENT_MARGIN_MS on each side (the desk's send time
//   and Paytota's creation time differ by the length of a call), compared
//   line by line with the desk's payouts sent in the period.
// - Other providers: one status query per payout that was in flight at the
//   period's end or settled in it, at most DESK_RECONCILE_QUERIES_PER_SECOND
//   per connection. Only the payout id and the provider's reference are
//   given to the query, never the whole payout: PontisGlobe's status call
//   re-sends a payout it has no reference for, and a reconciliation must
//   never send money.
// What a difference means is decided in server/domain/reconciliation.ts.
//
// A run is a background job, leased like a payout (payout-work.ts): a queued
// ReconciliationRun is taken by a worker with FOR UPDATE SKIP LOCKED and a
// lease the worker renews; a dead worker's lease runs out and the next worker
// starts the run afresh. Every write of a run checks, in its transaction,
// that the lease is still this worker's, so a worker that lost it cannot
// write over its successor. Runs of one connection run one at a time (the
// take skips a connection with a live run), which keeps the per-connection
// query limit true across processes and gives "the next run" of a
// connection a meaning. No provider call is made inside a transaction and
// every transaction is short: a run never holds a payout row longer than
// one batch of `reconciledAt` writes, so it cannot hold payouts up.
//
// Carry-over: the unresolved exceptions of the connection's last finished
// run are carried into the next one as it finishes: a fresh exception for
// the same payout continues the chain (carriedFromId), otherwise a copy is
// made. Resolving any item of a chain resolves the whole chain.
import { createHash } from "node:crypto";
import type { Connection, Prisma } from "@/server/db/generated/client";
import type { Role } from "@/server/auth/roles";
import type { PayoutConnector, ProviderKind, ProviderResult, StatementApi } from "@/server/connectors/types";
import type { StatementLine, StatementReader } from "@/server/connectors/statement-lines";
import { readPaytotaStatement } from "@/server/connectors/paytota/statement";
import { IN_FLIGHT_STATUSES, type PayoutStatus } from "@/server/domain/payout-state";
import { addDays, startOfDay, wallClockOf, zonedDay } from "@/server/domain/statement";
import {
  EXCEPTION_KINDS,
  judge,
  RESULT_KINDS,
  unknownToDesk,
  type DeskSide,
  type Money,
  type ProviderSide,
  type ResultKind,
  type Verdict,
} from "@/server/domain/reconciliation";
import type { Actor, Db, Desk, Tx } from "./types";
import { Conflict, FieldErrors, Forbidden, NotFound } from "./errors";
import { audit } from "./audit";
import { openConnector } from "./connections";
import { askProviderSoon } from "./payout-work";
import { generalSettings } from "./settings";

/** Who may start a run and resolve an exception. */
export const RECONCILER_ROLES: readonly Role[] = ["approver", "admin"];

/** How long a worker holds a run without renewing it; a dead worker's run is taken up after at most this. */
export const RUN_LEASE_SECONDS = 30;
/** A run whose worker stopped this many times is failed rather than taken up again (a run that kills its worker must not loop). */
export const MAX_RUN_ATTEMPTS = 5;
/** The statement is asked for this much wider than the period on each side; see the top of the file. */
export const STATEMENT_MARGIN_MS = 10 * 60_000;
/** A payout sent in the period may have been created this long before (waiting for approval): how far back the desk looks. */
const CREATED_LOOKBACK_MS = 92 * 24 * 3600_000;
export const MAX_PERIOD_DAYS = 31;
const EARLIEST_PERIOD = new Date("2000-01-01T00:00:00Z");
const NOTE_MAX = 1000;
/** Results written per transaction: short transactions, so payouts are never waiting on a run. */
const BATCH = 100;
const FLUSH_EVERY_MS = 2_000;
const UNANSWERED_LISTED = 100;

/** Two-key advisory locks keep apart from the one-key ones (the migration lock); "reco" in ASCII. */
const RECONCILIATION_LOCK_CLASS = 0x7265636f;

/** Providers whose statements the desk can read, and their readers. */
const STATEMENT_READERS: Partial<Record<ProviderKind, StatementReader>> = { paytota: readPaytotaStatement };

export type RunMethod = "statement" | "status_queries";

export function methodFor(provider: ProviderKind | string): RunMethod {
  return STATEMENT_READERS[provider as ProviderKind] ? "statement" : "status_queries";
}

// ---------------------------------------------------------------- settings

export interface ReconciliationSettings {
  /** Status queries per second per connection (DESK_RECONCILE_QUERIES_PER_SECOND, default 5). */
  queriesPerSecond: number;
  /** Daily run time in the desk's zone (DESK_RECONCILE_DAILY_AT, HH:MM), or null: no daily run (the default). */
  dailyAt: { hour: number; minute: number } | null;
  /** How long a run waits for a provider's statement to be ready (DESK_RECONCILE_STATEMENT_WAIT_MINUTES, default 15). */
  statementWaitMinutes: number;
}

export function readReconciliationSettings(env: Record<string, string | undefined> = process.env): ReconciliationSettings {
  const rate = env.DESK_RECONCILE_QUERIES_PER_SECOND;
  const queriesPerSecond = rate === undefined || rate === "" ? 5 : Number(rate);
  if (!Number.isInteger(queriesPerSecond) || queriesPerSecond < 1 || queriesPerSecond > 100) {
    throw new Error(`DESK_RECONCILE_QUERIES_PER_SECOND must be a whole number from 1 to 100, not "${rate}"`);
  }
  const daily = env.DESK_RECONCILE_DAILY_AT?.trim();
  let dailyAt: ReconciliationSettings["dailyAt"] = null;
  if (daily && daily !== "off") {
    const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(daily);
    if (!match) throw new Error(`DESK_RECONCILE_DAILY_AT must be a time of day as HH:MM (24-hour, e.g. 02:00) or "off", not "${daily}"`);
    dailyAt = { hour: Number(match[1]), minute: Number(match[2]) };
  }
  const wait = env.DESK_RECONCILE_STATEMENT_WAIT_MINUTES;
  const statementWaitMinutes = wait === undefined || wait === "" ? 15 : Number(wait);
  if (!Number.isFinite(statementWaitMinutes) || statementWaitMinutes <= 0) {
    throw new Error(`DESK_RECONCILE_STATEMENT_WAIT_MINUTES must be a positive number of minutes, not "${wait}"`);
  }
  return { queriesPerSecond, dailyAt, statementWaitMinutes };
}

// ---------------------------------------------------------------- errors of a run

/** The worker no longer holds the run (its lease ran out and another took it): stop without writing. */
class LeaseLost extends Error {}
/** The worker is stopping: give the run back to the queue. */
class Stopped extends Error {}

function requireReconciler(actor: Actor): void {
  if (!RECONCILER_ROLES.includes(actor.role)) throw new Forbidden(`This needs the approver or admin role; you are ${actor.role}`, "reconciliation.role");
}

async function lockConnection(tx: Tx, connectionId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${RECONCILIATION_LOCK_CLASS}::int4, hashtext(${connectionId}))`;
}

function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

// ---------------------------------------------------------------- starting

export interface StartInput {
  connectionId: string;
  periodFrom: Date;
  periodTo: Date;
}

/** Refusals of a period, each naming its field and rule. */
export function periodProblems(periodFrom: Date, periodTo: Date, now = new Date()): Record<string, string> {
  const problems: Record<string, string> = {};
  if (periodFrom < EARLIEST_PERIOD) problems.periodFrom = "The period must start on 1 January 2000 or later";
  if (periodTo <= periodFrom) problems.periodTo = "The period must end after it starts";
  else if (periodTo.getTime() - periodFrom.getTime() > MAX_PERIOD_DAYS * 24 * 3600_000) {
    const days = Math.ceil((periodTo.getTime() - periodFrom.getTime()) / (24 * 3600_000));
    problems.periodTo = `A period is at most ${MAX_PERIOD_DAYS} days; this one is ${days} days`;
  }
  if (!problems.periodTo && periodTo.getTime() > now.getTime() + 24 * 3600_000) problems.periodTo = "The period must not end more than a day from now";
  return problems;
}

/**
 * Queues a run for a connection and period (approver or admin; audited). A
 * run of the same connection and period already queued or running is
 * answered instead of a second one.
 */
export async function startReconciliation(desk: Desk, actor: Actor, input: StartInput, ip?: string, now = new Date()) {
  requireReconciler(actor);
  const problems = periodProblems(input.periodFrom, input.periodTo, now);
  if (Object.keys(problems).length) throw new FieldErrors(problems);
  const connection = await desk.db.connection.findUnique({ where: { id: input.connectionId }, select: { id: true, name: true, provider: true } });
  if (!connection) throw new FieldErrors({ connectionId: "No connection has this id; choose one from the list" });
  return desk.db.$transaction(async (tx) => {
    await lockConnection(tx, connection.id);
    const existing = await tx.reconciliationRun.findFirst({
      where: { connectionId: connection.id, periodFrom: input.periodFrom, periodTo: input.periodTo, status: { in: ["queued", "running"] } },
    });
    if (existing) return { run: existing, existing: true };
    const run = await tx.reconciliationRun.create({
      data: {
        connectionId: connection.id,
        periodFrom: input.periodFrom,
        periodTo: input.periodTo,
        status: "queued",
        method: methodFor(connection.provider),
        requestedById: actor.id,
        scheduled: false,
      },
    });
    await audit(tx, {
      actorId: actor.id,
      action: "reconciliation.start",
      entityType: "reconciliation_run",
      entityId: run.id,
      details: { connectionId: connection.id, connection: connection.name, periodFrom: input.periodFrom.toISOString(), periodTo: input.periodTo.toISOString() },
      ip,
    });
    return { run, existing: false };
  });
}

// ---------------------------------------------------------------- daily schedule

/**
 * The day the daily run at `now` should cover, in the desk's zone: the day
 * before the last daily time that has passed (at 02:00 on the 5th, the 4th;
 * at 01:00 on the 5th, still the 3rd, whose run was due at 02:00 on the 4th
 * and may have been missed while no worker ran).
 */
export function dailyPeriod(now: Date, dailyAt: { hour: number; minute: number }, zone: string): { periodFrom: Date; periodTo: Date } {
  const clock = wallClockOf(now, zone);
  const passed = clock.hour > dailyAt.hour || (clock.hour === dailyAt.hour && clock.minute >= dailyAt.minute);
  const covered = addDays(zonedDay(now, zone), passed ? -1 : -2);
  return { periodFrom: startOfDay(covered, zone), periodTo: startOfDay(addDays(covered, 1), zone) };
}

/** The one id a scheduled run of a connection and period can have: every worker may try to create it, and it exists once. */
export function scheduledRunId(connectionId: string, periodFrom: Date, periodTo: Date): string {
  const hex = createHash("sha256").update(`reconciliation:daily:${connectionId}:${periodFrom.toISOString()}:${periodTo.toISOString()}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Queues the daily run of every enabled connection, once: the run id is a
 * function of connection and period, so a second worker's insert is a no-op.
 * Returns the ids of the runs this call created.
 */
export async function ensureDailyRuns(desk: Desk, settings: Pick<ReconciliationSettings, "dailyAt">, now = new Date()): Promise<string[]> {
  if (!settings.dailyAt) return [];
  // Read each time: an admin may change the desk's zone (Settings → General) while workers run.
  const { timeZone } = await generalSettings(desk.db);
  const { periodFrom, periodTo } = dailyPeriod(now, settings.dailyAt, timeZone);
  const connections = await desk.db.connection.findMany({ where: { enabled: true }, select: { id: true, name: true, provider: true } });
  const created: string[] = [];
  for (const connection of connections) {
    const id = scheduledRunId(connection.id, periodFrom, periodTo);
    await desk.db.$transaction(async (tx) => {
      const inserted = await tx.reconciliationRun.createMany({
        data: [{ id, connectionId: connection.id, periodFrom, periodTo, status: "queued", method: methodFor(connection.provider), scheduled: true }],
        skipDuplicates: true,
      });
      if (inserted.count !== 1) return;
      created.push(id);
      await audit(tx, {
        action: "reconciliation.scheduled",
        entityType: "reconciliation_run",
        entityId: id,
        details: { connectionId: connection.id, connection: connection.name, periodFrom: periodFrom.toISOString(), periodTo: periodTo.toISOString() },
      });
    });
  }
  return created;
}

// ---------------------------------------------------------------- the run queue

export interface TakenRun {
  id: string;
  connectionId: string;
  attempts: number;
}

/**
 * Takes the next run for `owner`: a run whose worker died (lease run out)
 * first, then the oldest queued, skipping connections with a live run. The
 * take itself is serialised by an advisory lock, so two workers cannot each
 * start a different run of one connection.
 */
export async function takeRun(db: Db, opts: { owner: string; now?: Date; leaseSeconds?: number }): Promise<TakenRun | null> {
  const rows = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${RECONCILIATION_LOCK_CLASS}::int4, 0)`;
    // The time is read once the lock is held (a take that waited for it must not judge leases by
    // the time it asked), and the run starts at the statement's own time: a run it finds finished
    // was finished before this statement began, so the next run of the connection never appears
    // to start before the previous one ended.
    const now = opts.now ?? new Date();
    const leaseUntil = new Date(now.getTime() + (opts.leaseSeconds ?? RUN_LEASE_SECONDS) * 1000);
    return tx.$queryRaw<Array<{ id: string; connectionId: string; attempts: number }>>`
      UPDATE "ReconciliationRun" AS r SET
        status = 'running', "leaseOwner" = ${opts.owner}, "leaseUntil" = ${leaseUntil},
        "startedAt" = COALESCE(${opts.now ?? null}::timestamptz, statement_timestamp()),
        "finishedAt" = NULL, done = 0, error = NULL,
        summary = jsonb_build_object('attempts', COALESCE((r.summary->>'attempts')::int, 0) + 1, 'phase', 'starting')
      FROM (
        SELECT c.id FROM "ReconciliationRun" c
        WHERE (c.status = 'queued' OR (c.status = 'running' AND c."leaseUntil" < ${now}))
          AND NOT EXISTS (
            SELECT 1 FROM "ReconciliationRun" o
            WHERE o."connectionId" = c."connectionId" AND o.id <> c.id AND o.status = 'running' AND o."leaseUntil" >= ${now}
          )
        ORDER BY (c.status = 'running') DESC, c."createdAt", c.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
      ) AS due
      WHERE r.id = due.id
      RETURNING r.id::text AS id, r."connectionId"::text AS "connectionId", (r.summary->>'attempts')::int AS attempts`;
  });
  const row = rows[0];
  return row ? { id: row.id, connectionId: row.connectionId, attempts: Number(row.attempts) } : null;
}

/** Extends the leases `owner` holds on runs it is still working on. */
export async function renewRunLeases(db: Db, owner: string, runIds: string[], leaseSeconds = RUN_LEASE_SECONDS): Promise<void> {
  if (runIds.length === 0) return;
  await db.reconciliationRun.updateMany({
    where: { id: { in: runIds }, leaseOwner: owner, status: "running" },
    data: { leaseUntil: new Date(Date.now() + leaseSeconds * 1000) },
  });
}

/** Gives a run back to the queue (the worker is stopping); the next worker starts it afresh. */
export async function releaseRun(db: Db, runId: string, owner: string): Promise<void> {
  await db.reconciliationRun.updateMany({
    where: { id: runId, leaseOwner: owner, status: "running" },
    data: { status: "queued", leaseOwner: null, leaseUntil: null, done: 0 },
  });
}

// ---------------------------------------------------------------- rate limit

/** At most `perSecond` starts in any one-second window (a sliding window of start times). */
export class RateLimiter {
  private readonly starts: number[] = [];
  constructor(
    readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const t = this.now();
      while (this.starts.length && t - this.starts[0]! >= 1000) this.starts.shift();
      if (this.starts.length < this.perSecond) {
        this.starts.push(t);
        return;
      }
      await sleep(1000 - (t - this.starts[0]!), signal);
    }
  }
}

// One per connection in this process: only one run of a connection runs at a time anywhere (see takeRun).
const limiters = new Map<string, RateLimiter>();

function limiterFor(connectionId: string, perSecond: number): RateLimiter {
  const existing = limiters.get(connectionId);
  if (existing && existing.perSecond === perSecond) return existing;
  const limiter = new RateLimiter(perSecond);
  limiters.set(connectionId, limiter);
  return limiter;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Stopped());
    const timer = setTimeout(done, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Stopped());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    function done() {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }
  });
}

// ---------------------------------------------------------------- running

export interface RunOptions {
  settings: Pick<ReconciliationSettings, "queriesPerSecond" | "statementWaitMinutes">;
  /** Aborted when the worker stops: the run is given back to the queue. */
  signal?: AbortSignal;
}

export type RunOutcome = "done" | "failed" | "lost" | "stopped";

const DESK_SELECT = {
  id: true,
  status: true,
  amountMinor: true,
  currency: true,
  feeMinor: true,
  feeCurrency: true,
  debitedMinor: true,
  debitedCurrency: true,
  providerReference: true,
  finalizedAt: true,
  submittedAt: true,
} as const;

type DeskRow = Prisma.PayoutGetPayload<{ select: typeof DESK_SELECT }>;

function deskSide(row: DeskRow): DeskSide {
  return {
    payoutId: row.id,
    status: row.status as PayoutStatus,
    amount: { amountMinor: row.amountMinor, currency: row.currency },
    fee: row.feeMinor === null ? null : { amountMinor: row.feeMinor, currency: row.feeCurrency ?? row.currency },
    debited: row.debitedMinor === null ? null : { amountMinor: row.debitedMinor, currency: row.debitedCurrency ?? row.currency },
    providerReference: row.providerReference,
    finalizedAt: row.finalizedAt,
  };
}

function moneyJson(money: Money | null | undefined): { minor: string; currency: string } | null {
  return money ? { minor: money.amountMinor.toString(), currency: money.currency } : null;
}

/** The desk's side as stored on an item (amounts as minor-unit strings; a fee of null is "not reported"). */
function deskJson(row: DeskRow): Prisma.InputJsonValue {
  const side = deskSide(row);
  return {
    status: side.status,
    amount: moneyJson(side.amount),
    fee: moneyJson(side.fee),
    debited: moneyJson(side.debited),
    providerReference: side.providerReference,
    finalizedAt: side.finalizedAt?.toISOString() ?? null,
  };
}

function providerJson(side: ProviderSide, extra: Record<string, string | number | null> = {}): Prisma.InputJsonValue {
  return {
    state: side.state,
    status: side.providerStatus,
    providerReference: side.providerReference,
    amount: moneyJson(side.amount),
    fee: moneyJson(side.fee),
    debited: moneyJson(side.debited),
    ...extra,
  };
}

function lineSide(line: StatementLine): ProviderSide {
  return { state: line.state, providerStatus: line.providerStatus, providerReference: line.providerReference, amount: line.amount, fee: line.fee };
}

function lineExtra(line: StatementLine): Record<string, string | number | null> {
  return { line: line.line, reference: line.reference, createdAt: line.createdAt?.toISOString() ?? null };
}

function answerSide(result: ProviderResult, asked: { providerReference: string | null }): ProviderSide {
  // An answer without the provider's own word and without a state is one we could not get.
  const answered = result.state !== "unknown" || result.providerStatus !== undefined;
  return {
    state: result.state,
    providerStatus: answered ? (result.providerStatus ?? (result.state === "not_found" ? null : result.state)) : null,
    providerReference: result.providerReference ?? asked.providerReference,
    fee: result.fee ?? null,
    debited: result.debited ?? null,
  };
}

interface Summary {
  attempts?: number;
  phase?: string;
  statementId?: string;
  lines?: number;
  inFlight?: number;
  unanswered?: number;
  unansweredPayouts?: Array<{ payoutId: string; detail: string }>;
  /** Paytota payouts created for a desk payout and never executed (a lost initiate answer): no money moved. */
  orphans?: number;
  counts?: Partial<Record<ResultKind, number>>;
  carried?: number;
  [key: string]: unknown;
}

/**
 * Does the run `owner` has taken. Never throws: a provider or statement
 * problem fails the run with its reason; a lost lease stops without a write;
 * a stopping worker gives the run back to the queue.
 */
export async function executeRun(desk: Desk, runId: string, owner: string, opts: RunOptions): Promise<RunOutcome> {
  const run = await desk.db.reconciliationRun.findUnique({ where: { id: runId }, include: { connection: true } });
  if (!run || run.status !== "running" || run.leaseOwner !== owner) return "lost";
  const work = new RunWork(desk, run, run.connection, owner, opts);
  try {
    await work.execute();
    return "done";
  } catch (error) {
    if (error instanceof LeaseLost) return "lost";
    if (error instanceof Stopped) {
      await releaseRun(desk.db, runId, owner).catch((e) => console.error(`[reconciliation] could not give run ${runId} back`, e));
      return "stopped";
    }
    const message = error instanceof Error ? error.message : String(error);
    try {
      await work.fail(message);
    } catch (failError) {
      if (!(failError instanceof LeaseLost)) console.error(`[reconciliation] could not record the failure of run ${runId}`, failError);
      return "lost";
    }
    return "failed";
  }
}

type RunRow = Prisma.ReconciliationRunGetPayload<object>;

class RunWork {
  private summary: Summary;
  private total = 0;
  private done = 0;
  private items: Prisma.ReconciliationItemCreateManyInput[] = [];
  private matched: string[] = [];
  private exceptions: string[] = [];
  private nudges: string[] = [];
  private lastFlush = Date.now();
  private readonly method: RunMethod;

  constructor(
    private readonly desk: Desk,
    private readonly run: RunRow,
    private readonly connection: Connection,
    private readonly owner: string,
    private readonly opts: RunOptions,
  ) {
    this.summary = { ...((run.summary as Summary | null) ?? {}) };
    this.method = methodFor(connection.provider);
  }

  async execute(): Promise<void> {
    const attempts = Number(this.summary.attempts ?? 1);
    if (attempts > MAX_RUN_ATTEMPTS) {
      throw new Error(`A worker stopped during this run ${attempts - 1} times, so it is not taken up again; start a new run`);
    }
    // A run taken up after a dead worker starts afresh: the earlier attempt's results go.
    await this.write({ phase: "starting" }, (tx) => tx.reconciliationItem.deleteMany({ where: { runId: this.run.id } }));
    const connector = openConnector(this.desk, this.connection);
    const reader = STATEMENT_READERS[this.connection.provider as ProviderKind];
    if (this.method === "statement" && connector.statements && reader) await this.byStatement(connector.statements, reader);
    else if (connector.capabilities.statusQuery) await this.byStatusQueries();
    else throw new Error(`${this.connection.name} offers neither statements nor status queries, so its payouts cannot be compared`);
    await this.finish();
  }

  // ---------------------------------------------------------- writing

  private checkStop(): void {
    if (this.opts.signal?.aborted) throw new Stopped();
  }

  /** A write of this run, in one transaction that first proves the lease is still ours (and records progress). */
  private async write<T>(summary: Partial<Summary>, fn?: (tx: Tx) => Promise<T>, data: Prisma.ReconciliationRunUpdateManyMutationInput = {}): Promise<T | undefined> {
    Object.assign(this.summary, summary);
    return this.desk.db.$transaction(async (tx) => {
      const held = await tx.reconciliationRun.updateMany({
        where: { id: this.run.id, leaseOwner: this.owner, status: "running" },
        data: { method: this.method, total: this.total, done: this.done, summary: this.summary as Prisma.InputJsonValue, ...data },
      });
      if (held.count !== 1) throw new LeaseLost();
      return fn ? fn(tx) : undefined;
    });
  }

  private record(verdict: Verdict, item: { payoutId: string | null; providerReference: string | null; desk?: Prisma.InputJsonValue; provider?: Prisma.InputJsonValue }): void {
    this.done++;
    if (verdict.kind === "in_flight") {
      this.summary.inFlight = (this.summary.inFlight ?? 0) + 1;
      if (verdict.providerFinal && item.payoutId) this.nudges.push(item.payoutId);
      return;
    }
    if (verdict.kind === "unanswered") {
      this.summary.unanswered = (this.summary.unanswered ?? 0) + 1;
      const listed = (this.summary.unansweredPayouts ??= []);
      if (item.payoutId && listed.length < UNANSWERED_LISTED) listed.push({ payoutId: item.payoutId, detail: verdict.detail });
      return;
    }
    this.items.push({
      runId: this.run.id,
      connectionId: this.connection.id,
      payoutId: item.payoutId,
      providerReference: item.providerReference,
      kind: verdict.kind,
      desk: item.desk,
      provider: item.provider,
      detail: verdict.detail,
    });
    if (item.payoutId && verdict.kind === "matched") this.matched.push(item.payoutId);
    // A payout with an exception is no longer "reconciled", whatever an earlier run found. An unknown-to-desk
    // line that names a desk payout is about another payout at the provider, not about that payout's own record.
    else if (item.payoutId && verdict.kind !== "unknown_to_desk") this.exceptions.push(item.payoutId);
  }

  private async flushIfDue(force = false): Promise<void> {
    if (!force && this.items.length + this.nudges.length < BATCH && Date.now() - this.lastFlush < FLUSH_EVERY_MS) return;
    this.checkStop();
    const items = this.items.splice(0);
    const matched = this.matched.splice(0);
    const exceptions = this.exceptions.splice(0);
    const nudges = this.nudges.splice(0);
    const at = new Date();
    await this.write({}, async (tx) => {
      if (items.length) await tx.reconciliationItem.createMany({ data: items });
      // Raw, so the payout's updatedAt (its last change of substance) stays as it was.
      if (matched.length) await tx.$executeRaw`UPDATE "Payout" SET "reconciledAt" = ${at} WHERE id = ANY(${matched}::uuid[])`;
      if (exceptions.length) await tx.$executeRaw`UPDATE "Payout" SET "reconciledAt" = NULL WHERE id = ANY(${exceptions}::uuid[]) AND "reconciledAt" IS NOT NULL`;
    });
    // The provider is final about a payout the desk still has in flight: let the desk's own status check run now.
    let woke = false;
    for (const id of nudges) woke = (await askProviderSoon(this.desk.db, id).catch(() => false)) || woke;
    if (woke) this.desk.jobs.wake();
    this.lastFlush = Date.now();
  }

  // ---------------------------------------------------------- statements

  private async byStatement(api: StatementApi, read: StatementReader): Promise<void> {
    const from = this.run.periodFrom;
    const to = this.run.periodTo;
    await this.write({ phase: "requesting the statement" });
    const requestedAt = new Date();
    let status = await this.retrying("statement request", () =>
      api.request({ from: new Date(from.getTime() - STATEMENT_MARGIN_MS), to: new Date(to.getTime() + STATEMENT_MARGIN_MS), format: "csv" }),
    );
    await this.write({ phase: "waiting for the statement", statementId: status.id });
    const deadline = Date.now() + this.opts.settings.statementWaitMinutes * 60_000;
    let delay = 500;
    while (status.state === "pending") {
      if (Date.now() > deadline) {
        throw new Error(`The provider's statement ${status.id} was not ready after ${this.opts.settings.statementWaitMinutes} minutes`);
      }
      await sleep(delay, this.opts.signal);
      delay = Math.min(delay * 2, 10_000);
      const id = status.id;
      status = await this.retrying("statement status query", () => api.status(id));
    }
    if (status.state === "failed") throw new Error(`The provider could not make the statement ${status.id}`);
    await this.write({ phase: "reading the statement" });
    const ready = status;
    const file = await this.retrying("statement download", () => api.download(ready));
    const lines = read(file.body);
    this.checkStop();

    // The desk's side: payouts sent in the period (a payout reaches Paytota when the desk sends it).
    const inPeriod = await this.desk.db.payout.findMany({
      where: {
        connectionId: this.connection.id,
        createdAt: { gte: new Date(from.getTime() - CREATED_LOOKBACK_MS), lt: to },
        submittedAt: { gte: from, lt: to },
      },
      select: DESK_SELECT,
    });
    const deskById = new Map(inPeriod.map((p) => [p.id, p]));
    const withinPeriod = (line: StatementLine) => !line.createdAt || (line.createdAt >= from && line.createdAt < to);
    // A line of the period may name a desk payout sent just outside it (its send and Paytota's creation straddle the edge).
    const named = [...new Set(lines.filter((l) => withinPeriod(l) && l.payoutId && !deskById.has(l.payoutId)).map((l) => l.payoutId!))];
    const extra = named.length
      ? await this.desk.db.payout.findMany({ where: { id: { in: named }, connectionId: this.connection.id }, select: DESK_SELECT })
      : [];
    const extraById = new Map(extra.map((p) => [p.id, p]));
    const byReference = new Map<string, DeskRow>();
    for (const p of [...inPeriod, ...extra]) if (p.providerReference) byReference.set(p.providerReference, p);

    const lineOf = new Map<string, StatementLine>();
    const unknown: Array<{ line: StatementLine; payoutId: string | null; why: string }> = [];
    let orphans = 0;
    for (const line of lines) {
      const own = byReference.get(line.providerReference);
      if (own && (deskById.has(own.id) || withinPeriod(line))) {
        lineOf.set(own.id, line);
        continue;
      }
      // Lines of the margin belong to the neighbouring periods unless they are the record of a payout of this one.
      if (!withinPeriod(line)) continue;
      const payout = line.payoutId ? (deskById.get(line.payoutId) ?? extraById.get(line.payoutId)) : undefined;
      if (!payout) {
        unknown.push({ line, payoutId: null, why: "that no desk payout accounts for" });
        continue;
      }
      if (line.state === "not_found") {
        // Created for a desk payout and never executed: the trace of a lost initiate answer. No money moved.
        orphans++;
        continue;
      }
      if (payout.providerReference === null && !lineOf.has(payout.id)) {
        lineOf.set(payout.id, line);
        continue;
      }
      unknown.push({
        line,
        payoutId: payout.id,
        why: `made for desk payout ${payout.id}, which holds ${payout.providerReference ? `Paytota payout ${payout.providerReference}` : "another line"}: a second payout at the provider`,
      });
    }

    const compared = [...inPeriod, ...extra.filter((p) => lineOf.has(p.id))];
    this.total = compared.length + unknown.length;
    await this.write({ phase: "comparing", lines: lines.length, orphans });
    for (const payout of compared) {
      const line = lineOf.get(payout.id) ?? null;
      const verdict = judge(deskSide(payout), line ? lineSide(line) : null, { snapshotAt: requestedAt });
      this.record(verdict, {
        payoutId: payout.id,
        providerReference: line?.providerReference ?? payout.providerReference,
        desk: deskJson(payout),
        provider: line ? providerJson(lineSide(line), lineExtra(line)) : undefined,
      });
      await this.flushIfDue();
    }
    for (const { line, payoutId, why } of unknown) {
      this.record(unknownToDesk(lineSide(line), why), {
        payoutId,
        providerReference: line.providerReference,
        provider: providerJson(lineSide(line), lineExtra(line)),
      });
      await this.flushIfDue();
    }
    await this.flushIfDue(true);
  }

  /** A statement call, tried up to three times: one lost answer should not fail a run that may have waited minutes. */
  private async retrying<T>(what: string, call: () => Promise<T>): Promise<T> {
    let last: unknown;
    for (const wait of [0, 2_000, 5_000]) {
      if (wait) await sleep(wait, this.opts.signal);
      this.checkStop();
      try {
        return await call();
      } catch (error) {
        last = error;
      }
    }
    throw new Error(`The ${what} failed three times: ${(last as Error)?.message ?? last}`);
  }

  // ---------------------------------------------------------- status queries

  private async byStatusQueries(): Promise<void> {
    const from = this.run.periodFrom;
    const to = this.run.periodTo;
    const where: Prisma.PayoutWhereInput = {
      connectionId: this.connection.id,
      submittedAt: { not: null },
      OR: [{ status: { in: [...IN_FLIGHT_STATUSES] }, submittedAt: { lt: to } }, { finalizedAt: { gte: from, lt: to } }],
    };
    this.total = await this.desk.db.payout.count({ where });
    await this.write({ phase: "asking the provider" });
    const limiter = limiterFor(this.connection.id, this.opts.settings.queriesPerSecond);
    let cursor: string | undefined;
    for (;;) {
      const page = await this.desk.db.payout.findMany({
        where,
        select: DESK_SELECT,
        orderBy: { id: "asc" },
        take: 200,
        ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      });
      if (page.length === 0) break;
      cursor = page.at(-1)!.id;
      for (const payout of page) {
        this.checkStop();
        await limiter.take(this.opts.signal);
        const connector: PayoutConnector = openConnector(this.desk, this.connection, payout.id);
        let result: ProviderResult;
        try {
          // The id and the reference only: see the top of the file (a status query must never be able to send).
          result = await connector.status({ payoutId: payout.id, providerReference: payout.providerReference });
        } catch (error) {
          result = { state: "unknown", failureMessage: (error as Error).message };
        }
        const side = answerSide(result, payout);
        const verdict = judge(deskSide(payout), side.state === "not_found" && side.providerStatus === null ? null : side);
        const shown = verdict.kind === "unanswered" && result.failureMessage ? { ...verdict, detail: `${verdict.detail}: ${result.failureMessage}` } : verdict;
        this.record(shown, {
          payoutId: payout.id,
          providerReference: side.providerReference,
          desk: deskJson(payout),
          provider: side.state === "not_found" && side.providerStatus === null ? undefined : providerJson(side),
        });
        await this.flushIfDue();
      }
    }
    // The count may have moved while we asked (a payout settled into the period): the work done is the total.
    this.total = this.done;
    await this.flushIfDue(true);
  }

  // ---------------------------------------------------------- finishing

  private async finish(): Promise<void> {
    this.checkStop();
    const runId = this.run.id;
    const connectionId = this.connection.id;
    Object.assign(this.summary, { phase: "done" });
    await this.desk.db.$transaction(async (tx) => {
      // Against a resolution of the same chain at this moment: both take this lock.
      await lockConnection(tx, connectionId);
      const previous = await tx.reconciliationRun.findFirst({
        where: { connectionId, status: "done", id: { not: runId } },
        orderBy: [{ finishedAt: "desc" }, { createdAt: "desc" }],
        select: { id: true },
      });
      const heads = previous
        ? await tx.reconciliationItem.findMany({ where: { runId: previous.id, kind: { in: [...EXCEPTION_KINDS] }, resolvedAt: null } })
        : [];
      const fresh = await tx.reconciliationItem.findMany({
        where: { runId, kind: { in: [...EXCEPTION_KINDS] } },
        select: { id: true, payoutId: true, providerReference: true, kind: true },
      });
      const freshByKey = new Map(fresh.map((f) => [chainKey(f), f]));
      const headPayouts = heads.map((h) => h.payoutId).filter((id): id is string => id !== null);
      const matchedNow = new Set(
        headPayouts.length
          ? (await tx.reconciliationItem.findMany({ where: { runId, kind: "matched", payoutId: { in: headPayouts } }, select: { payoutId: true } })).map((m) => m.payoutId)
          : [],
      );
      const copies: Prisma.ReconciliationItemCreateManyInput[] = [];
      for (const head of heads) {
        const same = freshByKey.get(chainKey(head));
        if (same) {
          // Found again: the fresh exception continues the chain.
          freshByKey.delete(chainKey(head));
          await tx.reconciliationItem.update({ where: { id: same.id }, data: { carriedFromId: head.id } });
          continue;
        }
        const note = head.payoutId && matchedNow.has(head.payoutId) ? " — This run found it matched; resolve it with a note to close it." : "";
        copies.push({
          runId,
          connectionId,
          payoutId: head.payoutId,
          providerReference: head.providerReference,
          kind: head.kind,
          desk: (head.desk ?? undefined) as Prisma.InputJsonValue | undefined,
          provider: (head.provider ?? undefined) as Prisma.InputJsonValue | undefined,
          detail: `${head.detail ?? ""}${note}`,
          carriedFromId: head.id,
        });
      }
      if (copies.length) await tx.reconciliationItem.createMany({ data: copies });
      const grouped = await tx.reconciliationItem.groupBy({ by: ["kind"], where: { runId }, _count: { _all: true } });
      const counts: Partial<Record<ResultKind, number>> = {};
      for (const g of grouped) counts[g.kind as ResultKind] = g._count._all;
      Object.assign(this.summary, { counts, carried: heads.length });
      const held = await tx.reconciliationRun.updateMany({
        where: { id: runId, leaseOwner: this.owner, status: "running" },
        data: {
          status: "done",
          method: this.method,
          total: this.total,
          done: this.done,
          summary: this.summary as Prisma.InputJsonValue,
          finishedAt: new Date(),
          leaseOwner: null,
          leaseUntil: null,
        },
      });
      if (held.count !== 1) throw new LeaseLost();
    });
  }

  async fail(message: string): Promise<void> {
    // A failed run has no results: a part of a comparison would read as "everything else matched".
    await this.write(
      { phase: "failed" },
      (tx) => tx.reconciliationItem.deleteMany({ where: { runId: this.run.id } }),
      { status: "failed", error: message.slice(0, 2000), finishedAt: new Date(), leaseOwner: null, leaseUntil: null },
    );
  }
}

/** What makes two exceptions of different runs the same one: the payout, or for a line unknown to the desk, the provider's payout. */
function chainKey(item: { payoutId: string | null; providerReference: string | null; kind: string }): string {
  if (item.kind === "unknown_to_desk" || item.payoutId === null) return `provider:${item.providerReference ?? ""}`;
  return `payout:${item.payoutId}`;
}

// ---------------------------------------------------------------- resolving

/**
 * Resolves an exception with a note (approver or admin; audited). The note
 * goes on every item of its chain (the same exception carried from run to
 * run), so it is closed wherever it is shown.
 */
export async function resolveItem(desk: Desk, actor: Actor, input: { itemId: string; note: string }, ip?: string) {
  requireReconciler(actor);
  const note = input.note.trim();
  if (!note) throw new FieldErrors({ note: "A note is required: say why the difference is accepted or how it was settled" });
  if (note.length > NOTE_MAX) throw new FieldErrors({ note: `${NOTE_MAX.toLocaleString("en")} characters at most; this has ${note.length.toLocaleString("en")}` });
  const first = await desk.db.reconciliationItem.findUnique({ where: { id: input.itemId }, select: { connectionId: true } });
  if (!first) throw new NotFound("Reconciliation item");
  return desk.db.$transaction(async (tx) => {
    await lockConnection(tx, first.connectionId);
    const item = await tx.reconciliationItem.findUniqueOrThrow({ where: { id: input.itemId }, include: { run: { select: { createdAt: true } } } });
    if (item.kind === "matched") throw new Conflict("A matched payout has nothing to resolve");
    if (item.resolvedAt) throw new Conflict(`This exception was already resolved at ${utc(item.resolvedAt)}`);
    const chain = new Set<string>([item.id]);
    for (let at = item.carriedFromId; at && !chain.has(at); ) {
      chain.add(at);
      at = (await tx.reconciliationItem.findUnique({ where: { id: at }, select: { carriedFromId: true } }))?.carriedFromId ?? null;
    }
    // Later copies live in the connection's later runs (an index on runId, rather than a scan for carriedFromId).
    const later = await tx.reconciliationRun.findMany({
      where: { connectionId: item.connectionId, createdAt: { gte: item.run.createdAt } },
      select: { id: true },
    });
    let frontier = [item.id];
    while (frontier.length && later.length) {
      const next = await tx.reconciliationItem.findMany({
        where: { runId: { in: later.map((r) => r.id) }, carriedFromId: { in: frontier } },
        select: { id: true },
      });
      frontier = next.map((n) => n.id).filter((id) => !chain.has(id));
      for (const id of frontier) chain.add(id);
    }
    const at = new Date();
    const resolved = await tx.reconciliationItem.updateMany({
      where: { id: { in: [...chain] }, resolvedAt: null },
      data: { resolvedAt: at, resolvedById: actor.id, resolutionNote: note },
    });
    await audit(tx, {
      actorId: actor.id,
      action: "reconciliation.resolve",
      entityType: "reconciliation_item",
      entityId: item.id,
      details: { runId: item.runId, connectionId: item.connectionId, payoutId: item.payoutId, kind: item.kind, note, items: [...chain] },
      ip,
    });
    return { resolved: resolved.count, resolvedAt: at };
  });
}

// ---------------------------------------------------------------- reading

export interface ReconcilableConnection {
  id: string;
  name: string;
  provider: string;
  enabled: boolean;
  method: RunMethod;
}

export async function reconcilableConnections(desk: Desk): Promise<ReconcilableConnection[]> {
  const rows = await desk.db.connection.findMany({ select: { id: true, name: true, provider: true, enabled: true }, orderBy: { name: "asc" } });
  return rows.map((c) => ({ ...c, method: methodFor(c.provider) }));
}

async function userNames(db: Db, ids: Array<string | null>): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  if (wanted.length === 0) return new Map();
  const users = await db.user.findMany({ where: { id: { in: wanted } }, select: { id: true, name: true } });
  return new Map(users.map((u) => [u.id, u.name]));
}

function runView(run: RunRow & { connection: { id: string; name: string; provider: string } }, names: Map<string, string>, now: Date) {
  const summary = (run.summary as Summary | null) ?? {};
  return {
    id: run.id,
    connection: run.connection,
    periodFrom: run.periodFrom,
    periodTo: run.periodTo,
    status: run.status as "queued" | "running" | "done" | "failed",
    method: (run.method ?? methodFor(run.connection.provider)) as RunMethod,
    total: run.total,
    done: run.done,
    phase: typeof summary.phase === "string" ? summary.phase : null,
    counts: summary.counts ?? null,
    carried: summary.carried ?? 0,
    inFlight: summary.inFlight ?? 0,
    unanswered: summary.unanswered ?? 0,
    unansweredPayouts: summary.unansweredPayouts ?? [],
    orphans: summary.orphans ?? 0,
    attempts: summary.attempts ?? 0,
    error: run.error,
    requestedBy: run.requestedById ? (names.get(run.requestedById) ?? "a former user") : null,
    scheduled: run.scheduled,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    /** Running and held by a live worker (false: waiting to be taken up again after its worker stopped). */
    workerAlive: run.status === "running" && run.leaseUntil !== null && run.leaseUntil >= now,
  };
}

export type RunView = ReturnType<typeof runView>;

export async function listRuns(desk: Desk, actor: Actor, input: { connectionId?: string | null; limit?: number | null } = {}) {
  const runs = await desk.db.reconciliationRun.findMany({
    where: input.connectionId ? { connectionId: input.connectionId } : {},
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: Math.min(Math.max(input.limit ?? 25, 1), 100),
    include: { connection: { select: { id: true, name: true, provider: true } } },
  });
  const names = await userNames(desk.db, runs.map((r) => r.requestedById));
  const now = new Date();
  return { runs: runs.map((r) => runView(r, names, now)), canStart: RECONCILER_ROLES.includes(actor.role) };
}

/** One run with live counts per kind (also while it runs), unresolved exceptions and carried ones. */
export async function runDetail(desk: Desk, actor: Actor, runId: string) {
  const run = await desk.db.reconciliationRun.findUnique({ where: { id: runId }, include: { connection: { select: { id: true, name: true, provider: true } } } });
  if (!run) throw new NotFound("Reconciliation run");
  const [all, open, carried] = await Promise.all([
    desk.db.reconciliationItem.groupBy({ by: ["kind"], where: { runId }, _count: { _all: true } }),
    desk.db.reconciliationItem.groupBy({ by: ["kind"], where: { runId, resolvedAt: null, kind: { in: [...EXCEPTION_KINDS] } }, _count: { _all: true } }),
    desk.db.reconciliationItem.count({ where: { runId, carriedFromId: { not: null } } }),
  ]);
  const counts = Object.fromEntries(RESULT_KINDS.map((k) => [k, 0])) as Record<ResultKind, number>;
  for (const g of all) if (g.kind in counts) counts[g.kind as ResultKind] = g._count._all;
  const unresolved = Object.fromEntries(EXCEPTION_KINDS.map((k) => [k, 0])) as Record<string, number>;
  for (const g of open) unresolved[g.kind] = g._count._all;
  const names = await userNames(desk.db, [run.requestedById]);
  return {
    run: runView(run, names, new Date()),
    counts,
    unresolved,
    unresolvedTotal: Object.values(unresolved).reduce((a, b) => a + b, 0),
    carriedItems: carried,
    canResolve: RECONCILER_ROLES.includes(actor.role),
  };
}

export type ItemFilter = ResultKind | "exceptions" | null;

export async function listRunItems(
  desk: Desk,
  actor: Actor,
  input: { runId: string; kind?: ItemFilter; unresolvedOnly?: boolean | null; page?: number | null; pageSize?: number | null },
) {
  const run = await desk.db.reconciliationRun.findUnique({ where: { id: input.runId }, select: { id: true } });
  if (!run) throw new NotFound("Reconciliation run");
  const pageSize = Math.min(Math.max(input.pageSize ?? 25, 1), 100);
  const where: Prisma.ReconciliationItemWhereInput = {
    runId: input.runId,
    ...(input.kind === "exceptions" ? { kind: { in: [...EXCEPTION_KINDS] } } : input.kind ? { kind: input.kind } : {}),
    ...(input.unresolvedOnly ? { resolvedAt: null, kind: input.kind && input.kind !== "exceptions" ? input.kind : { in: [...EXCEPTION_KINDS] } } : {}),
  };
  const total = await desk.db.reconciliationItem.count({ where });
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const page = Math.min(Math.max(input.page ?? 1, 1), pages);
  const items = await desk.db.reconciliationItem.findMany({
    where,
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    skip: (page - 1) * pageSize,
    take: pageSize,
    include: { payout: { select: { id: true, amountMinor: true, currency: true, status: true, recipientName: true, recipientPhone: true, recipientAccount: true, description: true } } },
  });
  const sources = await desk.db.reconciliationItem.findMany({
    where: { id: { in: items.map((i) => i.carriedFromId).filter((id): id is string => id !== null) } },
    select: { id: true, run: { select: { id: true, periodFrom: true, periodTo: true, createdAt: true } } },
  });
  const sourceRun = new Map(sources.map((s) => [s.id, s.run]));
  const names = await userNames(desk.db, items.map((i) => i.resolvedById));
  const canResolve = RECONCILER_ROLES.includes(actor.role);
  return {
    page,
    pages,
    pageSize,
    total,
    items: items.map((item) => ({
      id: item.id,
      kind: item.kind as ResultKind,
      payoutId: item.payoutId,
      payout: item.payout,
      providerReference: item.providerReference,
      desk: item.desk as SideJson | null,
      provider: item.provider as SideJson | null,
      detail: item.detail,
      carriedFrom: item.carriedFromId ? { itemId: item.carriedFromId, run: sourceRun.get(item.carriedFromId) ?? null } : null,
      resolvedAt: item.resolvedAt,
      resolvedBy: item.resolvedById ? (names.get(item.resolvedById) ?? "a former user") : null,
      resolutionNote: item.resolutionNote,
      canResolve: canResolve && item.kind !== "matched" && item.resolvedAt === null,
    })),
  };
}

/** An item's side as stored (see deskJson and providerJson). */
export interface SideJson {
  state?: string;
  status?: string | null;
  providerReference?: string | null;
  amount?: { minor: string; currency: string } | null;
  fee?: { minor: string; currency: string } | null;
  debited?: { minor: string; currency: string } | null;
  finalizedAt?: string | null;
  line?: number;
  reference?: string | null;
  createdAt?: string | null;
}
