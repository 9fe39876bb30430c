"use client";
import type { PayoutFormFields } from "@/server/domain/payout-form-fields";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { money, phone, when } from "./format";

// The server's limit (server/trpc/routers/payouts.ts, description: text(200)). The
// input has no maxLength: a browser would cut a long paste silently and the
// cut text could be saved; the count shows it and the form refuses it instead.
const DESCRIPTION_MAX = 200;

function tooLong(max: number, length: number): string {
  return `${max.toLocaleString("en")} characters at most; this has ${length.toLocaleString("en")}`;
}

/** A payout as the edit form starts from: its fields as the maker typed them, and the revision the save is checked against. */
export interface PayoutFormExisting extends PayoutFormFields {
  id: string;
  /** byId's editRevision when the form opened: an edit or an approval since makes the save a conflict. */
  revision: string;
}

/** A new payout's fields copied from another (Copy as new payout): never its id, so never its idempotency key. */
export type PayoutFormPrefill = PayoutFormFields & { copiedFromId: string };

interface Duplicate {
  id: string;
  createdAt: Date;
  status: string;
  amountMinor: bigint;
  currency: string;
  recipientPhone: string | null;
  recipientAccount: string | null;
  connectionName: string;
  createdByName: string;
}

/**
 * Creates a payout, or, given `existing`, edits one still waiting for
 * approval (same fields, same server checks). An edit that changes what was
 * approved voids the approvals so far; the form says so before saving.
 */
