// Statements: what a connection's money did in a period, in one currency and
// one time zone. The only place the rules live (the page, the tRPC router
// and the downloads all come here):
//
// - opening / closing: the provider's balance at the period's start and end,
//   from the balance snapshots: per wallet label, the latest snapshot at or
//   before the instant, summed (a provider may split one currency over
//   networks or wallets).
// - settled: payouts whose finalizedAt falls in [from, to), per final status
//   as it stood at the period's end (a payout reversed after the end was
//   still succeeded then).
// - paid: payouts that succeeded in the period, including those reversed
//   since: the money left the balance when they were paid; the reversal
//   brings it back in the period it happens.
// - fees: reported fees in this currency on payouts settled in the period;
//   paid payouts whose provider reported no fee are counted, never taken as 0.
// - reversals: payouts that became `reversed` in the period, by the time of
//   their reversal event.
// - in flight at the end: approved (or sent) before the end and not final then.
// - unexplained: closing − (opening − paid − fees + reversals).
//
// Every figure is bigint minor units. Detail lines are read by keyset in
// pages, with row-value comparisons, so an export of any size streams.
import { Prisma } from "@/server/db/generated/client";
import { isKnownCurrency } from "@/server/domain/money";
import { FINAL_STATUSES, type PayoutStatus } from "@/server/domain/payout-state";
import {
  canonicalTimeZone,
  exportFileName,
  formatDays,
  PERIOD_LABELS,
  PERIOD_PRESETS,
  resolvePeriod,
  unexplainedMovement,
  type Period,
  type PeriodPreset,
} from "@/server/domain/statement";
import { isProviderSupported, PROVIDER_LABELS } from "@/server/connectors/registry";
import type { ProviderKind } from "@/server/connectors/types";
import { DEFAULT_PAGE_SIZE, pagedRows } from "@/server/exports/paged-rows";
import type { BalancePoint, ExportInput, ExportRow, ExportRows, StatementSection, StatementSummary, StatusTotal } from "@/server/exports/types";
import type { Actor, Desk } from "./types";
import { FieldErrors } from "./errors";
import { openConnector } from "./connections";
import { DEFAULT_MERCHANT_NAME, generalSettings } from "./settings";

// ─── The question ────────────────────────────────────────────────────────────

/** A statement as asked for: from the page (tRPC) or a download URL, unchecked. */
export interface StatementQueryInput {
  /** A connection id, or absent / "" / "all" for every connection. */
  connectionId?: unknown;
  currency?: unknown;
  period?: unknown;
  /** Custom periods: first and last day, inclusive, yyyy-mm-dd in the zone. */
  from?: unknown;
  to?: unknown;
  /** IANA zone; absent or "" for the desk's default (Settings → General). */
  timeZone?: unknown;
}

export interface StatementConnection {
  id: string;
  name: string;
  provider: string;
}

/** A statement question with every rule checked. */
export interface StatementQuery {
  /** Null: all connections. */
  connection: StatementConnection | null;
  currency: string;
  preset: PeriodPreset;
  period: Period;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function asText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === "string" ? value.trim() : null;
}

/**
 * Checks a statement question, naming each field and the rule it broke (the
 * page shows them next to the fields; a download answers them as JSON).
 */
export async function resolveStatementQuery(desk: Desk, input: StatementQueryInput, now = new Date()): Promise<StatementQuery> {
  const errors: Record<string, string> = Object.create(null);

  let connection: StatementConnection | null = null;
  const connectionId = asText(input.connectionId);
  if (input.connectionId !== undefined && input.connectionId !== null && connectionId === null) errors.connectionId = "Choose a connection, or All connections";
  else if (connectionId && connectionId !== "all") {
    if (!UUID.test(connectionId)) errors.connectionId = "Choose a connection, or All connections (a connection id is a UUID)";
    else {
      const row = await desk.db.connection.findUnique({ where: { id: connectionId.toLowerCase() }, select: { id: true, name: true, provider: true } });
      if (!row) errors.connectionId = "No such connection; choose one from the list, or All connections";
      else connection = row;
    }
  }

  const currency = asText(input.currency)?.toUpperCase() ?? "";
  if (currency === "") errors.currency = "Choose a currency, e.g. ZMW";
  else if (currency.length > 4 || !isKnownCurrency(currency)) errors.currency = `Choose a currency by its ISO 4217 code, e.g. ZMW; "${currency.slice(0, 8)}" is not one`;

  const presetText = asText(input.period) ?? "";
  const preset = (PERIOD_PRESETS as readonly string[]).includes(presetText) ? (presetText as PeriodPreset) : null;
  if (!preset) errors.period = `Choose a period: ${PERIOD_PRESETS.map((p) => PERIOD_LABELS[p].toLowerCase()).join(", ")}`;

  const zoneText = asText(input.timeZone);
  let timeZone: string | null;
  if (input.timeZone !== undefined && input.timeZone !== null && zoneText === null) timeZone = null;
  else timeZone = zoneText ? canonicalTimeZone(zoneText) : (await generalSettings(desk.db)).timeZone;
  if (!timeZone) errors.timeZone = `Choose an IANA time zone such as Europe/London; "${(zoneText ?? "").slice(0, 64)}" is not one`;

  let period: Period | null = null;
  if (preset && timeZone) {
    const from = asText(input.from);
    const to = asText(input.to);
    const resolved = resolvePeriod({ preset, from, to }, timeZone, now);
    if (resolved.ok) period = resolved.period;
    else Object.assign(errors, resolved.fields);
  }

  if (Object.keys(errors).length > 0 || !preset || !period) throw new FieldErrors(errors);
  return { connection, currency, preset, period };
}

