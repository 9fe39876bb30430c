// Provider balances: read from each connection's provider (on a schedule and
// on demand) into BalanceSnapshot rows, and set against what the desk has
// already committed: approved payouts not yet sent (reserved) and payouts the
// provider is working on (in flight). All amounts are bigint minor units.
import type { Connection } from "@/server/db/generated/client";
import { IN_FLIGHT_STATUSES, type PayoutStatus } from "@/server/domain/payout-state";
import type { ProviderKind } from "@/server/connectors/types";
import { isProviderSupported, PROVIDER_LABELS } from "@/server/connectors/registry";
import { getConnection, openConnector } from "./connections";
import { audit } from "./audit";
import { TooManyAttempts } from "./errors";
import type { Actor, Desk } from "./types";

/** Approved by the checker, not yet handed to the provider: money already promised. */
export const RESERVED_STATUSES: readonly PayoutStatus[] = ["approved"];
// In flight is the domain's IN_FLIGHT_STATUSES: at the provider, or possibly
// so (`unknown`); the provider may not have debited the wallet yet.

export type RefreshOutcome =
  | { connectionId: string; name: string; ok: true; balances: number; at: Date }
  | { connectionId: string; name: string; ok: false; error: string; at: Date; /** Set when the read was not made because one was made moments ago. */ nextReadAt?: Date };

/**
 * How often a person may have one connection's balances read. Any signed-in
 * user may press Refresh, and each press calls the provider, whose own rate
 * limits (Muda: 100 calls a minute) the desk's payouts need more.
 * Scheduled reads are not counted.
 */
export const BALANCE_REFRESH_EVERY_MS = 30_000;

/**
 * Reads balances from every enabled connection that can report them (or only
 * `connectionId`, paused or not), one snapshot per row the provider returns.
 * One provider failing is an outcome in the list, never a reason to stop.
 */
export async function refreshBalances(desk: Desk, connectionId?: string): Promise<RefreshOutcome[]> {
  // A click during the scheduled read (or a double click) waits for the read under way.
  const key = connectionId ?? "*";
  const running = inFlightReads(desk);
  const existing = running.get(key);
  if (existing) return existing;
  const read = readAll(desk, connectionId).finally(() => running.delete(key));
  running.set(key, read);
  return read;
}

async function readAll(desk: Desk, connectionId?: string): Promise<RefreshOutcome[]> {
  const connections = await desk.db.connection.findMany({
    where: connectionId ? { id: connectionId } : { enabled: true },
    orderBy: { name: "asc" },
  });
  return readConnections(desk, connections, Boolean(connectionId));
}

async function readConnections(desk: Desk, connections: Connection[], asked: boolean): Promise<RefreshOutcome[]> {
  const outcomes = await Promise.all(connections.map((c) => readOne(desk, c, asked)));
  return outcomes.filter((o): o is RefreshOutcome => o !== null);
}

