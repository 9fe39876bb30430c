"use client";
// The Overview: live counters, the period's charts (each clicks through to
// the payouts list filtered to what it shows), what needs attention, and each
// connection's health. Rendered on the server with its data (app/(dashboard)/page.tsx),
// then refreshed when the window regains focus and once a minute: the
// counters come from rollups, so a refresh is cheap, but nobody needs them
// more often than that.
import { useEffect, useState } from "react";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import dynamic from "next/dynamic";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";
import { STATUS_LABELS, PAYOUT_STATUSES } from "@/server/domain/payout-state";
import { money, when } from "@/components/payouts/format";
import { duration, listHref, type Outputs } from "./common";

/**
 * The four charts load as their own chunk after the page: Recharts is most of
 * the overview's JavaScript (first-load 300 kB gzip with it), and the counters,
 * the attention list and connector health above and below need none of it.
 * They draw in the browser only (their sizes come from the laid-out page).
 */
const PeriodCharts = dynamic(() => import("./charts").then((m) => m.PeriodCharts), {
  ssr: false,
  loading: () => (
    <div className="grid items-start gap-4 lg:grid-cols-2" aria-busy="true">
      {["Paid per day", "Success rate per day", "Failures by reason", "Approval to final"].map((title) => (
        <Card key={title} className="p-5">
          <h3 className="text-sm font-semibold">{title}</h3>
          <p className="py-10 text-center text-sm text-slate-500">Loading the chart…</p>
        </Card>
      ))}
    </div>
  ),
});

/** Refetch once a minute, and when the window regains focus. */
export const LIVE = { refetchInterval: 60_000, refetchOnWindowFocus: true } as const;

const PERIODS = [7, 14, 30, 90] as const;

function periodInput(days: number | null) {
  if (days === null) return undefined;
  const to = new Date();
  const from = new Date(to.getTime() - (days - 1) * 86_400_000);
  return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
}