// ─── The figures ─────────────────────────────────────────────────────────────

/** A section's summary with the counts the page and the downloads also need. */
export interface StatementFigures extends StatementSummary {
  /** Payouts paid in the period (succeeded, or reversed since). */
  paidCount: number;
  reversalsCount: number;
  /** Settled payouts in the period, every final status. */
  settledCount: number;
  /** Detail lines: settled in the period, reversed in it having been paid before, in flight at its end. */
  lineCount: number;
}

export interface StatementSectionView {
  connectionId: string;
  connectionName: string;
  provider: string;
  providerLabel: string;
  figures: StatementFigures;
}

export interface StatementView {
  connectionId: string | null;
  connectionLabel: string;
  currency: string;
  preset: PeriodPreset;
  period: Period;
  /** "1 May 2026 – 31 May 2026". */
  periodLabel: string;
  /** When the period has not ended yet: the figures are as of this moment. */
  openUntil: Date | null;
  sections: StatementSectionView[];
  /** Over all sections (the one section's own when a connection was chosen). */
  total: StatementFigures;
  generatedAt: Date;
}

const FINAL = [...FINAL_STATUSES];
/** Statuses in which the provider paid: reversed is reachable only from succeeded. */
const PAID_STATUSES: readonly PayoutStatus[] = ["succeeded", "reversed"];
const SETTLED_ORDER: readonly string[] = ["succeeded", "reversed", "failed", "cancelled", "rejected"];

export async function statement(desk: Desk, query: StatementQuery, now = new Date()): Promise<StatementView> {
  const connections = await statementConnections(desk, query);
  const sections = await sectionFigures(desk, query, connections);
  return {
    connectionId: query.connection?.id ?? null,
    connectionLabel: query.connection?.name ?? "All connections",
    currency: query.currency,
    preset: query.preset,
    period: query.period,
    periodLabel: formatDays(query.period.firstDay, query.period.lastDay),
    openUntil: query.period.to > now ? now : null,
    sections,
    total: query.connection && sections[0] ? sections[0].figures : totalOf(sections.map((s) => s.figures), query.currency),
    generatedAt: now,
  };
}

/**
 * The connections a statement covers: the one asked for, or every connection
 * that has payouts in the currency or had a balance in it by the period's
 * end, by name. Each test is an index probe per connection, not a scan.
 */
async function statementConnections(desk: Desk, query: StatementQuery): Promise<StatementConnection[]> {
  if (query.connection) return [query.connection];
  return desk.db.$queryRaw<StatementConnection[]>`
    SELECT c.id::text AS id, c.name, c.provider::text AS provider
    FROM "Connection" c
    WHERE EXISTS (SELECT 1 FROM "Payout" p WHERE p."connectionId" = c.id AND p.currency = ${query.currency})
       OR EXISTS (SELECT 1 FROM "BalanceSnapshot" s WHERE s."connectionId" = c.id AND s.currency = ${query.currency} AND s.at <= ${query.period.to})
    ORDER BY lower(c.name), c.name, c.id`;
}

function idList(connections: StatementConnection[]) {
  return Prisma.join(connections.map((c) => Prisma.sql`${c.id}::uuid`));
}

/** The status a settled payout had at the period's end: a reversal after the end leaves it succeeded. */
function statusAtEnd(to: Date) {
  return Prisma.sql`CASE WHEN p.status = 'reversed' AND NOT EXISTS (
      SELECT 1 FROM "PayoutEvent" e WHERE e."payoutId" = p.id AND e."toStatus" = 'reversed' AND e.at < ${to}
    ) THEN 'succeeded' ELSE p.status::text END`;
}

