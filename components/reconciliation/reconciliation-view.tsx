"use client";
// The Reconciliation page: start a run (approvers and admins), the runs with
// their progress, and the chosen run's results. Which run, which kind and
// which page live in the address bar, so a run's exceptions can be linked to,
// reloaded and walked with the browser's back button. Every rule is the
// server's (server/services/reconciliation.ts); this shows what it allows.
import { useAddressQuery } from "@/components/ui/use-address-query";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { isResultKind, type ResultKind } from "@/server/domain/reconciliation";
import { StartRunForm } from "./start-run-form";
import { RunsList } from "./runs-list";
import { RunDetailView } from "./run-detail";

export type KindFilter = ResultKind | "exceptions" | "all";

export interface Selection {
  runId: string | null;
  kind: KindFilter;
  unresolvedOnly: boolean;
  page: number;
  set(changes: Partial<{ run: string; kind: KindFilter; open: boolean; page: number }>): void;
}

function useSelection(): Selection {
  const { params, update } = useAddressQuery();
  const kindParam = params.get("kind") ?? "";
  const kind: KindFilter = kindParam === "all" ? "all" : isResultKind(kindParam) ? kindParam : "exceptions";
  const page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
  return {
    runId: params.get("run"),
    kind,
    unresolvedOnly: params.get("open") === "1",
    page,
    set(changes) {
      update((next) => {
      if (changes.run !== undefined) {
        next.set("run", changes.run);
        // Another run starts from its exceptions, first page.
        next.delete("kind");
        next.delete("open");
        next.delete("page");
      }
      if (changes.kind !== undefined) {
        if (changes.kind === "exceptions") next.delete("kind");
        else next.set("kind", changes.kind);
        next.delete("page");
      }
      if (changes.open !== undefined) {
        if (changes.open) next.set("open", "1");
        else next.delete("open");
        next.delete("page");
      }
      if (changes.page !== undefined) {
        if (changes.page > 1) next.set("page", String(changes.page));
        else next.delete("page");
      }
      });
    },
  };
}

export function ReconciliationView() {
  const trpc = useTRPC();
  const selection = useSelection();
  const settings = useQuery(trpc.settings.general.queryOptions());
  const connections = useQuery(trpc.reconciliation.connections.queryOptions());
  const runs = useQuery(
    trpc.reconciliation.runs.queryOptions(
      { limit: 25 },
      // Follow runs while any is waiting or running; otherwise look now and then (a daily run may appear).
      { refetchInterval: (q) => (q.state.data?.runs.some((r) => r.status === "queued" || r.status === "running") ? 2_000 : 15_000) },
    ),
  );

  if (settings.isPending || connections.isPending || runs.isPending) return <Loading label="Loading reconciliation runs…" />;
  const failed = settings.error ?? connections.error ?? runs.error;
  if (failed) return <ErrorNote>{messageOf(failed)}</ErrorNote>;
  const zone = settings.data!.timeZone;
  const list = runs.data!.runs;
  const shownRunId = selection.runId ?? list[0]?.id ?? null;

  return (
    <div className="space-y-6">
      {runs.data!.canStart ? (
        <StartRunForm connections={connections.data!} zone={zone} onStarted={(id) => selection.set({ run: id })} />
      ) : (
        <p className="text-sm text-slate-600">Starting a run and resolving differences need the approver or admin role; you can follow every run here.</p>
      )}

      {list.length === 0 ? (
        <Card>
          <EmptyState title="No reconciliation run yet">
            {runs.data!.canStart
              ? "Choose a connection and a period above and start one: the desk compares its payouts with the provider's record in the background."
              : "Runs appear here when an approver or admin starts one, or when the daily run is switched on."}
          </EmptyState>
        </Card>
      ) : (
        <RunsList runs={list} zone={zone} selectedId={shownRunId} onSelect={(id) => selection.set({ run: id })} />
      )}

      {shownRunId && <RunDetailView key={shownRunId} runId={shownRunId} zone={zone} selection={selection} />}
    </div>
  );
}
