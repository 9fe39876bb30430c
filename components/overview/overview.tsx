"use client";
// The Overview: live counters, the period's charts (each clicks through to
// the payouts list filtered to what it shows), what needs attention, and each
// connection's health. Rendered on the server with its data (app/(dashboard)/page.tsx),
// then refreshed when the window regains focus and once a minute: the
// counters come from rollups, so a refresh is cheap, but nobody needs them
// more often than that.
import { useEffect, useMemo, useState } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useQuery } from "@tanstack/react-query";
import { Bar, BarChart, CartesianGrid, Cell, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";
import { STATUS_LABELS, PAYOUT_STATUSES } from "@/server/domain/payout-state";
import { money, when } from "@/components/payouts/format";
import { currencyExponent } from "@/server/domain/money";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";

/** Refetch once a minute, and when the window regains focus. */
export const LIVE = { refetchInterval: 60_000, refetchOnWindowFocus: true } as const;

const PERIODS = [7, 14, 30, 90] as const;
const COLORS = ["#4f46e5", "#0891b2", "#16a34a", "#d97706", "#db2777", "#7c3aed", "#475569"];

/** The payouts list's own query parameters (components/payouts/payouts-table.tsx). */
function listHref(params: { status?: string; from?: string; to?: string; connection?: string; attention?: boolean }) {
  const q = new URLSearchParams();
  if (params.status) q.set("status", params.status);
  if (params.connection) q.set("connection", params.connection);
  if (params.from) q.set("from", params.from);
  if (params.to) q.set("to", params.to);
  // The rollups' days are UTC days; the list reads days in the zone named here (else the browser's).
  if (params.from || params.to) q.set("tz", "UTC");
  if (params.attention) q.set("attention", "1");
  return `/payouts?${q.toString()}`;
}

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

      <div className="grid items-start gap-4 lg:grid-cols-2">
        <PaidPerDay data={data} />
        <SuccessRate data={data} />
        <FailuresByReason data={data} />
        <ApprovalToFinal data={data} />
      </div>

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

type Outputs = inferRouterOutputs<AppRouter>["overview"];
type Summary = Outputs["summary"];
type AttentionData = Outputs["attention"];
type HealthData = Outputs["health"];

function ChartCard({ title, note, children, testId }: { title: string; note?: string; children: React.ReactNode; testId: string }) {
  return (
    <Card className="p-5" data-testid={testId}>
      <h3 className="text-sm font-semibold">{title}</h3>
      {note && <p className="mb-3 text-xs text-slate-500">{note}</p>}
      {children}
    </Card>
  );
}

function Empty({ children }: { children: React.ReactNode }) {
  return <p className="py-10 text-center text-sm text-slate-500">{children}</p>;
}

/** Stacked bars: paid per day, one stack per connection; one chart per currency (amounts of two currencies never add up). */
function PaidPerDay({ data }: { data: Summary }) {
  const router = useRouter();
  const names = new Map(data.connections.map((c) => [c.id, c.name]));
  const byCurrency = useMemo(() => {
    const charts = new Map<string, { connections: string[]; rows: Map<string, Record<string, number | string>>; exact: Map<string, string> }>();
    for (const r of data.paidPerDay) {
      let chart = charts.get(r.currency);
      if (!chart) charts.set(r.currency, (chart = { connections: [], rows: new Map(), exact: new Map() }));
      if (!chart.connections.includes(r.connectionId)) chart.connections.push(r.connectionId);
      const row = chart.rows.get(r.day) ?? { day: r.day };
      // Geometry only: the amount in major units as a float; every label is made from the exact bigint.
      row[r.connectionId] = Number(r.amountMinor) / 10 ** safeExponent(r.currency);
      chart.rows.set(r.day, row);
      chart.exact.set(`${r.day}|${r.connectionId}`, `${money(r.amountMinor, r.currency)} · ${r.count} payout${r.count === 1 ? "" : "s"}`);
    }
    return [...charts.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [data.paidPerDay]);
  return (
    <ChartCard title="Paid per day by connection" note="Payouts created that day and paid; click a bar for its payouts." testId="chart-paid-per-day">
      {byCurrency.length === 0 ? (
        <Empty>Nothing paid in this period.</Empty>
      ) : (
        byCurrency.map(([currency, chart]) => (
          <div key={currency} className="mb-2">
            <p className="text-xs font-medium text-slate-600">{currency}</p>
            <ResponsiveContainer width="100%" height={180}>
              <BarChart data={[...chart.rows.values()]} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} fontSize={11} />
                <YAxis fontSize={11} width={60} tickFormatter={(v: number) => compact(v)} />
                <Tooltip formatter={(_value, name, item) => [chart.exact.get(`${(item.payload as { day: string }).day}|${String(name)}`) ?? "", names.get(String(name)) ?? String(name)]} />
                <Legend formatter={(value: string) => names.get(value) ?? value} wrapperStyle={{ fontSize: 11 }} />
                {chart.connections.map((id, i) => (
                  <Bar
                    key={id}
                    dataKey={id}
                    stackId="paid"
                    fill={COLORS[i % COLORS.length]}
                    cursor="pointer"
                    onClick={(entry) => {
                      const day = (entry as { payload?: { day?: string } }).payload?.day;
                      if (day) router.push(listHref({ status: "succeeded", from: day, to: day, connection: id }));
                    }}
                  />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
        ))
      )}
    </ChartCard>
  );
}

/** Of the payouts created each day that reached a provider's final word, the share paid. */
function SuccessRate({ data }: { data: Summary }) {
  const router = useRouter();
  const rows = data.successPerDay.map((d) => ({ ...d, percent: Math.round(d.rate * 1000) / 10 }));
  return (
    <ChartCard title="Success rate per day" note="Paid ÷ (paid + failed + reversed), by day of creation; click a day for its failed payouts." testId="chart-success-rate">
      {rows.length === 0 ? (
        <Empty>No payout reached a final outcome in this period.</Empty>
      ) : (
        <ResponsiveContainer width="100%" height={200}>
          <LineChart
            data={rows}
            margin={{ top: 4, right: 8, bottom: 0, left: 0 }}
            onClick={(state) => {
              const day = state?.activeLabel;
              if (typeof day === "string") router.push(listHref({ status: "failed", from: day, to: day }));
            }}
          >
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} fontSize={11} />
            <YAxis domain={[0, 100]} unit="%" fontSize={11} width={44} />
            <Tooltip
              formatter={(_v, _n, item) => {
                const d = item.payload as (typeof rows)[number];
                return [`${d.percent}% (${d.succeeded} paid, ${d.failed} failed${d.reversed ? `, ${d.reversed} reversed` : ""})`, "Success rate"];
              }}
            />
            <Line type="monotone" dataKey="percent" stroke="#16a34a" strokeWidth={2} dot={{ r: 3 }} activeDot={{ r: 5, cursor: "pointer" }} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      )}
    </ChartCard>
  );
}

function FailuresByReason({ data }: { data: Summary }) {
  const router = useRouter();
  const rows = data.failuresByReason.map((r) => ({ reason: r.code ?? "No code given", count: r.count, message: r.message }));
  const go = () => router.push(listHref({ status: "failed", from: data.period.from, to: data.period.to }));
  return (
    <ChartCard title="Failures by reason" note="Failed payouts created in the period, by the provider's code; click for the failed payouts." testId="chart-failures">
      {rows.length === 0 ? (
        <Empty>No failed payouts in this period.</Empty>
      ) : (
        <ResponsiveContainer width="100%" height={Math.max(120, rows.length * 32 + 30)}>
          <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 16, bottom: 0, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" horizontal={false} />
            <XAxis type="number" allowDecimals={false} fontSize={11} />
            <YAxis type="category" dataKey="reason" width={150} fontSize={11} />
            <Tooltip formatter={(value, _n, item) => [`${String(value)}${(item.payload as { message?: string | null }).message ? ` — ${(item.payload as { message: string }).message}` : ""}`, "Failed"]} />
            <Bar dataKey="count" fill="#e11d48" cursor="pointer" onClick={go}>
              {rows.map((r) => (
                <Cell key={r.reason} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      )}
    </ChartCard>
  );
}

function ApprovalToFinal({ data }: { data: Summary }) {
  const router = useRouter();
  const t = data.approvalToFinal;
  const rows = t.count > 0 ? [{ name: "Median", seconds: t.medianSeconds ?? 0 }, { name: "95th percentile", seconds: t.p95Seconds ?? 0 }] : [];
  return (
    <ChartCard
      title="Time from approval to final"
      note={`Payouts that reached a final status in the period (${t.count.toLocaleString("en")}); click for the paid ones.`}
      testId="chart-approval-to-final"
    >
      {rows.length === 0 ? (
        <Empty>No approved payout reached a final status in this period.</Empty>
      ) : (
        <>
          <p className="tabular mb-2 text-sm">
            median <strong data-testid="approval-median">{duration(t.medianSeconds)}</strong> · p95 <strong data-testid="approval-p95">{duration(t.p95Seconds)}</strong>
          </p>
          <ResponsiveContainer width="100%" height={120}>
            <BarChart data={rows} layout="vertical" margin={{ top: 0, right: 16, bottom: 0, left: 8 }}>
              <XAxis type="number" fontSize={11} tickFormatter={(v: number) => duration(v)} />
              <YAxis type="category" dataKey="name" width={110} fontSize={11} />
              <Tooltip formatter={(value) => [duration(Number(value)), "Approval to final"]} />
              <Bar
                dataKey="seconds"
                fill="#0891b2"
                cursor="pointer"
                onClick={() => router.push(listHref({ status: "succeeded", from: data.period.from, to: data.period.to }))}
              />
            </BarChart>
          </ResponsiveContainer>
        </>
      )}
    </ChartCard>
  );
}

type AttentionQuery = { isPending: boolean; isError: boolean; error: unknown; data?: AttentionData };

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

function safeExponent(currency: string): number {
  try {
    return currencyExponent(currency);
  } catch {
    return 0;
  }
}

function compact(n: number): string {
  return new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 }).format(n);
}

/** Seconds in words a person reads at a glance: 45 s, 3 min 20 s, 2 h 5 min. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ""}`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
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