/** The moment a reversed payout was taken back: its first event into `reversed`. */
const REVERSED_AT = Prisma.sql`(SELECT min(e.at) FROM "PayoutEvent" e WHERE e."payoutId" = p.id AND e."toStatus" = 'reversed')`;

function inFlightAtEnd(to: Date) {
  return Prisma.sql`p."approvedAt" < ${to}
    AND (p."finalizedAt" >= ${to} OR (p."finalizedAt" IS NULL AND p.status::text NOT IN (${Prisma.join(FINAL)})))`;
}

async function sectionFigures(desk: Desk, query: StatementQuery, connections: StatementConnection[]): Promise<StatementSectionView[]> {
  if (connections.length === 0) return [];
  const { currency } = query;
  const { from, to } = query.period;
  const ids = idList(connections);
  // One pass over the period's settled payouts gives the totals per status and the fees: a fee leaves
  // the balance of its own currency, whatever the payout's (a missing fee currency is the payout's).
  const reversedAfterEnd = Prisma.sql`p.status = 'reversed' AND NOT EXISTS (
      SELECT 1 FROM "PayoutEvent" e WHERE e."payoutId" = p.id AND e."toStatus" = 'reversed' AND e.at < ${to})`;
  const [settledRows, reversals, inFlight, opening, closing] = await Promise.all([
    desk.db.$queryRaw<Array<{ cid: string; status: string; count: number; amount: bigint; feeless: number; later: number; laterAmount: bigint; fees: bigint }>>`
      SELECT p."connectionId"::text AS cid, p.status::text AS status,
             count(*) FILTER (WHERE p.currency = ${currency})::int AS count,
             COALESCE(sum(p."amountMinor") FILTER (WHERE p.currency = ${currency}), 0)::bigint AS amount,
             count(*) FILTER (WHERE p.currency = ${currency} AND p."feeMinor" IS NULL)::int AS feeless,
             count(*) FILTER (WHERE p.currency = ${currency} AND ${reversedAfterEnd})::int AS later,
             COALESCE(sum(p."amountMinor") FILTER (WHERE p.currency = ${currency} AND ${reversedAfterEnd}), 0)::bigint AS "laterAmount",
             COALESCE(sum(p."feeMinor") FILTER (WHERE COALESCE(p."feeCurrency", p.currency) = ${currency}), 0)::bigint AS fees
      FROM "Payout" p
      WHERE p."connectionId" IN (${ids}) AND p."finalizedAt" >= ${from} AND p."finalizedAt" < ${to}
      GROUP BY 1, 2`,
    desk.db.$queryRaw<Array<{ cid: string; count: number; amount: bigint; earlier: number }>>`
      SELECT p."connectionId"::text AS cid, count(*)::int AS count, COALESCE(sum(p."amountMinor"), 0)::bigint AS amount,
             count(*) FILTER (WHERE p."finalizedAt" < ${from})::int AS earlier
      FROM "Payout" p
      WHERE p."connectionId" IN (${ids}) AND p.currency = ${currency} AND p.status = 'reversed'
        AND ${REVERSED_AT} >= ${from} AND ${REVERSED_AT} < ${to}
      GROUP BY 1`,
    desk.db.$queryRaw<Array<{ cid: string; count: number; amount: bigint }>>`
      SELECT p."connectionId"::text AS cid, count(*)::int AS count, COALESCE(sum(p."amountMinor"), 0)::bigint AS amount
      FROM "Payout" p
      WHERE p."connectionId" IN (${ids}) AND p.currency = ${currency} AND ${inFlightAtEnd(to)}
      GROUP BY 1`,
    balancesAt(desk, connections, currency, from),
    balancesAt(desk, connections, currency, to),
  ]);
  const reporting = await balanceReporting(desk, connections, (id) => opening.has(id) || closing.has(id));

  return connections.map((c) => {
    const mine = <T extends { cid: string }>(rows: T[]) => rows.filter((r) => r.cid === c.id);
    const byStatus = new Map<string, StatusTotal>();
    const bump = (status: string, count: number, amountMinor: bigint) => {
      if (count === 0) return;
      const t = byStatus.get(status) ?? { status, count: 0, amountMinor: 0n };
      byStatus.set(status, { status, count: t.count + count, amountMinor: t.amountMinor + amountMinor });
    };
    for (const r of mine(settledRows)) {
      // As at the end, a payout reversed only after it was still succeeded.
      bump(r.status, r.count - r.later, r.amount - r.laterAmount);
      bump("succeeded", r.later, r.laterAmount);
    }
    const statusTotals = [...byStatus.values()].sort((a, b) => SETTLED_ORDER.indexOf(a.status) - SETTLED_ORDER.indexOf(b.status));
    const paid = statusTotals.filter((s) => (PAID_STATUSES as readonly string[]).includes(s.status));
    const reversal = mine(reversals)[0];
    const flight = mine(inFlight)[0];
    const reports = reporting.get(c.id) ?? false;
    const figures = summaryOf({
      currency,
      balanceReported: reports,
      opening: reports ? (opening.get(c.id) ?? null) : null,
      closing: reports ? (closing.get(c.id) ?? null) : null,
      settled: statusTotals,
      paidMinor: paid.reduce((sum, s) => sum + s.amountMinor, 0n),
      paidCount: paid.reduce((n, s) => n + s.count, 0),
      feesMinor: mine(settledRows).reduce((sum, r) => sum + r.fees, 0n),
      feesNotReported: mine(settledRows)
        .filter((r) => (PAID_STATUSES as readonly string[]).includes(r.status))
        .reduce((n, r) => n + r.feeless, 0),
      reversalsMinor: reversal?.amount ?? 0n,
      reversalsCount: reversal?.count ?? 0,
      inFlightAtEnd: { count: flight?.count ?? 0, amountMinor: flight?.amount ?? 0n },
      lineCount: statusTotals.reduce((n, s) => n + s.count, 0) + (reversal?.earlier ?? 0) + (flight?.count ?? 0),
    });
    return { connectionId: c.id, connectionName: c.name, provider: c.provider, providerLabel: PROVIDER_LABELS[c.provider as ProviderKind] ?? c.provider, figures };
  });
}

