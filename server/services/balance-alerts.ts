// Low-balance alerts (issue 10): per connection and currency, the balance
// under which the desk shows a banner on every page, on the Balances page and
// under the overview's "Needs attention". Typed in major units, stored in
// minor units (bigint), set by admins (Settings → Low-balance alerts), every
// change audited with what it was and what it became.
//
// What is compared is the provider's balance of the latest read (the sum of
// its wallets in that currency), the figure the provider itself reports; the
// desk's reserved and in-flight payouts are shown beside it on the Balances
// page. A currency never read is "not known", never "low".
import { isKnownCurrency, MoneyError, parseAmount, toDecimalString } from "@/server/domain/money";
import { audit } from "./audit";
import { latestBalanceRows } from "./balances";
import { FieldErrors, Forbidden } from "./errors";
import type { Actor, Desk } from "./types";

export interface BalanceAlertView {
  connectionId: string;
  connectionName: string;
  currency: string;
  thresholdMinor: bigint;
  updatedAt: Date;
}

export interface LowBalance {
  connectionId: string;
  connectionName: string;
  currency: string;
  /** The latest read's balance (sum of its wallets), minor units. */
  balanceMinor: bigint;
  thresholdMinor: bigint;
  /** When that balance was read. */
  at: Date;
}

/** Every threshold set, by connection name then currency. */
export async function balanceAlerts(desk: Pick<Desk, "db">): Promise<BalanceAlertView[]> {
  const rows = await desk.db.balanceAlert.findMany({ include: { connection: { select: { name: true } } } });
  return rows
    .map((r) => ({ connectionId: r.connectionId, connectionName: r.connection.name, currency: r.currency, thresholdMinor: r.thresholdMinor, updatedAt: r.updatedAt }))
    .sort((a, b) => a.connectionName.localeCompare(b.connectionName) || a.currency.localeCompare(b.currency));
}

export interface BalanceAlertInput {
  connectionId: string;
  currency: string;
  /** Major units as typed ("5,000.50"); blank removes the alert. */
  amount: string;
}

/**
 * Sets (or with a blank amount removes) one connection and currency's
 * threshold. Admins only. Refusals name the field and the rule.
 */
export async function setBalanceAlert(desk: Desk, actor: Actor, input: BalanceAlertInput, ip?: string): Promise<BalanceAlertView | null> {
  if (actor.role !== "admin") throw new Forbidden(`Only admins set low-balance alerts; you are ${actor.role}`, "balanceAlerts.role");
  const errors: Record<string, string> = Object.create(null);
  const currency = input.currency.trim().toUpperCase();
  if (!/^[A-Z]{3,4}$/.test(currency) || !isKnownCurrency(currency)) {
    errors.currency = `Currency: an ISO 4217 code such as ZMW or UGX (or USDT); "${input.currency.trim().slice(0, 8)}" is not one`;
  }
  const connection = await desk.db.connection.findUnique({ where: { id: input.connectionId } });
  if (!connection) errors.connectionId = "Connection: choose one of the desk's connections";
  let thresholdMinor: bigint | null = null;
  const typed = input.amount.trim();
  if (typed !== "" && !errors.currency) {
    try {
      thresholdMinor = parseAmount(typed, currency);
      if (thresholdMinor <= 0n) errors.amount = "Alert below: more than zero, or blank for no alert";
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      errors.amount = `Alert below: ${error.message}`;
    }
  }
  if (Object.keys(errors).length > 0 || !connection) throw new FieldErrors(errors);

  return desk.db.$transaction(async (tx) => {
    const key = { connectionId_currency: { connectionId: connection.id, currency } };
    const before = await tx.balanceAlert.findUnique({ where: key });
    const shown = (minor: bigint | null | undefined) => (minor == null ? null : `${toDecimalString(minor, currency)} ${currency}`);
    let after: { thresholdMinor: bigint; updatedAt: Date } | null = null;
    if (thresholdMinor === null) {
      if (before) await tx.balanceAlert.delete({ where: key });
    } else {
      after = await tx.balanceAlert.upsert({
        where: key,
        create: { connectionId: connection.id, currency, thresholdMinor },
        update: { thresholdMinor },
      });
    }
    await audit(tx, {
      actorId: actor.id,
      action: "balances.alert_set",
      entityType: "connection",
      entityId: connection.id,
      details: {
        connection: connection.name,
        currency,
        changes: { threshold: { from: shown(before?.thresholdMinor), to: shown(after?.thresholdMinor) } },
        fromMinor: before ? before.thresholdMinor.toString() : null,
        toMinor: after ? after.thresholdMinor.toString() : null,
      },
      ip,
    });
    return after ? { connectionId: connection.id, connectionName: connection.name, currency, thresholdMinor: after.thresholdMinor, updatedAt: after.updatedAt } : null;
  });
}

/**
 * The connections and currencies whose latest balance is under their alert
 * threshold (enabled connections only), lowest against its threshold first.
 * For the desk-wide banner, the Balances page and the overview's "Needs
 * attention". A few small reads: the thresholds and BalanceLatest.
 */
export async function lowBalances(desk: Pick<Desk, "db">): Promise<LowBalance[]> {
  const alerts = await desk.db.balanceAlert.findMany({ where: { connection: { enabled: true } }, include: { connection: { select: { name: true } } } });
  if (alerts.length === 0) return [];
  const latest = await latestBalanceRows(desk);
  const balances = new Map<string, { sum: bigint; at: Date }>();
  for (const row of latest) {
    const key = `${row.connectionId}|${row.currency}`;
    const b = balances.get(key) ?? { sum: 0n, at: row.at };
    b.sum += row.amountMinor;
    balances.set(key, b);
  }
  const low: LowBalance[] = [];
  for (const alert of alerts) {
    const balance = balances.get(`${alert.connectionId}|${alert.currency}`);
    if (!balance || balance.sum >= alert.thresholdMinor) continue;
    low.push({ connectionId: alert.connectionId, connectionName: alert.connection.name, currency: alert.currency, balanceMinor: balance.sum, thresholdMinor: alert.thresholdMinor, at: balance.at });
  }
  // Lowest share of its threshold first (compared exactly, in integers).
  return low.sort((a, b) => (a.balanceMinor * b.thresholdMinor < b.balanceMinor * a.thresholdMinor ? -1 : a.balanceMinor * b.thresholdMinor > b.balanceMinor * a.thresholdMinor ? 1 : a.connectionName.localeCompare(b.connectionName)));
}
