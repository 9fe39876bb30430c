"use client";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { money } from "@/components/payouts/format";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { assign, useAddressQuery } from "@/components/ui/use-address-query";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { StatusBadge } from "@/components/ui/status-badge";
import { STATUS_LABELS, type PayoutStatus } from "@/server/domain/payout-state";
import { formatInZone, PERIOD_LABELS, PERIOD_PRESETS, type PeriodPreset } from "@/server/domain/statement";
import { DownloadButtons } from "./download-buttons";
import { StatementSummary } from "./statement-summary";
import type { StatementLine, StatementOptions, StatementView } from "./types";

/** The browser's own zone, read after hydration (the server cannot know it). */
function useBrowserZone(): string | null {
  const [zone, setZone] = useState<string | null>(null);
  useEffect(() => setZone(Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"), []);
  return zone;
}

/** The statement's question lives in the address bar, so a statement can be bookmarked, shared and reloaded. */
function useQuestion(options: StatementOptions | undefined) {
  const { params, update } = useAddressQuery();
  const browserZone = useBrowserZone();
  const connectionId = params.get("connection") || "";
  const connection = options?.connections.find((c) => c.id === connectionId) ?? null;
  const currencies = connection ? connection.currencies : (options?.currencies ?? []);
  const asked = params.get("currency") ?? "";
  const recent = connection ? connection.recentCurrency : (options?.recentCurrency ?? null);
  const currency = currencies.includes(asked) ? asked : recent && currencies.includes(recent) ? recent : (currencies[0] ?? "");
  const periodParam = params.get("period") ?? "";
  const period: PeriodPreset = (PERIOD_PRESETS as readonly string[]).includes(periodParam) ? (periodParam as PeriodPreset) : "today";
  const zoneChoice = params.get("zone") === "mine" ? "mine" : "desk";
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  function set(changes: Record<string, string>) {
    update((next) => assign(next, changes));
  }
  return {
    connectionId,
    connection,
    currencies,
    currency,
    period,
    from,
    to,
    zoneChoice,
    browserZone,
    timeZone: zoneChoice === "mine" ? browserZone : null,
    set,
  } as const;
}

export function StatementsView() {
  const trpc = useTRPC();
  const options = useQuery(trpc.statements.options.queryOptions());
  const q = useQuestion(options.data);
  const input = {
    connectionId: q.connectionId || null,
    currency: q.currency,
    period: q.period,
    from: q.period === "custom" ? q.from || null : null,
    to: q.period === "custom" ? q.to || null : null,
    timeZone: q.timeZone,
  };
  // The user's own zone is known only once the page runs in the browser; until then nothing is asked in the wrong zone.
  const ready = Boolean(q.currency) && (q.zoneChoice === "desk" || q.browserZone !== null);
  const summary = useQuery(trpc.statements.summary.queryOptions(input, { enabled: ready, retry: false }));
  const errors = fieldErrorsOf(summary.error);

  if (options.isPending) return <Loading label="Loading connections…" />;
  if (options.isError) return <ErrorNote>{messageOf(options.error)}</ErrorNote>;

  return (
    <div className="space-y-6">
      <Controls q={q} options={options.data} errors={errors} />

      {!q.currency ? (
        <Card>
          <EmptyState title="Nothing to show yet">
            {q.connection ? `${q.connection.name} has no payouts and no balances yet.` : "No connection has payouts or balances yet."} A statement appears once
            money has moved.
          </EmptyState>
        </Card>
      ) : summary.isPending ? (
        <Card>
          <Loading label="Working out the statement…" />
        </Card>
      ) : summary.isError ? (
        <ErrorNote>{Object.keys(errors).length ? "Check the fields marked above." : messageOf(summary.error)}</ErrorNote>
      ) : (
        <Statement view={summary.data} input={input} />
      )}
    </div>
  );
}

function Controls({ q, options, errors }: { q: ReturnType<typeof useQuestion>; options: StatementOptions; errors: Record<string, string> }) {
  return (
    <Card className="p-4">
      <form className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-4" onSubmit={(e) => e.preventDefault()} aria-label="Statement">
        <Field label="Connection" error={errors.connectionId}>
          {(props) => (
            <select {...props} name="connection" value={q.connectionId} onChange={(e) => q.set({ connection: e.target.value })}>
              <option value="">All connections</option>
              {options.connections.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Currency" error={errors.currency}>
          {(props) => (
            <select {...props} name="currency" value={q.currency} onChange={(e) => q.set({ currency: e.target.value })} disabled={q.currencies.length === 0}>
              {q.currencies.length === 0 && <option value="">None yet</option>}
              {q.currencies.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Period" error={errors.period}>
          {(props) => (
            <select {...props} name="period" value={q.period} onChange={(e) => q.set({ period: e.target.value })}>
              {PERIOD_PRESETS.map((p) => (
                <option key={p} value={p}>
                  {PERIOD_LABELS[p]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <fieldset>
          <legend className="block text-sm font-medium text-slate-800">Time zone</legend>
          <div className="mt-1 space-y-1 text-sm text-slate-800">
            <label className="flex items-center gap-2">
              <input type="radio" name="zone" value="desk" checked={q.zoneChoice === "desk"} onChange={() => q.set({ zone: "" })} />
              The desk&apos;s ({options.defaultTimeZone})
            </label>
            <label className="flex items-center gap-2">
              <input type="radio" name="zone" value="mine" checked={q.zoneChoice === "mine"} onChange={() => q.set({ zone: "mine" })} />
              Mine ({q.browserZone ?? "reading it from your browser…"})
            </label>
          </div>
          {errors.timeZone && <p className="mt-1 text-sm text-rose-700">{errors.timeZone}</p>}
        </fieldset>
        {q.period === "custom" && (
          <>
            <Field label="First day" error={errors.from} hint="Included">
              {(props) => <input {...props} type="date" name="from" value={q.from} onChange={(e) => q.set({ from: e.target.value })} />}
            </Field>
            <Field label="Last day" error={errors.to} hint="Included">
              {(props) => <input {...props} type="date" name="to" value={q.to} min={q.from || undefined} onChange={(e) => q.set({ to: e.target.value })} />}
            </Field>
          </>
        )}
      </form>
    </Card>
  );
}

interface Input {
  connectionId: string | null;
  currency: string;
  period: string;
  from: string | null;
  to: string | null;
  timeZone: string | null;
}

function Statement({ view, input }: { view: StatementView; input: Input }) {
  const zone = view.period.timeZone;
  const from = new Date(view.period.from);
  const to = new Date(view.period.to);
  // The download asks for exactly the days and zone shown here, even if the page stays open past midnight or the desk's default zone changes.
  const href = (format: string) =>
    `/api/statements/export?${new URLSearchParams({
      connectionId: view.connectionId ?? "all",
      currency: view.currency,
      period: "custom",
      from: view.period.firstDay,
      to: view.period.lastDay,
      timeZone: zone,
      format,
    })}`;
  const empty = view.total.lineCount === 0;
  const several = view.sections.length > 1;
  const single = view.sections.length === 1 ? view.sections[0]! : null;
  return (
    <>
      <Card className="space-y-5 p-5">
        <div className="flex flex-wrap items-start justify-between gap-4">
          <div>
            <h2 className="text-lg font-semibold text-slate-900" data-testid="statement-title">
              {view.connectionLabel} · {view.currency} · {view.periodLabel}
            </h2>
            <p className="mt-1 text-sm text-slate-600">
              From {formatInZone(from, zone)} to {formatInZone(to, zone)} (the end not included). Times are shown in {zone}.
            </p>
            {view.openUntil && (
              <p className="mt-1 text-sm text-amber-800" data-testid="period-open">
                This period has not ended: the figures are as of {formatInZone(new Date(view.openUntil), zone)}.
              </p>
            )}
          </div>
          <DownloadButtons
            href={href}
            emptyReason={empty ? "No payouts settled in this period, and none in flight at its end: there is nothing to download." : null}
          />
        </div>
        {view.sections.length === 0 ? (
          <EmptyState title="No payouts settled in this period">No connection had payouts or balances in {view.currency} by the end of this period.</EmptyState>
        ) : (
          <>
            {several && <h3 className="text-sm font-semibold uppercase tracking-wide text-slate-500">All connections together</h3>}
            <StatementSummary figures={view.total} timeZone={zone} periodFrom={from} periodTo={to} providerLabel={single?.providerLabel ?? null} testId="statement-total" />
          </>
        )}
      </Card>

      {several &&
        view.sections.map((s) => (
          <Card key={s.connectionId} className="space-y-3 p-5">
            <h3 className="text-base font-semibold text-slate-900">{s.connectionName}</h3>
            <StatementSummary figures={s.figures} timeZone={zone} periodFrom={from} periodTo={to} providerLabel={s.providerLabel} testId={`statement-${s.connectionId}`} />
          </Card>
        ))}

      <Lines input={input} zone={zone} total={view.total.lineCount} />
    </>
  );
}

function Lines({ input, zone, total }: { input: Input; zone: string; total: number }) {
  const trpc = useTRPC();
  const lines = useInfiniteQuery(trpc.statements.lines.infiniteQueryOptions({ ...input, limit: 50 }, { getNextPageParam: (last) => last.nextCursor, retry: false }));
  const rows = useMemo(() => lines.data?.pages.flatMap((p) => p.lines) ?? [], [lines.data]);
  return (
    <section aria-labelledby="statement-lines" className="space-y-3">
      <h2 id="statement-lines" className="text-base font-semibold text-slate-900">
        Detail{total > 0 ? ` (${total.toLocaleString("en")} ${total === 1 ? "payout" : "payouts"})` : ""}
      </h2>
      <Card className="overflow-x-auto">
        {lines.isPending ? (
          <Loading label="Loading the payouts…" />
        ) : lines.isError ? (
          <div className="p-4">
            <ErrorNote>{messageOf(lines.error)}</ErrorNote>
          </div>
        ) : rows.length === 0 ? (
          <EmptyState title="No payouts settled in this period" />
        ) : (
          <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="statement-lines">
            <thead className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
              <tr>
                <th className="px-4 py-3">Settled ({zone})</th>
                <th className="px-4 py-3">Payout</th>
                <th className="px-4 py-3">Status at the end</th>
                <th className="px-4 py-3 text-right">Amount</th>
                <th className="px-4 py-3 text-right">Fee</th>
                <th className="px-4 py-3">Provider reference</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 bg-white">
              {rows.map((line) => (
                <LineRow key={`${line.kind}:${line.payoutId}`} line={line} zone={zone} />
              ))}
            </tbody>
          </table>
        )}
      </Card>
      {lines.hasNextPage && (
        <div className="flex justify-center">
          <Button variant="secondary" busy={lines.isFetchingNextPage} onClick={() => lines.fetchNextPage()}>
            Load more
          </Button>
        </div>
      )}
    </section>
  );
}

function LineRow({ line, zone }: { line: StatementLine; zone: string }) {
  const statusNow = line.currentStatus !== line.status ? STATUS_LABELS[line.currentStatus as PayoutStatus] ?? line.currentStatus : null;
  return (
    <tr className="align-top" data-kind={line.kind}>
      <td className="whitespace-nowrap px-4 py-3 text-slate-700">
        {line.kind === "in_flight" ? (
          <span className="text-slate-500">In flight at the end</span>
        ) : line.finalizedAt ? (
          formatInZone(new Date(line.finalizedAt), zone)
        ) : (
          "—"
        )}
        {line.kind === "reversal" && line.reversedAt && (
          <div className="text-xs text-fuchsia-800">Paid before the period; reversed {formatInZone(new Date(line.reversedAt), zone)}</div>
        )}
        {line.kind === "settled" && line.reversedAt && <div className="text-xs text-fuchsia-800">Reversed {formatInZone(new Date(line.reversedAt), zone)}</div>}
      </td>
      <td className="min-w-40 px-4 py-3 wrap-anywhere">
        <Link href={`/payouts/${line.payoutId}`} className="font-medium text-indigo-700 hover:underline">
          {line.recipientName ?? (line.recipientPhone ? `+${line.recipientPhone}` : (line.recipientAccount ?? line.payoutId.slice(0, 8)))}
        </Link>
        <div className="text-xs text-slate-500">
          {line.connectionName} · {line.description}
        </div>
      </td>
      <td className="px-4 py-3">
        <StatusBadge status={line.status} />
        {statusNow && <div className="mt-0.5 text-xs text-slate-500">Now {statusNow.toLowerCase()}</div>}
      </td>
      <td className="tabular whitespace-nowrap px-4 py-3 text-right font-medium">{money(line.amountMinor, line.currency)}</td>
      <td className="tabular whitespace-nowrap px-4 py-3 text-right text-slate-700">
        {line.feeMinor === null ? <span className="text-slate-500">not reported</span> : money(line.feeMinor, line.feeCurrency ?? line.currency)}
      </td>
      <td className="px-4 py-3 text-slate-700 wrap-anywhere">{line.providerReference ?? "—"}</td>
    </tr>
  );
}