/** The figures with the unexplained movement worked out, where both balances are known. */
function summaryOf(f: Omit<StatementFigures, "unexplainedMinor" | "settledCount">): StatementFigures {
  const unexplainedMinor =
    f.balanceReported && f.opening && f.closing
      ? unexplainedMovement({ openingMinor: f.opening.amountMinor, paidMinor: f.paidMinor, feesMinor: f.feesMinor, reversalsMinor: f.reversalsMinor, closingMinor: f.closing.amountMinor })
      : null;
  return { ...f, settledCount: f.settled.reduce((n, s) => n + s.count, 0), unexplainedMinor };
}

/**
 * All sections together. Balances add up only when every section has them:
 * a total opening that left out a provider without balances would make the
 * identity lie, so then the total says balances are not (all) reported, or
 * not known where a reporting provider's balance was not read at that moment.
 */
function totalOf(sections: StatementFigures[], currency: string): StatementFigures {
  const settled = new Map<string, StatusTotal>();
  for (const s of sections.flatMap((x) => x.settled)) {
    const t = settled.get(s.status) ?? { status: s.status, count: 0, amountMinor: 0n };
    settled.set(s.status, { status: s.status, count: t.count + s.count, amountMinor: t.amountMinor + s.amountMinor });
  }
  // "Not reported" only when a provider reports no balance; a balance reported
  // but not read at that moment (a fresh desk's opening) is "not known".
  const reported = sections.length > 0 && sections.every((s) => s.balanceReported);
  const point = (pick: (s: StatementFigures) => BalancePoint | null): BalancePoint | null =>
    reported && sections.every((s) => pick(s) !== null)
      ? {
          amountMinor: sections.reduce((sum, s) => sum + pick(s)!.amountMinor, 0n),
          at: new Date(Math.max(...sections.map((s) => pick(s)!.at.getTime()))),
        }
      : null;
  const add = (pick: (s: StatementFigures) => bigint) => sections.reduce((sum, s) => sum + pick(s), 0n);
  const count = (pick: (s: StatementFigures) => number) => sections.reduce((n, s) => n + pick(s), 0);
  return summaryOf({
    currency,
    balanceReported: reported,
    opening: point((s) => s.opening),
    closing: point((s) => s.closing),
    settled: [...settled.values()].sort((a, b) => SETTLED_ORDER.indexOf(a.status) - SETTLED_ORDER.indexOf(b.status)),
    paidMinor: add((s) => s.paidMinor),
    paidCount: count((s) => s.paidCount),
    feesMinor: add((s) => s.feesMinor),
    feesNotReported: count((s) => s.feesNotReported),
    reversalsMinor: add((s) => s.reversalsMinor),
    reversalsCount: count((s) => s.reversalsCount),
    inFlightAtEnd: { count: count((s) => s.inFlightAtEnd.count), amountMinor: add((s) => s.inFlightAtEnd.amountMinor) },
    lineCount: count((s) => s.lineCount),
  });
}

/**
 * Each connection's balance at an instant: per wallet label, its latest
 * snapshot at or before the instant, summed; with the time of the newest of
 * them. Absent when the connection had no snapshot by then.
 */