export function PayoutForm({ existing, prefill, hasApprovals = false, onStale }: { existing?: PayoutFormExisting; prefill?: PayoutFormPrefill; hasApprovals?: boolean; onStale?: () => void }) {
  // What the fields start from: the payout being edited, or the one being copied.
  const start = existing ?? prefill;
  const trpc = useTRPC();
  const router = useRouter();
  const connections = useQuery(trpc.connections.forPayouts.queryOptions());
  // Made once per form: a double click or a retried request creates one payout, not two.
  const [payoutId, setPayoutId] = useState<string>(existing?.id ?? "");
  useEffect(() => {
    if (!existing) setPayoutId(crypto.randomUUID());
  }, [existing]);
  const [connectionId, setConnectionId] = useState(start?.connectionId ?? "");
  const [channel, setChannel] = useState(start?.channel ?? "");
  const [description, setDescription] = useState(start?.description ?? "");
  // Saved, but likely a duplicate of another payout: the maker sees which before moving on.
  const [saved, setSaved] = useState<{ id: string; duplicates: Duplicate[]; edited: boolean } | null>(null);
  const create = useMutation(
    trpc.payouts.create.mutationOptions({
      onSuccess: (r) => (r.duplicates.length > 0 ? setSaved({ id: r.id, duplicates: r.duplicates, edited: false }) : router.push(`/payouts/${r.id}`)),
    }),
  );
  const update = useMutation(
    trpc.payouts.update.mutationOptions({
      onSuccess: (r) => (r.duplicates.length > 0 ? setSaved({ id: r.id, duplicates: r.duplicates, edited: true }) : router.push(`/payouts/${r.id}`)),
    }),
  );
  const mutation = existing ? update : create;
  const errors = fieldErrorsOf(mutation.error);
  const generalError = mutation.error && Object.keys(errors).length === 0 ? messageOf(mutation.error) : null;
  // An edit refused as a whole (edited or approved meanwhile, no longer waiting): the way on is to look at it again.
  const stale = Boolean(existing && generalError);

  const connection = useMemo(
    () => connections.data?.find((c) => c.id === connectionId) ?? connections.data?.[0],
    [connections.data, connectionId],
  );
  // The payout's own connection was paused since: the edit must move it, and says so rather than switching silently.
  const connectionGone = Boolean(existing && connections.data && !connections.data.some((c) => c.id === existing.connectionId) && connectionId === existing.connectionId);
  const selectedChannel = connection?.channels.find((c) => c.code === channel);
  const currencies =
    connection?.payoutCurrencies ?? [...new Set((selectedChannel ? [selectedChannel] : connection?.channels ?? []).map((c) => c.currency))];

  if (connections.isPending) return <Loading label="Loading connections…" />;
  if (connections.isError) return <ErrorNote>{messageOf(connections.error)}</ErrorNote>;
  if (saved) return <SavedWithDuplicates saved={saved} />;
  if (!connection) {
    return (
      <Card>
        <EmptyState title="No connection can send payouts">An admin must add or enable a connection first.</EmptyState>
      </Card>
    );
  }

  const bank = connection.recipientKind === "bank_account";

  const descriptionTooLong = description.length > DESCRIPTION_MAX;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    // Already shown next to the field as it was typed; nothing is sent until it fits.
    if (descriptionTooLong) return;
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "");
    // Only the fields shown (a hidden one of another payment method is not sent).
    const details = Object.fromEntries(connection!.recipientFields.filter((f) => form.has(`detail:${f.key}`)).map((f) => [f.key, text(`detail:${f.key}`)]));
    const fields = {
      connectionId: connection!.id,
      channel: text("channel") || null,
      currency: text("currency"),
      amount: text("amount"),
      recipientPhone: bank ? null : text("recipientPhone"),
      recipientAccount: bank ? text("recipientAccount") : null,
      recipientName: text("recipientName") || null,
      recipientDetails: connection!.recipientFields.length ? details : null,
      description: text("description"),
    };
    if (existing) update.mutate({ id: existing.id, revision: existing.revision, ...fields });
    else create.mutate({ id: payoutId, ...fields });
  }
  const initial = start && connection.id === start.connectionId ? start : undefined;

  return (
    <Card className="max-w-2xl p-6">
      <form onSubmit={onSubmit} className="space-y-5" noValidate aria-label={existing ? "Edit payout" : "New payout"}>
        {generalError && (
          <ErrorNote>
            {generalError}
            {stale && onStale && (
              <button type="button" className="ml-2 font-semibold underline" onClick={onStale}>
                Reload the payout
              </button>
            )}
          </ErrorNote>
        )}
        {connectionGone && (
          <ErrorNote>
            {existing!.connectionName}, this payout&apos;s connection, is paused and takes no payouts; saving moves the payout to the connection chosen below.
          </ErrorNote>
        )}
        {prefill && (
          <p role="note" data-testid="copied-from" className="rounded-md bg-indigo-50 px-3 py-2 text-sm text-indigo-900">
            Copied from payout{" "}
            <Link href={`/payouts/${prefill.copiedFromId}`} className="font-mono underline">
              {prefill.copiedFromId.slice(0, 8)}
            </Link>
            : review every field. This is a new payout with its own id, approved as usual.
            {!connections.data.some((c) => c.id === prefill.connectionId) && ` ${prefill.connectionName} takes no payouts now: choose a connection.`}
          </p>
        )}
        <div className="grid gap-5 sm:grid-cols-2">
          <Field label="Connection" error={errors.connectionId}>
            {(p) => (
              <select
                {...p}
                name="connectionId"
                value={connection.id}
                onChange={(e) => {
                  setConnectionId(e.target.value);
                  setChannel("");
                }}
              >
                {connections.data.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                    {c.environment === "sandbox" ? " (sandbox)" : ""}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {connection.channels.length > 0 && (
            <Field
              label={bank ? "Payment method" : "Mobile network"}
              error={errors.channel}
              hint={bank ? "How the bank transfer is routed." : "Leave on automatic to pick it from the phone number."}
            >
              {(p) => (
                <select {...p} name="channel" value={channel} onChange={(e) => setChannel(e.target.value)}>
                  <option value="">{bank ? "Choose…" : "Automatic"}</option>
                  {connection.channels.map((c) => (
                    <option key={c.code} value={c.code}>
                      {c.label}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
          <Field label="Amount" error={errors.amount} hint="In major units, e.g. 150.50">
            {(p) => <input {...p} name="amount" inputMode="decimal" autoComplete="off" placeholder="0.00" defaultValue={start?.amount} required />}
          </Field>
          <Field label="Currency" error={errors.currency} hint={currencies.length ? undefined : "ISO 4217 code, e.g. UGX"}>
            {(p) =>
              currencies.length ? (
                <select {...p} name="currency" key={currencies.join()} defaultValue={initial?.currency}>
                  {currencies.map((c) => (
                    <option key={c} value={c}>
                      {c}
                    </option>
                  ))}
                </select>
              ) : (
                // The provider routes by itself and declares no channel list: the maker names the currency.
                <input
                  {...p}
                  name="currency"
                  key={connection.id}
                  maxLength={4}
                  autoComplete="off"
                  style={{ textTransform: "uppercase" }}
                  defaultValue={initial?.currency}
                  required
                />
              )
            }
          </Field>
          {bank ? (
            <>
              <Field label="Account holder" error={errors.recipientName} hint="As the bank knows them.">
                {(p) => <input {...p} name="recipientName" autoComplete="off" defaultValue={start?.recipientName ?? ""} required />}
              </Field>
              <Field label="Account number" error={errors.recipientAccount}>
                {(p) => <input {...p} name="recipientAccount" autoComplete="off" defaultValue={start?.recipientAccount ?? ""} required />}
              </Field>
            </>
          ) : (
            <>
              <Field label="Recipient phone" error={errors.recipientPhone} hint="With country code, e.g. 260763456789">
                {(p) => (
                  <input {...p} name="recipientPhone" inputMode="tel" autoComplete="off" placeholder="260763456789" defaultValue={start?.recipientPhone ?? ""} required />
                )}
              </Field>
              <Field label="Recipient name" error={errors.recipientName} hint="Optional; shown on the desk only.">
                {(p) => <input {...p} name="recipientName" autoComplete="off" defaultValue={start?.recipientName ?? ""} />}
              </Field>
            </>
          )}
          {connection.recipientFields
            // Fields of other payment methods stay out of the way once one is chosen.
            .filter((f) => !channel || !f.channels || f.channels.includes(channel))
            .map((f) => {
              const required = f.required || (channel !== "" && (f.requiredFor ?? []).includes(channel));
              const hint = channel ? (required ? undefined : "Optional") : (f.hint ?? (required ? undefined : "Optional"));
              return (
                <Field key={`${connection.id}:${f.key}`} label={f.label} error={errors[f.key]} hint={hint}>
                  {(p) => <input {...p} name={`detail:${f.key}`} autoComplete="off" defaultValue={initial?.recipientDetails?.[f.key] ?? ""} required={required} />}
                </Field>
              );
            })}
        </div>
        <Field
          label="Description"
          error={descriptionTooLong ? tooLong(DESCRIPTION_MAX, description.length) : errors.description}
          hint="Shown to the recipient by some networks (pawaPay: 4–22 letters, digits or spaces)."
        >
          {(p) => (
            <>
              <input {...p} name="description" value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" required />
              <p
                className={`mt-1 text-right text-xs tabular-nums ${descriptionTooLong ? "font-medium text-rose-700" : "text-slate-500"}`}
                data-testid="description-count"
              >
                {description.length.toLocaleString("en")} / {DESCRIPTION_MAX.toLocaleString("en")}
              </p>
            </>
          )}
        </Field>
        <div className="flex items-center gap-3 border-t border-slate-100 pt-5">
          <Button type="submit" busy={mutation.isPending} disabled={!payoutId}>
            {existing ? "Save changes" : "Create payout"}
          </Button>
          {existing ? (
            <>
              <Link href={`/payouts/${existing.id}`} className="text-sm font-medium text-slate-700 hover:underline">
                Cancel
              </Link>
              <p className="text-xs text-slate-500">
                {hasApprovals
                  ? "Someone has approved it: a change voids that approval, and it waits for approval again. Approvers see what you changed."
                  : "It still waits for an approver; approvers see what you changed."}
              </p>
            </>
          ) : (
            <p className="text-xs text-slate-500">It will wait for an approver before anything is sent.</p>
          )}
        </div>
      </form>
    </Card>
  );
}

/**
 * Saved, and it looks like another payout: same recipient, amount and
 * currency within the desk's window. Not refused (paying someone twice can be
 * right); the maker sees the earlier payout before moving on, and the
 * approver will be asked to acknowledge it.
 */
function SavedWithDuplicates({ saved }: { saved: { id: string; duplicates: Duplicate[]; edited: boolean } }) {
  const count = saved.duplicates.length;
  return (
    <Card className="max-w-2xl p-6">
      <div className="space-y-4" data-testid="duplicate-warning">
        <div role="status" className="rounded-md bg-amber-50 px-4 py-3 text-sm text-amber-900 ring-1 ring-inset ring-amber-200">
          <p className="font-semibold">
            {saved.edited ? "Saved" : "Created"}, but it looks like {count === 1 ? "a duplicate of another payout" : `a duplicate of ${count} other payouts`}
          </p>
          <p className="mt-1">
            Same recipient, amount and currency. It waits for approval like any other; the approver must confirm it is meant. If it is a mistake, withdraw it from its page.
          </p>
        </div>
        <ul className="divide-y divide-slate-100 text-sm">
          {saved.duplicates.map((d) => (
            <li key={d.id} className="py-2">
              <Link href={`/payouts/${d.id}`} className="font-medium text-indigo-700 hover:underline" data-testid="duplicate-link">
                {money(d.amountMinor, d.currency)} to {phone(d.recipientPhone, d.recipientAccount)}
              </Link>
              <span className="block text-xs text-slate-600">
                {d.status.replaceAll("_", " ")} · via {d.connectionName} · created {when(d.createdAt)} by {d.createdByName}
              </span>
            </li>
          ))}
        </ul>
        <div className="flex flex-wrap items-center gap-3 border-t border-slate-100 pt-4">
          <Link href={`/payouts/${saved.id}`} className="rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700">
            Open {saved.edited ? "the payout" : "the new payout"}
          </Link>
          {!saved.edited && (
            <Link href="/payouts" className="text-sm font-medium text-slate-700 hover:underline">
              All payouts
            </Link>
          )}
        </div>
      </div>
    </Card>
  );
}
