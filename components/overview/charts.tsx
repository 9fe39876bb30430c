"use client";
// The overview's four charts of the period, each clicking through to the
// payouts list filtered to what it shows. Loaded as their own chunk, after
// the page (overview.tsx): Recharts is most of the overview's JavaScript.
import { useMemo } from "react";
import { useRouter } from "next/navigation";
import { Bar, BarChart, CartesianGrid, Cell, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Card } from "@/components/ui/layout";
import { money } from "@/components/payouts/format";
import { currencyExponent } from "@/server/domain/money";
import { duration, listHref, type Summary } from "./common";

const COLORS = ["#4f46e5", "#0891b2", "#16a34a", "#d97706", "#db2777", "#7c3aed", "#475569"];

export function PeriodCharts({ data }: { data: Summary }) {
  return (
    <div className="grid items-start gap-4 lg:grid-cols-2">
      <PaidPerDay data={data} />
      <SuccessRate data={data} />
      <FailuresByReason data={data} />
      <ApprovalToFinal data={data} />
    </div>
  );
}

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
  return (
    <p className="py-10 text-center text-sm text-slate-500" data-testid="chart-empty">
      {children}
    </p>
  );
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
              <XAxis type="number" fontSize={11} allowDecimals={false} tickFormatter={(v: number) => duration(v)} />
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

function compact(n: number): string {
  return new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 }).format(n);
}

function safeExponent(currency: string): number {
  try {
    return currencyExponent(currency);
  } catch {
    return 0;
  }
}