async function balancesAt(desk: Desk, connections: StatementConnection[], currency: string, at: Date): Promise<Map<string, BalancePoint>> {
  const rows = await desk.db.$queryRaw<Array<{ cid: string; amount: bigint; at: Date }>>`
    SELECT latest.cid, COALESCE(sum(latest.amount), 0)::bigint AS amount, max(latest.at) AS at
    FROM (
      SELECT DISTINCT ON (s."connectionId", s.label) s."connectionId"::text AS cid, s."amountMinor" AS amount, s.at
      FROM "BalanceSnapshot" s
      WHERE s."connectionId" IN (${idList(connections)}) AND s.currency = ${currency} AND s.at <= ${at}
      ORDER BY s."connectionId", s.label, s.at DESC, s.id DESC
    ) latest
    GROUP BY latest.cid`;
  return new Map(rows.map((r) => [r.cid, { amountMinor: r.amount, at: r.at }]));
}

/**
 * Whether each connection's provider reports balances at all (Praxis and
 * PontisGlobe do not): its connector says so. A connection whose credentials
 * cannot be opened is judged by whether balances were ever read for it.
 */
async function balanceReporting(desk: Desk, connections: StatementConnection[], hasSnapshots: (id: string) => boolean): Promise<Map<string, boolean>> {
  const rows = await desk.db.connection.findMany({ where: { id: { in: connections.map((c) => c.id) } } });
  return new Map(
    rows.map((row) => {
      if (!isProviderSupported(row.provider as ProviderKind)) return [row.id, hasSnapshots(row.id)];
      try {
        return [row.id, openConnector(desk, row).capabilities.balances];
      } catch {
        return [row.id, hasSnapshots(row.id)];
      }
    }),
  );
}

// ─── Detail lines ────────────────────────────────────────────────────────────

/**
 * The detail lines of a connection's statement come in three runs, each read
 * by its own keyset: 0, payouts paid before the period and reversed in it (a
 * credit with no debit here), by (finalizedAt, id); 1, payouts settled in the
 * period, by (finalizedAt, id); 2, payouts in flight at its end, by
 * (approvedAt, id). Every line shows the payout as it stood at the period's end.
 */
type Run = 0 | 1 | 2;

export interface LineCursor {
  connectionId: string;
  run: Run;
  key: Date;
  id: string;
}

/** A detail line: the export row as at the period's end, with the payout's status now beside it. */
export interface StatementLine extends ExportRow {
  connectionId: string;
  /** "reversal" for a payout paid before the period and taken back in it; "in_flight" at the end. */
  kind: "settled" | "reversal" | "in_flight";
  /** When it was taken back, for reversed payouts. */
  reversedAt: Date | null;
  /** Its status today (the line's `status` is as at the period's end). */
  currentStatus: string;
}

interface LineRow {
  id: string;
  createdAt: Date;
  finalizedAt: Date | null;
  approvedAt: Date | null;
  status_at_end: string;
  status: string;
  reversed_at: Date | null;
  currency: string;
  amountMinor: bigint;
  feeMinor: bigint | null;
  feeCurrency: string | null;
  debitedMinor: bigint | null;
  debitedCurrency: string | null;
  destinationMinor: bigint | null;
  destinationCurrency: string | null;
  fxRate: string | null;
  recipientName: string | null;
  recipientPhone: string | null;
  recipientAccount: string | null;
  description: string;
  providerReference: string | null;
  failureCode: string | null;
  failureMessage: string | null;
}

const LINE_COLUMNS = Prisma.sql`p.id::text AS id, p."createdAt", p."finalizedAt", p."approvedAt", p.status::text AS status,
  p.currency, p."amountMinor", p."feeMinor", p."feeCurrency", p."debitedMinor", p."debitedCurrency",
  p."destinationMinor", p."destinationCurrency", p."fxRate", p."recipientName", p."recipientPhone", p."recipientAccount",
  p.description, p."providerReference", p."failureCode", p."failureMessage"`;

