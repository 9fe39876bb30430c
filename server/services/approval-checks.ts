// What an approver must see of the money before approving: the connection's
// position in the payout's currency (latest balance read, what the desk has
// already committed against it, what is available). Read from the database
// only: a balance is as fresh as its last snapshot, and its age is shown
// beside it. (Likely duplicates come from duplicates.ts, shared with the
// maker's side.)
import { IN_FLIGHT_STATUSES } from "@/server/domain/payout-state";
import type { Liquidity } from "@/server/domain/approval-policy";
import { RESERVED_STATUSES } from "./balances";
import type { Db, Tx } from "./types";

export type Position = Omit<Liquidity, "remainingMinor">;

export function positionKey(connectionId: string, currency: string): string {
  return `${connectionId.toLowerCase()}|${currency}`;
}

/**
 * Per connection and currency: the latest balance read (the rows of that one
 * read, summed over wallets, as the Balances page does), approved payouts not
 * yet sent (reserved) and payouts at the provider (in flight), and what is
 * available: balance − reserved − in flight. Balance and available are null
 * when the provider's balance was never read (or it reports none).
 */
export async function positions(db: Db | Tx, pairs: ReadonlyArray<{ connectionId: string; currency: string }>): Promise<Map<string, Position>> {
  const unique = [...new Map(pairs.map((p) => [positionKey(p.connectionId, p.currency), p])).values()];
  const result = new Map<string, Position>();
  if (unique.length === 0) return result;
  const connectionIds = [...new Set(unique.map((p) => p.connectionId))];
  const [committed, balances] = await Promise.all([
    db.payout.groupBy({
      by: ["connectionId", "currency", "status"],
      where: { connectionId: { in: connectionIds }, status: { in: [...RESERVED_STATUSES, ...IN_FLIGHT_STATUSES] } },
      _sum: { amountMinor: true },
    }),
    Promise.all(
      unique.map(async (pair) => {
        const latest = await db.balanceSnapshot.findFirst({
          where: { connectionId: pair.connectionId, currency: pair.currency },
          orderBy: { at: "desc" },
          select: { at: true },
        });
        if (!latest) return { pair, at: null, sum: null };
        const sum = await db.balanceSnapshot.aggregate({ where: { connectionId: pair.connectionId, currency: pair.currency, at: latest.at }, _sum: { amountMinor: true } });
        return { pair, at: latest.at, sum: sum._sum.amountMinor ?? 0n };
      }),
    ),
  ]);
  for (const { pair, at, sum } of balances) {
    result.set(positionKey(pair.connectionId, pair.currency), { balanceMinor: sum, snapshotAt: at, reservedMinor: 0n, inFlightMinor: 0n, availableMinor: null });
  }
  for (const row of committed) {
    const position = result.get(positionKey(row.connectionId, row.currency));
    if (!position) continue;
    if (RESERVED_STATUSES.includes(row.status)) position.reservedMinor += row._sum.amountMinor ?? 0n;
    else position.inFlightMinor += row._sum.amountMinor ?? 0n;
  }
  for (const position of result.values()) {
    // Conservative, as on the Balances page: the provider may not have debited an in-flight payout yet.
    if (position.balanceMinor !== null) position.availableMinor = position.balanceMinor - position.reservedMinor - position.inFlightMinor;
  }
  return result;
}
