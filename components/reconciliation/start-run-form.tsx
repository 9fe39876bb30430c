"use client";
// Starting a run: a connection and a period of whole days in the desk's zone
// (the same presets as Statements). The period is shown as exact instants
// before anything is started; the server judges the rest and names the field.
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Card, ErrorNote } from "@/components/ui/layout";
import { PERIOD_LABELS, PERIOD_PRESETS, resolvePeriod, type PeriodPreset } from "@/server/domain/statement";
import { METHOD_WORDS, periodText } from "./format";
import type { ReconcilableConnection } from "./types";

export function StartRunForm({ connections, zone, onStarted }: { connections: ReconcilableConnection[]; zone: string; onStarted: (runId: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [connectionId, setConnectionId] = useState(connections[0]?.id ?? "");
  const [preset, setPreset] = useState<PeriodPreset>("yesterday");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [notice, setNotice] = useState<string | null>(null);
  const start = useMutation(
    trpc.reconciliation.start.mutationOptions({
      onSuccess: (result) => {
        setNotice(result.existing ? "A run of this connection and period is already waiting or running; it is shown below." : null);
        onStarted(result.run.id);
        return queryClient.invalidateQueries({ queryKey: trpc.reconciliation.runs.queryKey() });
      },
    }),
  );
  const connection = connections.find((c) => c.id === connectionId) ?? null;
  const resolved = resolvePeriod({ preset, from: from || null, to: to || null }, zone, new Date());
  const serverErrors = fieldErrorsOf(start.error);
  const [shownLocalErrors, setShownLocalErrors] = useState(false);
  const localErrors = !resolved.ok && shownLocalErrors ? resolved.fields : {};
  const errors = { ...localErrors, ...serverErrors };
  const periodError = serverErrors.periodFrom ?? serverErrors.periodTo;

  function submit(e: FormEvent) {
    e.preventDefault();
    setNotice(null);
    if (!resolved.ok) {
      setShownLocalErrors(true);
      return;
    }
    start.mutate({ connectionId, periodFrom: resolved.period.from, periodTo: resolved.period.to });
  }

  return (
    <Card className="p-4">
      <form onSubmit={submit} noValidate aria-label="Start a reconciliation run" className="space-y-4" data-testid="start-run-form">
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-4">
          <Field label="Connection" error={errors.connectionId} hint={connection ? `Compared with ${METHOD_WORDS[connection.method]}` : undefined}>
            {(props) => (
              <select {...props} name="connectionId" value={connectionId} onChange={(e) => setConnectionId(e.target.value)}>
                {connections.length === 0 && <option value="">No connection yet</option>}
                {connections.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                    {c.enabled ? "" : " (paused)"}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Period" hint={`Whole days in the desk's zone, ${zone}`}>
            {(props) => (
              <select {...props} name="period" value={preset} onChange={(e) => setPreset(e.target.value as PeriodPreset)}>
                {PERIOD_PRESETS.map((p) => (
                  <option key={p} value={p}>
                    {PERIOD_LABELS[p]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {preset === "custom" && (
            <>
              <Field label="First day" error={errors.from} hint="Included">
                {(props) => <input {...props} type="date" name="from" value={from} onChange={(e) => setFrom(e.target.value)} />}
              </Field>
              <Field label="Last day" error={errors.to} hint="Included; at most 31 days in all">
                {(props) => <input {...props} type="date" name="to" value={to} min={from || undefined} onChange={(e) => setTo(e.target.value)} />}
              </Field>
            </>
          )}
        </div>
        <p className="text-sm text-slate-700" data-testid="start-run-period">
          {resolved.ok ? <>Compares payouts from {periodText(resolved.period.from, resolved.period.to, zone)}.</> : "Choose the first and last day."}
        </p>
        {periodError && (
          <p className="text-sm text-rose-700" role="alert">
            {periodError}
          </p>
        )}
        {start.error && Object.keys(serverErrors).length === 0 && <ErrorNote>{messageOf(start.error)}</ErrorNote>}
        {notice && (
          <p className="text-sm text-slate-700" role="status">
            {notice}
          </p>
        )}
        <Button type="submit" busy={start.isPending} disabled={!connectionId}>
          Start the run
        </Button>
      </form>
    </Card>
  );
}