async function readRun(desk: Desk, query: StatementQuery, connectionId: string, run: Run, after: { key: Date; id: string } | null, limit: number): Promise<LineRow[]> {
  const { currency } = query;
  const { from, to } = query.period;
  const base = Prisma.sql`p."connectionId" = ${connectionId}::uuid AND p.currency = ${currency}`;
  if (run === 2) {
    // As at the end, an in-flight payout had the status of its last event before the end, and no final time.
    return desk.db.$queryRaw<LineRow[]>`
      SELECT ${LINE_COLUMNS}, NULL::timestamptz AS reversed_at,
        COALESCE((SELECT e."toStatus"::text FROM "PayoutEvent" e WHERE e."payoutId" = p.id AND e.at < ${to} ORDER BY e.at DESC, e.id DESC LIMIT 1), 'approved') AS status_at_end
      FROM "Payout" p
      WHERE ${base} AND ${inFlightAtEnd(to)}
        ${after ? Prisma.sql`AND (p."approvedAt", p.id) > (${after.key}, ${after.id}::uuid)` : Prisma.empty}
      ORDER BY p."approvedAt", p.id
      LIMIT ${limit}`;
  }
  const keyset = after ? Prisma.sql`AND (p."finalizedAt", p.id) > (${after.key}, ${after.id}::uuid)` : Prisma.empty;
  if (run === 0) {
    return desk.db.$queryRaw<LineRow[]>`
      SELECT ${LINE_COLUMNS}, ${REVERSED_AT} AS reversed_at, 'reversed' AS status_at_end
      FROM "Payout" p
      WHERE ${base} AND p.status = 'reversed' AND p."finalizedAt" < ${from}
        AND ${REVERSED_AT} >= ${from} AND ${REVERSED_AT} < ${to} ${keyset}
      ORDER BY p."finalizedAt", p.id
      LIMIT ${limit}`;
  }
  // The range and the keyset both lead on finalizedAt, so the (connectionId, currency, finalizedAt) index serves them.
  return desk.db.$queryRaw<LineRow[]>`
    SELECT ${LINE_COLUMNS}, CASE WHEN p.status = 'reversed' THEN ${REVERSED_AT} END AS reversed_at, ${statusAtEnd(to)} AS status_at_end
    FROM "Payout" p
    WHERE ${base} AND p."finalizedAt" >= ${from} AND p."finalizedAt" < ${to}
      ${after ? Prisma.sql`AND p."finalizedAt" >= ${after.key}` : Prisma.empty} ${keyset}
    ORDER BY p."finalizedAt", p.id
    LIMIT ${limit}`;
}

function lineOf(row: LineRow, run: Run, connection: StatementConnection, query: StatementQuery): StatementLine {
  const atEnd = run === 2 ? null : row.finalizedAt;
  return {
    connectionId: connection.id,
    kind: run === 0 ? "reversal" : run === 1 ? "settled" : "in_flight",
    reversedAt: row.reversed_at && row.reversed_at < query.period.to ? row.reversed_at : null,
    currentStatus: row.status,
    payoutId: row.id,
    createdAt: row.createdAt,
    finalizedAt: atEnd,
    status: row.status_at_end,
    connectionName: connection.name,
    provider: connection.provider,
    currency: row.currency,
    amountMinor: row.amountMinor,
    feeMinor: row.feeMinor,
    feeCurrency: row.feeMinor === null ? null : (row.feeCurrency ?? row.currency),
    debitedMinor: row.debitedMinor,
    debitedCurrency: row.debitedCurrency,
    destinationMinor: row.destinationMinor,
    destinationCurrency: row.destinationCurrency,
    fxRate: row.fxRate,
    recipientName: row.recipientName,
    recipientPhone: row.recipientPhone,
    recipientAccount: row.recipientAccount,
    description: row.description,
    providerReference: row.providerReference,
    failureCode: row.failureCode,
    failureMessage: row.failureMessage,
  };
}

function cursorOf(line: StatementLine, row: { approvedAt: Date | null; finalizedAt: Date | null }, run: Run): LineCursor {
  return { connectionId: line.connectionId, run, key: (run === 2 ? row.approvedAt : row.finalizedAt)!, id: line.payoutId };
}

interface LineItem {
  line: StatementLine;
  cursor: LineCursor;
}

/** Up to `count` lines after `after`, across runs and connections in order, each with the cursor that follows it. */
async function readItems(desk: Desk, query: StatementQuery, connections: StatementConnection[], after: LineCursor | null, count: number): Promise<LineItem[]> {
  const items: LineItem[] = [];
  let start = after ? connections.findIndex((c) => c.id === after.connectionId) : 0;
  if (start < 0) start = connections.length; // a cursor for a connection no longer covered: nothing more
  for (let ci = start; ci < connections.length && items.length < count; ci++) {
    const connection = connections[ci]!;
    const resume = after && ci === start ? after : null;
    for (let run = (resume?.run ?? 0) as Run; run <= 2 && items.length < count; run = (run + 1) as Run) {
      const rows = await readRun(desk, query, connection.id, run, resume && resume.run === run ? resume : null, count - items.length);
      for (const row of rows) {
        const line = lineOf(row, run, connection, query);
        items.push({ line, cursor: cursorOf(line, row, run) });
      }
    }
  }
  return items;
}

