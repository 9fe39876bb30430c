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
  const { byStatus, paidToday } = summary.data;
  const waiting = byStatus.pending_approval ?? 0;
  const unknown = byStatus.unknown ?? 0;
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
          {paidToday.length === 0 ? (
            <p className="mt-1 text-2xl font-semibold">—</p>
          ) : (
            <ul className="space-y-2" data-testid="paid-today">
              {paidToday.map((line) => (
                <li key={line.currency} data-currency={line.currency}>
                  <p className="tabular mt-1 text-xl font-semibold">{money(line.amountMinor, line.currency)}</p>
                  {/* Fees as the providers booked them; a payout whose provider stated none is counted apart, never as 0. */}
                  <p className="tabular text-xs text-slate-600" data-testid="fees-today">
                    {line.fees.length > 0 && <>fees {line.fees.map((fee) => money(fee.amountMinor, fee.currency)).join(" + ")}</>}
                    {line.fees.length > 0 && line.feesNotReported > 0 && " · "}
                    {line.feesNotReported > 0 && (
                      <span className="text-slate-500">
                        fee not reported for {line.feesNotReported === line.count ? (line.count === 1 ? "the payout" : `all ${line.count} payouts`) : `${line.feesNotReported} of ${line.count} payouts`}
                      </span>
                    )}
                  </p>
                </li>
              ))}
            </ul>
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
