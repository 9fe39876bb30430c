"use client";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useRouter } from "next/navigation";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";

// The server's limit (server/trpc/routers/payouts.ts, description: text(200)). The
// input has no maxLength: a browser would cut a long paste silently and the
// cut text could be saved; the count shows it and the form refuses it instead.
const DESCRIPTION_MAX = 200;

function tooLong(max: number, length: number): string {
  return `${max.toLocaleString("en")} characters at most; this has ${length.toLocaleString("en")}`;
}

export function PayoutForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const connections = useQuery(trpc.connections.forPayouts.queryOptions());
  // Made once per form: a double click or a retried request creates one payout, not two.
  const [payoutId, setPayoutId] = useState<string>("");
  useEffect(() => setPayoutId(crypto.randomUUID()), []);
  const [connectionId, setConnectionId] = useState("");
  const [channel, setChannel] = useState("");
  const [description, setDescription] = useState("");
  const create = useMutation(trpc.payouts.create.mutationOptions({ onSuccess: (r) => router.push(`/payouts/${r.id}`) }));
  const errors = fieldErrorsOf(create.error);
  const generalError = create.error && Object.keys(errors).length === 0 ? messageOf(create.error) : null;

  const connection = useMemo(
    () => connections.data?.find((c) => c.id === connectionId) ?? connections.data?.[0],
    [connections.data, connectionId],
  );
  const selectedChannel = connection?.channels.find((c) => c.code === channel);
  const currencies =
    connection?.payoutCurrencies ?? [...new Set((selectedChannel ? [selectedChannel] : connection?.channels ?? []).map((c) => c.currency))];

  if (connections.isPending) return <Loading label="Loading connections…" />;
  if (connections.isError) return <ErrorNote>{messageOf(connections.error)}</ErrorNote>;
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
    create.mutate({
      id: payoutId,
      connectionId: connection!.id,
      channel: text("channel") || null,
      currency: text("currency"),
      amount: text("amount"),
      recipientPhone: bank ? null : text("recipientPhone"),
      recipientAccount: bank ? text("recipientAccount") : null,
      recipientName: text("recipientName") || null,
      recipientDetails: connection!.recipientFields.length ? details : null,
      description: text("description"),
    });
  }

  return (
    <Card className="max-w-2xl p-6">
      <form onSubmit={onSubmit} className="space-y-5" noValidate aria-label="New payout">
        {generalError && <ErrorNote>{generalError}</ErrorNote>}
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
            {(p) => <input {...p} name="amount" inputMode="decimal" autoComplete="off" placeholder="0.00" required />}
          </Field>
          <Field label="Currency" error={errors.currency} hint={currencies.length ? undefined : "ISO 4217 code, e.g. UGX"}>
            {(p) =>
              currencies.length ? (
                <select {...p} name="currency" key={currencies.join()}>
                  {currencies.map((c) => (
                    <option key={c} value={c}>
                      {c}
                    </option>
                  ))}
                </select>
              ) : (
                // The provider routes by itself and declares no channel list: the maker names the currency.
                <input {...p} name="currency" key={connection.id} maxLength={4} autoComplete="off" style={{ textTransform: "uppercase" }} required />
              )
            }
          </Field>
          {bank ? (
            <>
              <Field label="Account holder" error={errors.recipientName} hint="As the bank knows them.">
                {(p) => <input {...p} name="recipientName" autoComplete="off" required />}
              </Field>
              <Field label="Account number" error={errors.recipientAccount}>
                {(p) => <input {...p} name="recipientAccount" autoComplete="off" required />}
              </Field>
            </>
          ) : (
            <>
              <Field label="Recipient phone" error={errors.recipientPhone} hint="With country code, e.g. 260763456789">
                {(p) => <input {...p} name="recipientPhone" inputMode="tel" autoComplete="off" placeholder="260763456789" required />}
              </Field>
              <Field label="Recipient name" error={errors.recipientName} hint="Optional; shown on the desk only.">
                {(p) => <input {...p} name="recipientName" autoComplete="off" />}
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
                  {(p) => <input {...p} name={`detail:${f.key}`} autoComplete="off" required={required} />}
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
          <Button type="submit" busy={create.isPending} disabled={!payoutId}>
            Create payout
          </Button>
          <p className="text-xs text-slate-500">It will wait for an approver before anything is sent.</p>
        </div>
      </form>
    </Card>
  );
}