export function encodeLineCursor(cursor: LineCursor): string {
  return Buffer.from(JSON.stringify({ c: cursor.connectionId, r: cursor.run, k: cursor.key.toISOString(), i: cursor.id })).toString("base64url");
}

/** Only what encodeLineCursor makes: anything else would reach the database as a bad uuid or timestamp. */
export function decodeLineCursor(text: string): LineCursor {
  const broken = () => new FieldErrors({ cursor: "The page link is broken; start from the first page" });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, "base64url").toString());
  } catch {
    throw broken();
  }
  const p = parsed as { c?: unknown; r?: unknown; k?: unknown; i?: unknown } | null;
  if (!p || typeof p !== "object" || typeof p.c !== "string" || typeof p.i !== "string" || typeof p.k !== "string" || !UUID.test(p.c) || !UUID.test(p.i)) throw broken();
  if (p.r !== 0 && p.r !== 1 && p.r !== 2) throw broken();
  const key = new Date(p.k);
  if (Number.isNaN(key.getTime()) || key.toISOString() !== p.k || p.k < "1970" || p.k > "9999") throw broken();
  return { connectionId: p.c.toLowerCase(), run: p.r, key, id: p.i.toLowerCase() };
}

/** One page of a statement's detail lines, for the page; one line beyond it is read to know whether there is more. */
export async function statementLines(desk: Desk, query: StatementQuery, page: { cursor?: string | null; limit?: number } = {}) {
  const limit = Math.min(Math.max(page.limit ?? 50, 1), 200);
  const after = page.cursor ? decodeLineCursor(page.cursor) : null;
  const items = await readItems(desk, query, await statementConnections(desk, query), after, limit + 1);
  const shown = items.slice(0, limit);
  return { lines: shown.map((i) => i.line), nextCursor: items.length > limit ? encodeLineCursor(shown.at(-1)!.cursor) : null };
}

/** Rows read from the database this many at a time while an export is written. */
export const EXPORT_PAGE_ROWS = DEFAULT_PAGE_SIZE;

/**
 * A connection's detail lines as the writer pulls them, page by page (the
 * next page read while the last is written): never the whole result in memory.
 */
async function* connectionRows(desk: Desk, query: StatementQuery, connection: StatementConnection, pageRows: number): ExportRows {
  const pages = pagedRows<LineItem, LineCursor>({
    fetchPage: (after, limit) => readItems(desk, query, [connection], after, limit),
    cursorOf: (item) => item.cursor,
    pageSize: pageRows,
  });
  for await (const item of pages) yield exportRowOf(item.line);
}

/**
 * Only the export contract's fields: a writer that lists every key shows no
 * internal ones. The reversal time goes along, so camt.053 dates the credit
 * when the money came back and the CSV/XLSX fill their reversed_at column.
 */
function exportRowOf(line: StatementLine): ExportRow {
  const { connectionId: _c, kind: _k, currentStatus: _s, ...row } = line;
  return row;
}

// ─── Exports ─────────────────────────────────────────────────────────────────

export interface PreparedExport {
  input: ExportInput;
  /** Rows the file will hold (for progress in the browser). */
  rowCount: number;
  /** The file name for a format's extension. */
  fileName(extension: string): string;
  /** What was exported, for the audit entry. */
  describe: Record<string, string | number | null>;
  /** What to say instead of a file when there are no rows. */
  emptyMessage: string;
}

/** A statement ready for a writer: its summary figures now, its rows read as the writer goes. */
export async function prepareStatementExport(desk: Desk, actor: Actor, query: StatementQuery, opts: { pageRows?: number; now?: Date } = {}): Promise<PreparedExport> {
  const pageRows = opts.pageRows ?? EXPORT_PAGE_ROWS;
  const now = opts.now ?? new Date();
  const [view, settings] = await Promise.all([statement(desk, query, now), generalSettings(desk.db)]);
  const byId = new Map(view.sections.map((s) => [s.connectionId, s]));
  const connections = view.sections.map((s) => ({ id: s.connectionId, name: s.connectionName, provider: s.provider }));
  const sections: StatementSection[] = view.sections.map((s) => ({
    connectionId: s.connectionId,
    connectionName: s.connectionName,
    provider: s.provider,
    summary: s.figures,
    rows: () => connectionRows(desk, query, { id: s.connectionId, name: s.connectionName, provider: s.provider }, pageRows),
  }));
  async function* allRows(): ExportRows {
    for (const c of connections) if ((byId.get(c.id)?.figures.lineCount ?? 0) > 0) yield* connectionRows(desk, query, c, pageRows);
  }
  return {
    input: {
      meta: {
        kind: "statement",
        merchantName: settings.merchantName ?? DEFAULT_MERCHANT_NAME,
        connectionLabel: view.connectionLabel,
        currency: query.currency,
        periodFrom: query.period.from,
        periodTo: query.period.to,
        timeZone: query.period.timeZone,
        generatedAt: now,
        generatedBy: `${actor.name} (${actor.email})`,
      },
      sections,
      total: view.total,
      rows: allRows,
    },
    rowCount: view.total.lineCount,
    emptyMessage: `No payouts settled in this period (${view.periodLabel}, ${query.period.timeZone}) for ${view.connectionLabel} in ${query.currency}, and none in flight at its end; there is nothing to export`,
    fileName: (extension) =>
      exportFileName({ connection: query.connection?.name ?? null, currency: query.currency, firstDay: query.period.firstDay, lastDay: query.period.lastDay, extension }),
    describe: {
      connectionId: query.connection?.id ?? null,
      connection: view.connectionLabel,
      currency: query.currency,
      period: query.preset,
      from: query.period.firstDay,
      to: query.period.lastDay,
      timeZone: query.period.timeZone,
      rows: view.total.lineCount,
    },
  };
}

