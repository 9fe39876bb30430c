"use client";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { money } from "@/components/payouts/format";
import { toDecimalString } from "@/server/domain/money";
import { Button } from "@/components/ui/button";
import { Field, controlClass } from "@/components/ui/field";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";

type Row = { connectionId: string; connectionName: string; currency: string; thresholdMinor: bigint | null; balanceMinor: bigint | null };

/**
 * Settings → Low-balance alerts: per connection and currency, the balance
 * under which a banner shows across the desk and on the Balances page (and
 * under the overview's Needs attention). Typed in the currency's major units;
 * blank removes the alert. Admins change them (audited); others read them.
 */
export function BalanceAlertsSetting({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const alerts = useQuery(trpc.balances.alerts.queryOptions());
  const overview = useQuery(trpc.balances.overview.queryOptions());
  if (alerts.isPending || overview.isPending) return <Loading label="Loading low-balance alerts…" />;
  if (alerts.isError) return <ErrorNote>{messageOf(alerts.error)}</ErrorNote>;
  if (overview.isError) return <ErrorNote>{messageOf(overview.error)}</ErrorNote>;

  // Every currency a connection has reported a balance in, and every alert already set.
  const rows = new Map<string, Row>();
  for (const c of overview.data) {
    for (const p of c.currencies) {
      rows.set(`${c.connectionId}|${p.currency}`, { connectionId: c.connectionId, connectionName: c.name, currency: p.currency, thresholdMinor: null, balanceMinor: p.balanceMinor });
    }
  }
  for (const a of alerts.data) {
    const key = `${a.connectionId}|${a.currency}`;
    const row = rows.get(key) ?? { connectionId: a.connectionId, connectionName: a.connectionName, currency: a.currency, thresholdMinor: null, balanceMinor: null };
    rows.set(key, { ...row, thresholdMinor: a.thresholdMinor });
  }
  const list = [...rows.values()].sort((a, b) => a.connectionName.localeCompare(b.connectionName) || a.currency.localeCompare(b.currency));

  return (
    <Card className="p-5">
      <div className="space-y-4" aria-label="Low-balance alerts" role="group">
        <div>
          <h3 className="text-sm font-semibold text-slate-900">Low-balance alerts</h3>
          <p className="mt-1 max-w-3xl text-sm text-slate-600">
            When a connection&apos;s latest balance in a currency falls under its alert, a banner shows on every page and on the Balances page. Amounts in the
            currency&apos;s units (e.g. 5000.50); blank for no alert.
          </p>
        </div>
        {list.length === 0 ? (
          <p className="text-sm text-slate-600">No balance has been read yet; add an alert for a connection and currency below.</p>
        ) : (
          <table className="w-full text-left text-sm">
            <thead className="text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th className="py-2 pr-3 font-medium">Connection</th>
                <th className="py-2 pr-3 font-medium">Currency</th>
                <th className="py-2 pr-3 font-medium">Latest balance</th>
                <th className="py-2 font-medium">Alert below</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {list.map((row) => (
                <AlertRow key={`${row.connectionId}-${row.currency}-${row.thresholdMinor ?? ""}`} row={row} canEdit={canEdit} />
              ))}
            </tbody>
          </table>
        )}
        {canEdit ? (
          <NewAlert connections={overview.data.map((c) => ({ id: c.connectionId, name: c.name }))} />
        ) : (
          <p className="text-sm text-slate-600">Only admins change low-balance alerts.</p>
        )}
      </div>
    </Card>
  );
}

function useSetAlert(onSaved: (message: string) => void) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return useMutation(
    trpc.balances.setAlert.mutationOptions({
      onSuccess: async (result, input) => {
        onSaved(result ? `Saved: alert under ${money(result.thresholdMinor, result.currency)}.` : `Saved: no alert for ${input.currency.toUpperCase()}.`);
        await queryClient.invalidateQueries({ queryKey: trpc.balances.pathKey() });
      },
    }),
  );
}

function AlertRow({ row, canEdit }: { row: Row; canEdit: boolean }) {
  const initial = row.thresholdMinor === null ? "" : toDecimalString(row.thresholdMinor, row.currency);
  const [amount, setAmount] = useState(initial);
  const [saved, setSaved] = useState<string | null>(null);
  const save = useSetAlert(setSaved);
  const errors = fieldErrorsOf(save.error);
  const label = `${row.connectionName} ${row.currency} alert below`;
  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(null);
    save.mutate({ connectionId: row.connectionId, currency: row.currency, amount });
  }
  return (
    <tr className="align-top">
      <td className="py-2 pr-3 text-slate-900">{row.connectionName}</td>
      <td className="py-2 pr-3 text-slate-700">{row.currency}</td>
      <td className="py-2 pr-3 tabular-nums text-slate-700">{row.balanceMinor === null ? "Not known" : money(row.balanceMinor, row.currency)}</td>
      <td className="py-2">
        <form className="flex flex-wrap items-start gap-2" onSubmit={submit} noValidate aria-label={label}>
          <div className="w-40">
            <input
              aria-label={label}
              aria-invalid={Boolean(errors.amount ?? errors.currency ?? errors.connectionId)}
              className={controlClass}
              inputMode="decimal"
              name="amount"
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
              readOnly={!canEdit}
              placeholder="No alert"
              autoComplete="off"
            />
          </div>
          {canEdit && (
            <Button type="submit" busy={save.isPending} disabled={amount.trim() === initial}>
              Save
            </Button>
          )}
          {(errors.amount ?? errors.currency ?? errors.connectionId) && <p className="basis-full text-sm text-rose-700">{errors.amount ?? errors.currency ?? errors.connectionId}</p>}
          {save.isError && Object.keys(errors).length === 0 && <p className="basis-full text-sm text-rose-700">{messageOf(save.error)}</p>}
          {saved && (
            <p role="status" className="basis-full text-sm text-emerald-800">
              {saved}
            </p>
          )}
        </form>
      </td>
    </tr>
  );
}

function NewAlert({ connections }: { connections: { id: string; name: string }[] }) {
  const [connectionId, setConnectionId] = useState(connections[0]?.id ?? "");
  const [currency, setCurrency] = useState("");
  const [amount, setAmount] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  const save = useSetAlert((message) => {
    setSaved(message);
    setCurrency("");
    setAmount("");
  });
  const errors = fieldErrorsOf(save.error);
  if (connections.length === 0) return null;
  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(null);
    save.mutate({ connectionId, currency, amount });
  }
  return (
    <form className="grid max-w-3xl gap-3 border-t border-slate-100 pt-4 sm:grid-cols-4 sm:items-end" onSubmit={submit} noValidate aria-label="Add a low-balance alert">
      <Field label="Connection" error={errors.connectionId}>
        {(props) => (
          <select {...props} name="connectionId" value={connectionId} onChange={(e) => setConnectionId(e.target.value)}>
            {connections.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Currency" error={errors.currency}>
        {(props) => <input {...props} name="currency" value={currency} onChange={(e) => setCurrency(e.target.value)} placeholder="ZMW" autoComplete="off" />}
      </Field>
      <Field label="Alert below" error={errors.amount}>
        {(props) => <input {...props} name="amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} placeholder="5000.00" autoComplete="off" />}
      </Field>
      <div>
        <Button type="submit" busy={save.isPending}>
          Add alert
        </Button>
      </div>
      {save.isError && Object.keys(errors).length === 0 && <ErrorNote>{messageOf(save.error)}</ErrorNote>}
      {saved && (
        <p role="status" className="text-sm text-emerald-800 sm:col-span-4">
          {saved}
        </p>
      )}
    </form>
  );
}
