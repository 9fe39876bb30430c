"use client";
// The Audit page: filters in the address bar (so a filtered view can be
// bookmarked and shared), entries newest first in keyset pages, each linked
// to its object; chain verification and the period export beside it.
import Link from "next/link";
import { useMemo, useState } from "react";
import { assign, useAddressQuery } from "@/components/ui/use-address-query";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { controlClass } from "@/components/ui/field";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { formatInZone } from "@/server/domain/statement";
import { browserTimeZone, changesOf, entityLabel, shortHash, shown } from "./format";
import { VerifyChain } from "./verify-chain";
import { AuditExport } from "./audit-export";

const PARAMS = ["who", "action", "type", "id", "from", "to", "upto"] as const;
type Param = (typeof PARAMS)[number];

function useFilters() {
  const { params, update } = useAddressQuery();
  const value = (key: Param) => params.get(key) ?? "";
  function set(changes: Partial<Record<Param, string>>) {
    update((next) => assign(next, changes));
  }
  return { value, set, any: PARAMS.some((p) => params.get(p)) };
}

export function AuditView() {
  const trpc = useTRPC();
  const { value, set, any } = useFilters();
  const timeZone = useMemo(() => browserTimeZone(), []);
  const options = useQuery(trpc.audit.filterOptions.queryOptions());
  const input = {
    actor: value("who") || null,
    action: value("action") || null,
    entityType: value("type") || null,
    entityId: value("id") || null,
    fromDay: value("from") || null,
    toDay: value("to") || null,
    timeZone,
    // ?upto=<entry>: the list starts at that entry (Verify chain links a broken one so).
    upto: value("upto") || null,
    limit: 50,
  };
  const upto = value("upto");
  const list = useInfiniteQuery(trpc.audit.list.infiniteQueryOptions(input, { getNextPageParam: (last) => last.nextCursor }));
  const entries = list.data?.pages.flatMap((p) => p.entries) ?? [];
  const errors = fieldErrorsOf(list.error);

  return (
    <div className="space-y-6">
      <div className="grid gap-4 lg:grid-cols-2">
        <VerifyChain />
        <AuditExport fromDay={value("from")} toDay={value("to")} timeZone={timeZone} />
      </div>

      <form className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-6" onSubmit={(e) => e.preventDefault()} aria-label="Audit filters">
        <label className="text-xs font-medium text-slate-700">
          Who
          <select className={`${controlClass} mt-1`} name="who" value={value("who")} onChange={(e) => set({ who: e.target.value })}>
            <option value="">Everyone</option>
            <option value="system">The desk itself (no person)</option>
            {options.data?.people.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.email})
              </option>
            ))}
          </select>
          {errors.actor && <span className="block text-rose-700 wrap-anywhere">{errors.actor}</span>}
        </label>
        <TextFilter label="Action starts with" name="action" placeholder="payout." initial={value("action")} onCommit={(v) => set({ action: v })} list="audit-actions" error={errors.action} />
        <datalist id="audit-actions">
          {options.data?.actions.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <label className="text-xs font-medium text-slate-700">
          Object
          <select className={`${controlClass} mt-1`} name="type" value={value("type")} onChange={(e) => set({ type: e.target.value })}>
            <option value="">Any kind</option>
            {options.data?.entityTypes.map((type) => (
              <option key={type} value={type}>
                {entityLabel(type)}
              </option>
            ))}
          </select>
        </label>
        <TextFilter label="Object id" name="id" placeholder="Payout or user id…" initial={value("id")} onCommit={(v) => set({ id: v })} error={errors.entityId} />
        <label className="text-xs font-medium text-slate-700">
          From day
          <input type="date" className={`${controlClass} mt-1`} name="from" value={value("from")} onChange={(e) => set({ from: e.target.value })} />
          {errors.fromDay && <span className="block text-rose-700 wrap-anywhere">{errors.fromDay}</span>}
        </label>
        <label className="text-xs font-medium text-slate-700">
          To day
          <input type="date" className={`${controlClass} mt-1`} name="to" value={value("to")} onChange={(e) => set({ to: e.target.value })} />
          {errors.toDay && <span className="block text-rose-700 wrap-anywhere">{errors.toDay}</span>}
        </label>
      </form>
      {errors.upto && <ErrorNote>{errors.upto}</ErrorNote>}
      <p className="text-xs text-slate-500">
        Days and times in {timeZone} (your browser).{upto && ` Starting at entry #${upto}.`}{" "}
        {any && (
          <button type="button" className="font-medium text-indigo-700 hover:underline" onClick={() => set({ who: "", action: "", type: "", id: "", from: "", to: "", upto: "" })}>
            Clear the filters
          </button>
        )}
      </p>

      <Card className="overflow-hidden">
        {list.isPending ? (
          <Loading label="Loading the audit trail…" />
        ) : list.isError ? (
          <div className="p-4">
            <ErrorNote>{messageOf(list.error)}</ErrorNote>
          </div>
        ) : entries.length === 0 ? (
          <EmptyState title="No entries match">{any ? "Clear a filter to see more." : "Nothing has been recorded yet."}</EmptyState>
        ) : (
          <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="audit-table">
            <thead className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
              <tr>
                <th className="px-4 py-3">#</th>
                <th className="px-4 py-3">When</th>
                <th className="px-4 py-3">Who</th>
                <th className="px-4 py-3">Action</th>
                <th className="px-4 py-3">Object</th>
                <th className="px-4 py-3">What</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 bg-white">
              {entries.map((entry) => (
                <tr key={entry.id} id={`entry-${entry.id}`} className={`align-top ${entry.id === value("upto") ? "bg-amber-50" : ""}`} data-testid="audit-entry">
                  <td className="tabular whitespace-nowrap px-4 py-3 text-xs text-slate-500" title={`hash ${entry.hash ?? "none"}\nprevious ${entry.prevHash ?? "none (start of the chain)"}`}>
                    {entry.id}
                    <span className="block font-mono">{shortHash(entry.hash)}</span>
                  </td>
                  <td className="whitespace-nowrap px-4 py-3 text-slate-600">{formatInZone(new Date(entry.at), timeZone)}</td>
                  <td className="min-w-32 px-4 py-3 wrap-anywhere">
                    {entry.actor ? (
                      <>
                        <div className="font-medium">{entry.actor.name}</div>
                        <div className="text-xs text-slate-500">{entry.actor.email}</div>
                      </>
                    ) : (
                      <span className="text-slate-500">The desk</span>
                    )}
                    {entry.ip && <div className="font-mono text-xs text-slate-500">{entry.ip}</div>}
                  </td>
                  <td className="px-4 py-3 font-mono text-xs text-slate-800 wrap-anywhere">{entry.action}</td>
                  <td className="min-w-32 px-4 py-3 wrap-anywhere">
                    <div className="text-slate-700">{entityLabel(entry.entityType)}</div>
                    {entry.href ? (
                      <Link href={entry.href} className="font-mono text-xs text-indigo-700 hover:underline" data-testid="audit-object-link">
                        {entry.entityId ?? "open"}
                      </Link>
                    ) : (
                      entry.entityId && <span className="font-mono text-xs text-slate-500">{entry.entityId}</span>
                    )}
                  </td>
                  <td className="min-w-64 px-4 py-3">
                    <Details details={entry.details} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      {list.hasNextPage && (
        <div className="flex justify-center">
          <Button variant="secondary" busy={list.isFetchingNextPage} onClick={() => list.fetchNextPage()}>
            Load older entries
          </Button>
        </div>
      )}
    </div>
  );
}

/** A text filter applied on Enter or when the field is left, not on every key. */
function TextFilter(props: { label: string; name: string; placeholder: string; initial: string; onCommit: (value: string) => void; list?: string; error?: string }) {
  const [draft, setDraft] = useState<string | null>(null);
  const commit = (v: string) => {
    setDraft(null);
    if (v.trim() !== props.initial) props.onCommit(v.trim());
  };
  return (
    <label className="text-xs font-medium text-slate-700">
      {props.label}
      <input
        type="search"
        name={props.name}
        list={props.list}
        placeholder={props.placeholder}
        className={`${controlClass} mt-1`}
        value={draft ?? props.initial}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => e.key === "Enter" && commit(e.currentTarget.value)}
        onBlur={(e) => commit(e.currentTarget.value)}
        spellCheck={false}
      />
      {props.error && <span className="block text-rose-700 wrap-anywhere">{props.error}</span>}
    </label>
  );
}

/** Before and after side by side when the entry has them; otherwise its details as recorded. */
function Details({ details }: { details: unknown }) {
  if (details === null || details === undefined) return <span className="text-xs text-slate-400">—</span>;
  const changes = changesOf(details);
  const rest = changes ? Object.fromEntries(Object.entries(details as Record<string, unknown>).filter(([k]) => k !== "before" && k !== "after" && k !== "changes")) : null;
  return (
    <div className="space-y-1 text-xs">
      {changes && (
        <table className="w-full" data-testid="audit-changes">
          <thead className="text-left text-slate-500">
            <tr>
              <th className="pr-2 font-medium">Field</th>
              <th className="pr-2 font-medium">Before</th>
              <th className="font-medium">After</th>
            </tr>
          </thead>
          <tbody>
            {changes.map((c) => (
              <tr key={c.field}>
                <td className="pr-2 font-mono text-slate-600">{c.field}</td>
                <td className="pr-2 text-rose-800 wrap-anywhere">{shown(c.before)}</td>
                <td className="text-emerald-800 wrap-anywhere">{shown(c.after)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(!changes || (rest && Object.keys(rest).length > 0)) && (
        <details>
          <summary className="cursor-pointer text-indigo-700">{changes ? "More" : "Details"}</summary>
          <pre className="mt-1 max-h-64 overflow-auto whitespace-pre-wrap rounded bg-slate-900 p-2 text-slate-100 wrap-anywhere">{JSON.stringify(changes ? rest : details, null, 2)}</pre>
        </details>
      )}
    </div>
  );
}