// ─── What can be asked ───────────────────────────────────────────────────────

export interface StatementOptions {
  connections: Array<{ id: string; name: string; provider: string; providerLabel: string; reportsBalances: boolean; currencies: string[]; recentCurrency: string | null }>;
  /** Every currency any connection has payouts or balances in. */
  currencies: string[];
  /** The currency of the latest payout: what the page opens on (not the first in the alphabet). */
  recentCurrency: string | null;
  /** The desk's default zone (Settings → General). */
  defaultTimeZone: string;
}

/**
 * The distinct (connection, currency) pairs of a table with an index leading
 * on both: a loose index scan (one probe per pair), so a desk with a million
 * payouts answers as fast as an empty one.
 */
async function currencyPairs(desk: Desk, table: "Payout" | "BalanceSnapshot"): Promise<Array<{ cid: string; cur: string }>> {
  const t = Prisma.raw(`"${table}"`);
  return desk.db.$queryRaw<Array<{ cid: string; cur: string }>>`
    WITH RECURSIVE pairs(cid, cur) AS (
      (SELECT x."connectionId", x.currency FROM ${t} x ORDER BY x."connectionId", x.currency LIMIT 1)
      UNION ALL
      SELECT n.cid, n.cur FROM pairs, LATERAL (
        SELECT x."connectionId" AS cid, x.currency AS cur FROM ${t} x
        WHERE (x."connectionId", x.currency) > (pairs.cid, pairs.cur)
        ORDER BY x."connectionId", x.currency LIMIT 1
      ) n
    )
    SELECT cid::text AS cid, cur FROM pairs`;
}

export async function statementOptions(desk: Desk): Promise<StatementOptions> {
  const [connections, payoutPairs, balancePairs, settings] = await Promise.all([
    desk.db.connection.findMany({ orderBy: [{ name: "asc" }, { id: "asc" }], select: { id: true, name: true, provider: true } }),
    currencyPairs(desk, "Payout"),
    currencyPairs(desk, "BalanceSnapshot"),
    generalSettings(desk.db),
  ]);
  const byConnection = new Map<string, Set<string>>();
  for (const { cid, cur } of [...payoutPairs, ...balancePairs]) {
    if (!byConnection.has(cid)) byConnection.set(cid, new Set());
    byConnection.get(cid)!.add(cur);
  }
  const reporting = await balanceReporting(desk, connections, (id) => balancePairs.some((p) => p.cid === id));
  // One indexed probe per connection (connectionId, createdAt, id) for its latest payout's currency.
  const recent = await Promise.all(
    connections.map((c) =>
      desk.db.payout.findFirst({ where: { connectionId: c.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], select: { currency: true, createdAt: true } }),
    ),
  );
  const latest = recent.filter((r) => r !== null).sort((a, b) => b!.createdAt.getTime() - a!.createdAt.getTime())[0];
  return {
    connections: connections.map((c, i) => ({
      ...c,
      providerLabel: PROVIDER_LABELS[c.provider as ProviderKind] ?? c.provider,
      reportsBalances: reporting.get(c.id) ?? false,
      currencies: [...(byConnection.get(c.id) ?? [])].sort(),
      recentCurrency: recent[i]?.currency ?? null,
    })),
    recentCurrency: latest?.currency ?? null,
    currencies: [...new Set([...payoutPairs, ...balancePairs].map((p) => p.cur))].sort(),
    defaultTimeZone: settings.timeZone,
  };
}
