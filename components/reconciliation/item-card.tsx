"use client";
// One result of a run: the two sides as compared, what differs, whether it
// was carried over from an earlier run, and its resolution (or the form to
// resolve it, note required, for approvers and admins).
import Link from "next/link";
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote } from "@/components/ui/layout";
import { money, phone, when } from "@/components/payouts/format";
import { StatusBadge } from "@/components/ui/status-badge";
import { KIND_TONES, periodText, RESULT_LABELS, sideMoney } from "./format";
import type { ItemSide, RunItem } from "./types";

const NOTE_MAX = 1000;

export function ItemCard({ item, zone }: { item: RunItem; zone: string }) {
  const exception = item.kind !== "matched";
  return (
    <Card className="p-4">
      <article aria-label={`${RESULT_LABELS[item.kind]}${item.payout ? ` for payout ${item.payout.id}` : ""}`} data-testid="reconciliation-item" data-kind={item.kind}>
        <div className="flex flex-wrap items-center gap-2">
          <span className={`inline-flex items-center rounded-md px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${KIND_TONES[item.kind]}`}>{RESULT_LABELS[item.kind]}</span>
          {item.carriedFrom && (
            <span className="inline-flex items-center rounded-md bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-700 ring-1 ring-inset ring-slate-400/30" data-testid="carried-over">
              Carried over
              {item.carriedFrom.run ? ` from the run of ${periodText(item.carriedFrom.run.periodFrom, item.carriedFrom.run.periodTo, zone)}` : " from an earlier run"}
            </span>
          )}
          {exception && item.resolvedAt && (
            <span className="inline-flex items-center rounded-md bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-800 ring-1 ring-inset ring-emerald-600/20">Resolved</span>
          )}
          {item.payout ? (
            <Link href={`/payouts/${item.payout.id}`} className="ml-auto text-sm font-medium text-indigo-700 hover:underline">
              Payout {money(item.payout.amountMinor, item.payout.currency)} to {item.payout.recipientName ? `${item.payout.recipientName}, ` : ""}
              {phone(item.payout.recipientPhone, item.payout.recipientAccount)}
            </Link>
          ) : (
            <span className="ml-auto text-sm text-slate-600">Not a payout of the desk</span>
          )}
        </div>
        {item.detail && <p className="mt-2 text-sm text-slate-800 wrap-anywhere">{item.detail}</p>}
        <Sides desk={item.desk} provider={item.provider} providerReference={item.providerReference} />
        {exception && item.resolvedAt && (
          <p className="mt-3 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900 ring-1 ring-inset ring-emerald-200 wrap-anywhere" data-testid="resolution">
            Resolved by {item.resolvedBy ?? "—"}, {when(item.resolvedAt)}: “{item.resolutionNote}”
          </p>
        )}
        {item.canResolve && <ResolveForm itemId={item.id} />}
      </article>
    </Card>
  );
}

function Sides({ desk, provider, providerReference }: { desk: ItemSide | null; provider: ItemSide | null; providerReference: string | null }) {
  const rows: Array<[string, string | React.ReactNode, string | React.ReactNode]> = [
    ["Status", desk?.status ? <StatusBadge status={desk.status} /> : "—", provider ? (provider.status ?? provider.state ?? "—") : "No record"],
    ["Amount", sideMoney(desk?.amount ?? null), provider ? sideMoney(provider.amount ?? null, "Not reported") : "—"],
    ["Fee", desk ? sideMoney(desk.fee ?? null, "Not reported") : "—", provider ? sideMoney(provider.fee ?? null, "Not reported") : "—"],
    ["Debited", desk ? sideMoney(desk.debited ?? null, "Not reported") : "—", provider ? sideMoney(provider.debited ?? null, "Not reported") : "—"],
    ["Provider reference", desk?.providerReference ?? "—", provider?.providerReference ?? providerReference ?? "—"],
  ];
  if (provider?.reference !== undefined) rows.push(["Reference on the line", "—", provider.reference ?? "—"]);
  if (provider?.line !== undefined) rows.push(["Statement line", "—", String(provider.line)]);
  return (
    <div className="mt-3 overflow-x-auto">
      <table className="w-full min-w-96 text-left text-sm">
        <thead className="text-xs uppercase tracking-wide text-slate-500">
          <tr>
            <th scope="col" className="w-40 py-1 pr-4 font-medium">
              <span className="sr-only">Field</span>
            </th>
            <th scope="col" className="py-1 pr-4 font-medium">
              The desk
            </th>
            <th scope="col" className="py-1 font-medium">
              The provider
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map(([label, ours, theirs]) => (
            <tr key={label}>
              <th scope="row" className="py-1 pr-4 text-xs font-medium text-slate-500">
                {label}
              </th>
              <td className="py-1 pr-4 tabular text-slate-900 wrap-anywhere">{ours}</td>
              <td className="py-1 tabular text-slate-900 wrap-anywhere">{theirs}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ResolveForm({ itemId }: { itemId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const id = useId();
  const [note, setNote] = useState("");
  const [open, setOpen] = useState(false);
  const resolve = useMutation(
    trpc.reconciliation.resolve.mutationOptions({
      onSuccess: () => {
        setNote("");
        setOpen(false);
        return queryClient.invalidateQueries({ queryKey: trpc.reconciliation.pathKey() });
      },
    }),
  );
  const noteError = fieldErrorsOf(resolve.error).note;

  function submit(e: FormEvent) {
    e.preventDefault();
    resolve.mutate({ itemId, note });
  }

  if (!open) {
    return (
      <div className="mt-3">
        <Button variant="secondary" onClick={() => setOpen(true)} aria-expanded={false}>
          Resolve…
        </Button>
      </div>
    );
  }
  return (
    <form id={`${id}-form`} onSubmit={submit} noValidate className="mt-3 space-y-2" data-testid="resolve-form">
      <label htmlFor={`${id}-note`} className="block text-sm font-medium text-slate-800">
        Note (required)
      </label>
      <textarea
        id={`${id}-note`}
        name="note"
        rows={2}
        autoFocus
        value={note}
        onChange={(e) => setNote(e.target.value)}
        aria-invalid={Boolean(noteError)}
        aria-describedby={`${id}-note-help`}
        className={`block w-full rounded-md border-0 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset focus:ring-2 focus:ring-inset focus:ring-indigo-600 ${noteError ? "ring-rose-400" : "ring-slate-300"}`}
      />
      {noteError ? (
        <p id={`${id}-note-help`} className="text-sm text-rose-700">
          {noteError}
        </p>
      ) : (
        <p id={`${id}-note-help`} className="text-xs text-slate-500">
          Why the difference is accepted or how it was settled. It closes this exception in every run it was carried into. {note.length.toLocaleString("en")} / {NOTE_MAX.toLocaleString("en")}{" "}
          characters.
        </p>
      )}
      {resolve.error && !noteError && <ErrorNote>{messageOf(resolve.error)}</ErrorNote>}
      <div className="flex gap-2">
        <Button type="submit" busy={resolve.isPending}>
          Resolve with this note
        </Button>
        <Button type="button" variant="ghost" onClick={() => setOpen(false)} disabled={resolve.isPending}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
