"use client";
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { money, when } from "@/components/payouts/format";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { currencyExponent, formatMoney } from "@/server/domain/money";

const RANGES = [
  { days: 1, label: "24 hours" },
  { days: 7, label: "7 days" },
  { days: 30, label: "30 days" },
] as const;

interface Point {
  /** Chart geometry only (see below). */
  t: number;
  y: number;
  /** The exact amount, for every piece of text. */
  amountMinor: bigint;
  at: Date;
}

const axisDate = new Intl.DateTimeFormat("en-GB", { month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", timeZone: "UTC" });

/** The balance of one connection and currency over time. */
export function BalanceChart({ connectionId, connectionName, currency }: { connectionId: string; connectionName: string; currency: string }) {
  const trpc = useTRPC();
  const [days, setDays] = useState<number>(7);
  const history = useQuery(trpc.balances.history.queryOptions({ connectionId, currency, days }));

  const points: Point[] = (history.data?.points ?? []).map((p) => ({
    t: new Date(p.at).getTime(),
    // A bigint cannot be plotted: the minor-unit count becomes a float for the
    // chart's geometry alone. Exact up to 2^53 minor units, and even beyond
    // that only a pixel moves. Labels and tooltips are made from amountMinor.
    y: Number(p.amountMinor),
    amountMinor: p.amountMinor,
    at: new Date(p.at),
  }));

  return (
    <Card className="p-5">
      <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
        <h2 className="text-sm font-semibold" id="balance-chart-title">
          {connectionName} · {currency} balance
        </h2>
        <div role="group" aria-label="Period" className="flex gap-1">
          {RANGES.map((r) => (
            <button
              key={r.days}
              type="button"
              aria-pressed={days === r.days}
              onClick={() => setDays(r.days)}
              className={`rounded-md px-2.5 py-1 text-xs font-medium focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600 ${
                days === r.days ? "bg-indigo-50 text-indigo-700 ring-1 ring-inset ring-indigo-200" : "text-slate-700 hover:bg-slate-100"
              }`}
            >
              {r.label}
            </button>
          ))}
        </div>
      </div>
      {history.isPending ? (
        <Loading label="Loading the history…" />
      ) : history.isError ? (
        <ErrorNote>{messageOf(history.error)}</ErrorNote>
      ) : points.length === 0 ? (
        <EmptyState title="No balance read in this period">Refresh, or choose a longer period.</EmptyState>
      ) : (
        <figure aria-labelledby="balance-chart-title" data-testid="balance-chart">
          <div className="h-72 w-full">
            <ResponsiveContainer width="100%" height="100%">
              <AreaChart data={points} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                <XAxis
                  dataKey="t"
                  type="number"
                  scale="time"
                  domain={["dataMin", "dataMax"]}
                  tickFormatter={(t: number) => axisDate.format(new Date(t))}
                  tick={{ fontSize: 11, fill: "#475569" }}
                  minTickGap={24}
                />
                <YAxis
                  width={110}
                  domain={yDomain(points, currency)}
                  allowDecimals={false}
                  // Ticks are whole minor units (nice numbers of them); back to bigint for the text.
                  tickFormatter={(y: number) => axisMoney(y, currency)}
                  tick={{ fontSize: 11, fill: "#475569" }}
                />
                <Tooltip content={<PointTooltip currency={currency} />} />
                <Area type="stepAfter" dataKey="y" stroke="#4f46e5" fill="#e0e7ff" strokeWidth={2} isAnimationActive={false} dot={points.length < 40} />
              </AreaChart>
            </ResponsiveContainer>
          </div>
          <figcaption className="mt-2 text-xs text-slate-500">
            {points.length} read{points.length === 1 ? "" : "s"}, latest {money(points.at(-1)!.amountMinor, currency)} at {when(points.at(-1)!.at)}. Times in UTC.
          </figcaption>
        </figure>
      )}
    </Card>
  );
}

/**
 * Room above and below the line (geometry, in minor units): a flat balance
 * would otherwise get an axis a few minor units wide.
 */
function yDomain(points: Point[], currency: string): [number, number] {
  const ys = points.map((p) => p.y);
  const min = Math.min(...ys);
  const max = Math.max(...ys);
  let unit = 1;
  try {
    unit = 10 ** currencyExponent(currency);
  } catch {
    // Unknown currency: plain minor units.
  }
  const pad = Math.max((max - min) * 0.1, Math.abs(max) * 0.01, unit);
  const low = Math.floor((min - pad) / unit) * unit;
  // A balance that never went below zero keeps the axis at zero or above.
  return [min >= 0 ? Math.max(0, low) : low, Math.ceil((max + pad) / unit) * unit];
}

function axisMoney(y: number, currency: string): string {
  try {
    return formatMoney(BigInt(Math.round(y)), currency, { code: false });
  } catch {
    return String(y);
  }
}

function PointTooltip({ active, payload, currency }: { active?: boolean; payload?: Array<{ payload: Point }>; currency: string }) {
  const point = active ? payload?.[0]?.payload : undefined;
  if (!point) return null;
  return (
    <div className="rounded-md bg-white px-3 py-2 text-xs shadow ring-1 ring-slate-200">
      <p className="tabular font-semibold text-slate-900">{money(point.amountMinor, currency)}</p>
      <p className="text-slate-500">{when(point.at)}</p>
    </div>
  );
}