export function Overview() {
  const trpc = useTRPC();
  // null: the server's default period (14 days), the one rendered on the server.
  const [days, setDays] = useState<number | null>(null);
  const summary = useQuery({ ...trpc.overview.summary.queryOptions(periodInput(days)), ...LIVE, placeholderData: (previous) => previous });
  const attention = useQuery({ ...trpc.overview.attention.queryOptions(), ...LIVE });
  const health = useQuery({ ...trpc.overview.health.queryOptions(), ...LIVE });

  if (summary.isPending) return <Loading />;
  if (summary.isError) return <ErrorNote>{messageOf(summary.error)}</ErrorNote>;
  const data = summary.data;
  const { byStatus, paidToday, period } = data;
  const selected = days ?? 14;
  return (
    <div className="space-y-6" data-testid="overview">
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Stat label="Waiting for approval" value={byStatus.pending_approval} href="/approvals" />
        <Stat label="Outcome unknown (being checked)" value={byStatus.unknown} href="/payouts?status=unknown" tone={byStatus.unknown ? "warn" : undefined} />
        <Stat label="In flight too long (needs attention)" value={data.attention} href="/payouts?attention=1" tone={data.attention ? "warn" : undefined} />
        <Card className="p-5">
          <p className="text-sm text-slate-600">Paid out today (UTC)</p>
          {paidToday.length === 0 ? (
            <p className="mt-1 text-2xl font-semibold">—</p>
          ) : (
            <ul className="space-y-2" data-testid="paid-today">
              {paidToday.map((line) => (
                <li key={line.currency} data-currency={line.currency}>
                  <Link href={listHref({ status: "succeeded", from: data.today, to: data.today })} className="tabular mt-1 block text-xl font-semibold hover:text-indigo-700">
                    {money(line.amountMinor, line.currency)}
                  </Link>
                  {/* Fees as the providers booked them; a payout whose provider stated none is counted apart, never as 0. */}
                  <p className="tabular text-xs text-slate-600" data-testid="fees-today">
                    {line.fees.length > 0 && <>fees {line.fees.map((fee) => money(fee.amountMinor, fee.currency)).join(" + ")}</>}
                    {line.fees.length > 0 && line.feesNotReported > 0 && " · "}
                    {line.feesNotReported > 0 && (
                      <span className="text-slate-500">
                        fee not reported for {line.feesNotReported === line.count ? (line.count === 1 ? "the payout" : `all ${line.count} payouts`) : `${line.feesNotReported} of ${line.count} payouts`}
                      </span>
                    )}
                    {line.feesOtherCurrency ? <span className="text-slate-500"> · fee in another currency for {line.feesOtherCurrency}</span> : null}
                  </p>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>

      <NeedsAttention query={attention} />

      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 className="text-base font-semibold">
          Payouts created {period.from} → {period.to} <span className="font-normal text-slate-500">(UTC days)</span>
        </h2>
        <div role="group" aria-label="Period" className="flex gap-1">
          {PERIODS.map((d) => (
            <button
              key={d}
              type="button"
              aria-pressed={selected === d}
              onClick={() => setDays(d === 14 ? null : d)}
              className={`rounded-md px-2.5 py-1 text-xs font-medium ${selected === d ? "bg-indigo-50 text-indigo-700 ring-1 ring-inset ring-indigo-200" : "text-slate-700 hover:bg-slate-100"}`}
            >
              {d} days
            </button>
          ))}
        </div>
      </div>

      <PeriodCharts data={data} />

      <ConnectorHealth query={health} />

      <Card className="p-5">
        <h2 className="mb-3 text-sm font-semibold">Payouts by status (all time)</h2>
        <ul className="grid gap-2 text-sm sm:grid-cols-2 lg:grid-cols-4">
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

type AttentionData = Outputs["attention"];
type AttentionQuery = { isPending: boolean; isError: boolean; error: unknown; data?: AttentionData };
type HealthData = Outputs["health"];

function NeedsAttention({ query }: { query: AttentionQuery }) {
  if (query.isPending) return <Loading label="Checking what needs attention…" />;
  if (query.isError || !query.data) return <ErrorNote>{messageOf(query.error)}</ErrorNote>;
  const { items, balanceFailures } = query.data;
  const open = items.filter((i) => i.count > 0);
  return (
    <Card className="p-5" data-testid="needs-attention">
      <h2 className="mb-3 text-sm font-semibold">Needs attention</h2>
      {open.length === 0 && <p className="text-sm text-slate-600">Nothing needs attention.</p>}
      <ul className="grid gap-2 text-sm sm:grid-cols-2 lg:grid-cols-4">
        {items.map((item) => (
          <li key={item.key} data-key={item.key}>
            <Link
              href={item.href}
              className={`flex justify-between gap-3 rounded px-2 py-1 hover:bg-slate-50 ${item.count > 0 ? "font-medium text-orange-800" : "text-slate-600"}`}
            >
              <span>{item.label}</span>
              <span className="tabular">{item.count}</span>
            </Link>
          </li>
        ))}
      </ul>
      {balanceFailures.length > 0 && (
        <ul className="mt-3 space-y-1 text-xs text-slate-600">
          {balanceFailures.map((f) => (
            <li key={f.connectionName}>
              Balance of {f.connectionName} could not be read: {f.message} ({when(f.at)})
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function ConnectorHealth({ query }: { query: { isPending: boolean; isError: boolean; error: unknown; data?: HealthData } }) {
  if (query.isPending) return <Loading label="Reading connector health…" />;
  if (query.isError || !query.data) return <ErrorNote>{messageOf(query.error)}</ErrorNote>;
  const { windowHours, connections } = query.data;
  const pct = (n: number | null) => (n === null ? "—" : `${(n * 100).toFixed(n > 0 && n < 0.01 ? 2 : 1)}%`);
  const msText = (n: number | null) => (n === null ? "—" : `${Math.round(n)} ms`);
  return (
    <Card className="overflow-x-auto p-5" data-testid="connector-health">
      <h2 className="mb-1 text-sm font-semibold">Connector health</h2>
      <p className="mb-3 text-xs text-slate-500">The last {windowHours} hours of provider calls and callbacks; success rate of payouts created since then.</p>
      <table className="w-full min-w-[48rem] text-left text-sm">
        <thead className="text-xs text-slate-500">
          <tr>
            <th className="py-1 pr-3 font-medium">Connection</th>
            <th className="py-1 pr-3 font-medium">Success</th>
            <th className="py-1 pr-3 font-medium">Latency p50 / p95</th>
            <th className="py-1 pr-3 font-medium">Callback lag p50 / p95</th>
            <th className="py-1 pr-3 font-medium">Oldest in flight</th>
            <th className="py-1 pr-3 font-medium">Timeouts</th>
            <th className="py-1 pr-3 font-medium">5xx</th>
            <th className="py-1 pr-3 font-medium">Refusals (4xx)</th>
            <th className="py-1 font-medium">Calls</th>
          </tr>
        </thead>
        <tbody className="tabular divide-y divide-slate-100">
          {connections.map((c) => (
            <tr key={c.id} data-connection={c.name}>
              <td className="py-1.5 pr-3">
                <Link href={listHref({ connection: c.id })} className="font-medium hover:text-indigo-700">
                  {c.name}
                </Link>
                {!c.enabled && <span className="ml-1 text-xs text-slate-500">(off)</span>}
              </td>
              <td className={`py-1.5 pr-3 ${c.successRate !== null && c.successRate < 0.9 ? "text-orange-700" : ""}`}>
                {pct(c.successRate)}
                {c.finished > 0 && <span className="text-xs text-slate-500"> of {c.finished}</span>}
              </td>
              <td className="py-1.5 pr-3">
                {msText(c.latencyMs.p50)} / {msText(c.latencyMs.p95)}
              </td>
              <td className="py-1.5 pr-3">
                {duration(c.callbackLagSeconds.p50)} / {duration(c.callbackLagSeconds.p95)}
              </td>
              <td className="py-1.5 pr-3">
                {c.inFlight.count === 0 ? (
                  "—"
                ) : (
                  <Link href={listHref({ connection: c.id, status: "processing" })} className="hover:text-indigo-700" title={`${c.inFlight.count} in flight`}>
                    <Ago date={c.inFlight.oldestSubmittedAt ?? c.inFlight.oldestCreatedAt} /> ({c.inFlight.count})
                  </Link>
                )}
              </td>
              <td className="py-1.5 pr-3">{errorCell(c.errors.timeout)}</td>
              <td className="py-1.5 pr-3">{errorCell(c.errors.server_error)}</td>
              <td className="py-1.5 pr-3">{errorCell(c.errors.refused)}</td>
              <td className="py-1.5">
                {c.calls}
                {c.errors.network.count > 0 && <span className="text-xs text-orange-700"> · {c.errors.network.count} unreachable</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

function errorCell(e: { count: number; rate: number | null }) {
  if (e.rate === null) return "—";
  return <span className={e.count > 0 ? "text-orange-700" : ""}>{`${(e.rate * 100).toFixed(1)}%`}{e.count > 0 ? ` (${e.count})` : ""}</span>;
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

/** How long ago, counted in the browser once mounted: the server's clock would not match the browser's (a hydration mismatch); until then, the time itself. */
function Ago({ date }: { date: Date | string | null }) {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  if (!date) return <>—</>;
  if (now === null) return <>since {when(date)}</>;
  return <>{duration((now - new Date(date).getTime()) / 1000)} ago</>;
}