async function readOne(desk: Desk, connection: Connection, asked: boolean): Promise<RefreshOutcome | null> {
  const at = new Date();
  const label = PROVIDER_LABELS[connection.provider as ProviderKind];
  const fail = async (error: string): Promise<RefreshOutcome> => {
    console.error(`[balances] ${connection.name}: ${error}`);
    await desk.db.balanceReadFailure
      .upsert({
        where: { connectionId: connection.id },
        create: { connectionId: connection.id, message: error, at },
        update: { message: error, at },
      })
      // Two processes recording the same connection's failure at once: one of them wins, either says it.
      .catch((cause) => console.error(`[balances] could not record the failed read of ${connection.name}`, cause));
    return { connectionId: connection.id, name: connection.name, ok: false, error, at };
  };
  if (!isProviderSupported(connection.provider as ProviderKind)) {
    return asked ? fail(`No ${label} connector is available yet`) : null;
  }
  try {
    const connector = openConnector(desk, connection);
    if (!connector.capabilities.balances || !connector.balances) {
      return asked ? fail(`${label} does not report balances to the desk`) : null;
    }
    const balances = await connector.balances();
    // One timestamp per read: the rows of one answer belong together (see balanceOverview).
    await desk.db.$transaction([
      desk.db.balanceSnapshot.createMany({
        data: balances.map((b) => ({
          connectionId: connection.id,
          currency: b.currency,
          amountMinor: b.amountMinor,
          label: b.label ?? "",
          raw: b.raw === undefined ? undefined : jsonOf(b.raw),
          at,
        })),
      }),
      desk.db.balanceReadFailure.deleteMany({ where: { connectionId: connection.id } }),
    ]);
    return { connectionId: connection.id, name: connection.name, ok: true, balances: balances.length, at };
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}

/**
 * A refresh someone asked for from the Balances page: throttled per connection
 * (see BALANCE_REFRESH_EVERY_MS), and audited, since it calls providers.
 * One connection asked for too soon is refused, saying when it can be read;
 * of all connections, those read too recently are left out and said so, and
 * only if every one was is the whole refresh refused.
 */
export async function refreshBalancesByUser(desk: Desk, actor: Actor, connectionId: string | undefined, ip?: string) {
  const now = new Date();
  let outcomes: RefreshOutcome[];
  if (connectionId) {
    const connection = await getConnection(desk, connectionId);
    if (!(await claimBalanceRead(desk, connection.id, now))) throw await tooSoon(desk, [connection], now);
    outcomes = await refreshBalances(desk, connectionId);
  } else {
    const connections = (await desk.db.connection.findMany({ where: { enabled: true }, orderBy: { name: "asc" } })).filter((c) => reportsBalances(desk, c));
    const claimed: Connection[] = [];
    const refused: Connection[] = [];
    for (const c of connections) (await claimBalanceRead(desk, c.id, now) ? claimed : refused).push(c);
    if (claimed.length === 0 && refused.length > 0) throw await tooSoon(desk, refused, now);
    outcomes = [...(await readConnections(desk, claimed, false)), ...(await skipped(desk, refused, now))].sort((a, b) => a.name.localeCompare(b.name));
  }
  await audit(desk.db, {
    actorId: actor.id,
    action: "balances.refresh",
    entityType: connectionId ? "connection" : "balances",
    entityId: connectionId ?? null,
    details: { outcomes: outcomes.map((o) => (o.ok ? { connectionId: o.connectionId, ok: true } : { connectionId: o.connectionId, ok: false, error: o.error })) },
    ip,
  });
  return outcomes;
}

/**
 * Takes this connection's on-demand read slot if the last one is old enough.
 * One conditional UPDATE, so two clicks (or two web processes) cannot both
 * pass. Raw SQL on purpose: Prisma would also bump updatedAt, which is the
 * version the Connections edit form saves against, and a Refresh click must
 * not make an admin's edit look stale.
 */
async function claimBalanceRead(desk: Desk, connectionId: string, now: Date): Promise<boolean> {
  const cutoff = new Date(now.getTime() - BALANCE_REFRESH_EVERY_MS);
  const updated = await desk.db.$executeRaw`
    UPDATE "Connection" SET "balanceRequestedAt" = ${now}
    WHERE "id" = ${connectionId}::uuid AND ("balanceRequestedAt" IS NULL OR "balanceRequestedAt" <= ${cutoff})`;
  return updated > 0;
}

/** When each connection can next be read on demand (never earlier than now). */
async function nextReadTimes(desk: Desk, connections: Connection[], now: Date): Promise<Map<string, Date>> {
  const rows = await desk.db.connection.findMany({ where: { id: { in: connections.map((c) => c.id) } }, select: { id: true, balanceRequestedAt: true } });
  return new Map(rows.map((r) => [r.id, new Date(Math.max(now.getTime(), (r.balanceRequestedAt?.getTime() ?? 0) + BALANCE_REFRESH_EVERY_MS))]));
}

async function tooSoon(desk: Desk, connections: Connection[], now: Date): Promise<TooManyAttempts> {
  const next = await nextReadTimes(desk, connections, now);
  const earliest = new Date(Math.min(...[...next.values()].map((d) => d.getTime())));
  const what = connections.length === 1 ? `${connections[0]!.name}'s balances were` : "Every connection's balances were";
  return new TooManyAttempts(
    `${what} read less than ${BALANCE_REFRESH_EVERY_MS / 1000} s ago; the next read is possible in ${secondsUntil(earliest, now)} s (at ${clock(earliest)} UTC)`,
  );
}

async function skipped(desk: Desk, connections: Connection[], now: Date): Promise<RefreshOutcome[]> {
  if (connections.length === 0) return [];
  const next = await nextReadTimes(desk, connections, now);
  return connections.map((c) => {
    const nextReadAt = next.get(c.id) ?? now;
    return {
      connectionId: c.id,
      name: c.name,
      ok: false as const,
      error: `Read less than ${BALANCE_REFRESH_EVERY_MS / 1000} s ago; the next read is possible in ${secondsUntil(nextReadAt, now)} s (at ${clock(nextReadAt)} UTC)`,
      at: now,
      nextReadAt,
    };
  });
}

function secondsUntil(at: Date, now: Date): number {
  return Math.max(1, Math.ceil((at.getTime() - now.getTime()) / 1000));
}

function clock(at: Date): string {
  return at.toISOString().slice(11, 19);
}

export interface CurrencyPosition {
  currency: string;
  /** Sum of the wallets of the latest read in this currency; null until one is read. */
  balanceMinor: bigint | null;
  at: Date | null;
  wallets: { label: string; amountMinor: bigint }[];
  reservedMinor: bigint;
  reservedCount: number;
  inFlightMinor: bigint;
  inFlightCount: number;
  /** balance − reserved − in flight; null without a balance. */
  availableMinor: bigint | null;
}

/** Per connection and currency: the latest balance and what the desk has committed against it. */
export async function balanceOverview(desk: Desk) {
  const [connections, latestRows, committed] = await Promise.all([
    desk.db.connection.findMany({ orderBy: { name: "asc" }, include: { balanceReadFailure: true } }),
    latestBalanceRows(desk),
    desk.db.payout.groupBy({
      by: ["connectionId", "currency", "status"],
      where: { status: { in: [...RESERVED_STATUSES, ...IN_FLIGHT_STATUSES] } },
      _sum: { amountMinor: true },
      _count: { _all: true },
    }),
  ]);

  const positions = new Map<string, Map<string, CurrencyPosition>>();
  const positionOf = (connectionId: string, currency: string): CurrencyPosition => {
    let byCurrency = positions.get(connectionId);
    if (!byCurrency) positions.set(connectionId, (byCurrency = new Map()));
    let position = byCurrency.get(currency);
    if (!position) {
      position = { currency, balanceMinor: null, at: null, wallets: [], reservedMinor: 0n, reservedCount: 0, inFlightMinor: 0n, inFlightCount: 0, availableMinor: null };
      byCurrency.set(currency, position);
    }
    return position;
  };
  for (const row of latestRows) {
    const p = positionOf(row.connectionId, row.currency);
    p.balanceMinor = (p.balanceMinor ?? 0n) + row.amountMinor;
    p.at = row.at;
    p.wallets.push({ label: row.label, amountMinor: row.amountMinor });
  }
  for (const row of committed) {
    const p = positionOf(row.connectionId, row.currency);
    const sum = row._sum.amountMinor ?? 0n;
    if (RESERVED_STATUSES.includes(row.status)) {
      p.reservedMinor += sum;
      p.reservedCount += row._count._all;
    } else {
      p.inFlightMinor += sum;
      p.inFlightCount += row._count._all;
    }
  }

  return connections.map((c) => {
    const currencies = [...(positions.get(c.id)?.values() ?? [])].sort((a, b) => a.currency.localeCompare(b.currency));
    for (const p of currencies) {
      // Conservative on purpose: the provider may or may not have debited an in-flight payout yet.
      if (p.balanceMinor !== null) p.availableMinor = p.balanceMinor - p.reservedMinor - p.inFlightMinor;
    }
    return {
      connectionId: c.id,
      name: c.name,
      provider: c.provider,
      providerLabel: PROVIDER_LABELS[c.provider as ProviderKind],
      environment: c.environment,
      enabled: c.enabled,
      reportsBalances: reportsBalances(desk, c),
      lastError: c.balanceReadFailure ? { at: c.balanceReadFailure.at, message: c.balanceReadFailure.message } : null,
      currencies,
    };
  });
}

/**
 * The wallets of each connection and currency's latest read, from
 * BalanceLatest (a handful of rows, kept by a trigger as snapshots are
 * written) rather than from the snapshots themselves. A currency's balance is
 * the rows of its latest read only: a wallet the provider stopped reporting
 * keeps its older `at` and drops out instead of being added in forever.
 */
export async function latestBalanceRows(desk: Pick<Desk, "db">): Promise<{ connectionId: string; currency: string; label: string; amountMinor: bigint; at: Date }[]> {
  // Raw on purpose: a hot read on every page (the banner) that Prisma's query layer would make several times slower.
  const rows = await desk.db.$queryRaw<{ connectionId: string; currency: string; label: string; amountMinor: bigint; at: Date }[]>`
    SELECT "connectionId"::text AS "connectionId", "currency", "label", "amountMinor", "at"
    FROM "BalanceLatest" ORDER BY "connectionId", "currency", "label"`;
  const newest = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.connectionId}|${r.currency}`;
    newest.set(key, Math.max(newest.get(key) ?? 0, r.at.getTime()));
  }
  return rows.filter((r) => r.at.getTime() === newest.get(`${r.connectionId}|${r.currency}`));
}

/** The balance of one connection and currency over the last `days`, one point per read. */
export async function balanceHistory(desk: Desk, connectionId: string, currency: string, days: number) {
  await getConnection(desk, connectionId);
  const since = new Date(Date.now() - days * 24 * 60 * 60 * 1000);
  const rows = await desk.db.balanceSnapshot.groupBy({
    by: ["at"],
    where: { connectionId, currency, at: { gte: since } },
    _sum: { amountMinor: true },
    orderBy: { at: "asc" },
  });
  return { connectionId, currency, points: rows.map((r) => ({ at: r.at, amountMinor: r._sum.amountMinor ?? 0n })) };
}

function reportsBalances(desk: Desk, connection: Connection): boolean {
  if (!isProviderSupported(connection.provider as ProviderKind)) return false;
  try {
    return openConnector(desk, connection).capabilities.balances;
  } catch {
    return false;
  }
}

function jsonOf(value: unknown) {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

// Per desk and per process: a read under way, which a second ask joins.
const readsKey = Symbol.for("payout-desk.balance-reads");
type Holder = {
  [readsKey]?: WeakMap<Desk, Map<string, Promise<RefreshOutcome[]>>>;
};

function inFlightReads(desk: Desk) {
  const holder = globalThis as Holder;
  const byDesk = (holder[readsKey] ??= new WeakMap());
  let map = byDesk.get(desk);
  if (!map) byDesk.set(desk, (map = new Map()));
  return map;
}
