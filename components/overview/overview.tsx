"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";
import { STATUS_LABELS, PAYOUT_STATUSES } from "@/server/domain/payout-state";
import { money } from "@/components/payouts/format";

export function Overview() {
  const trpc = useTRPC();
  const summary = useQuery(trpc.overview.summary.queryOptions(undefined, { refetchInterval: 15_000 }));
  if (summary.isPending) return <Loading />;
  if (summary.isError) return <ErrorNote>{messageOf(summary.error)}</ErrorNote>;
  const { byStatus, today } = summary.data;
  const waiting = byStatus.pending_approval ?? 0;
  const unknown = byStatus.unknown ?? 0;
  const totals = new Map<string, bigint>();
  for (const row of today) if (row.status === "succeeded") totals.set(row.currency, (totals.get(row.currency) ?? 0n) + row.amountMinor);
  return (
    <div className="space-y-6">
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Stat label="Waiting for approval" value={waiting} href="/approvals" />
        <Stat label="Outcome unknown (being checked)" value={unknown} href="/payouts?status=unknown" tone={unknown ? "warn" : undefined} />
        <Stat
          label="In flight too long (needs attention)"
          value={summary.data.attention}
          href="/payouts?attention=1"
          tone={summary.data.attention ? "warn" : undefined}
        />
        <Card className="p-5">
          <p className="text-sm text-slate-600">Paid out today (UTC)</p>
          {totals.size === 0 ? (
            <p className="mt-1 text-2xl font-semibold">—</p>
          ) : (
            [...totals].map(([currency, amount]) => (
              <p key={currency} className="tabular mt-1 text-xl font-semibold">
                {money(amount, currency)}
              </p>
            ))
          )}
        </Card>
      </div>
      <Card className="p-5">
        <h2 className="mb-3 text-sm font-semibold">Payouts by status</h2>
        <ul className="grid gap-2 text-sm sm:grid-cols-2 lg:grid-cols-5">
          {PAYOUT_STATUSES.map((s) => (
            <li key={s}>
              <Link href={`/payouts?status=${s}`} className="flex justify-between rounded px-2 py-1 hover:bg-slate-50">
                <span>{STATUS_LABELS[s]}</span>
                <span className="tabular font-medium">{byStatus[s] ?? 0}</span>
              </Link>
            </li>
          ))}
        </ul>
      </Card>
    </div>
  );
}

function Stat({ label, value, href, tone }: { label: string; value: number; href: string; tone?: "warn" }) {
  return (
    <Link href={href}>
      <Card className={`p-5 hover:ring-indigo-300 ${tone === "warn" ? "ring-orange-300" : ""}`}>
        <p className="text-sm text-slate-600">{label}</p>
        <p className="tabular mt-1 text-2xl font-semibold">{value}</p>
      </Card>
    </Link>
  );
}
