"use client";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { useStepUp } from "@/components/auth/step-up";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";
import type { ConnectionForEdit, ProviderForm } from "./types";
import { ConnectionBalanceAlerts } from "./connection-alerts";

type Done = (message: string) => void;

/** Add a connection: pick the provider, then its credential fields appear. */
export function AddConnectionForm({ onDone, onCancel }: { onDone: Done; onCancel: () => void }) {
  const trpc = useTRPC();
  const providers = useQuery(trpc.connections.providers.queryOptions());
  if (providers.isPending) return <Loading label="Loading providers…" />;
  if (providers.isError) return <ErrorNote>{messageOf(providers.error)}</ErrorNote>;
  return <ConnectionForm providers={providers.data} onDone={onDone} onCancel={onCancel} />;
}

/** Edit a connection: secrets show only whether they are set; a blank one keeps what is stored. */
export function EditConnectionForm({ id, onDone, onCancel }: { id: string; onDone: Done; onCancel: () => void }) {
  const trpc = useTRPC();
  const providers = useQuery(trpc.connections.providers.queryOptions());
  // Always fresh: the form must start from what is stored now, not from a cached read.
  const connection = useQuery(trpc.connections.get.queryOptions({ id }, { staleTime: 0, gcTime: 0 }));
  if (providers.isPending || connection.isPending) return <Loading label="Loading the connection…" />;
  if (providers.isError) return <ErrorNote>{messageOf(providers.error)}</ErrorNote>;
  if (connection.isError) return <ErrorNote>{messageOf(connection.error)}</ErrorNote>;
  return <ConnectionForm providers={providers.data} existing={connection.data} onDone={onDone} onCancel={onCancel} />;
}

function ConnectionForm({
  providers,
  existing,
  onDone,
  onCancel,
}: {
  providers: ProviderForm[];
  existing?: ConnectionForEdit;
  onDone: Done;
  onCancel: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [provider, setProvider] = useState<string>(existing?.provider ?? providers.find((p) => p.supported)?.provider ?? providers[0]!.provider);
  const form = providers.find((p) => p.provider === provider)!;
  const [endpoint, setEndpoint] = useState<"builtin" | "url">(existing ? (existing.builtInEmulator ? "builtin" : "url") : form.builtInEmulator ? "builtin" : "url");
  const useBuiltIn = endpoint === "builtin" && form.builtInEmulator;
  // What the admin typed into the base URL and the URL-valued credentials, to say before saving that a move asks for the secrets again.
  const [baseUrlDraft, setBaseUrlDraft] = useState(existing?.baseUrl ?? "");
  const [urlDrafts, setUrlDrafts] = useState<Record<string, string>>({});
  const stored = new Map(existing?.credentials.map((c) => [c.key, c]));
  const moved = existing ? destinationChanges(existing, form, { useBuiltIn, baseUrl: baseUrlDraft, urls: urlDrafts, stored }) : [];
  const movedWhy = moved.length ? `${moved.join(" and ")} changed` : null;

  const onSuccess = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.connections.pathKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.balances.pathKey() });
  };
  const create = useMutation(trpc.connections.create.mutationOptions({ onSuccess }));
  const update = useMutation(trpc.connections.update.mutationOptions({ onSuccess }));
  const mutation = existing ? update : create;
  // Saving changes credentials or where they are sent: the server asks for a fresh second-factor code first.
  const stepUp = useStepUp();
  const errors = fieldErrorsOf(mutation.error);
  const generalError = mutation.error && Object.keys(errors).length === 0 ? messageOf(mutation.error) : null;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const text = (key: string) => String(data.get(key) ?? "");
    const credentials = Object.fromEntries(form.fields.map((f) => [f.key, text(`credential:${f.key}`)]));
    const draft = {
      name: text("name"),
      environment: useBuiltIn ? "sandbox" : text("environment"),
      baseUrl: useBuiltIn ? `sandbox://${provider}` : text("baseUrl"),
      credentials,
      sendConcurrency: text("sendConcurrency"),
      requestsPerMinute: text("requestsPerMinute"),
    };
    // A refusal stays on the mutation (mutateAsync records it too) and is shown beside the fields as before.
    if (existing) {
      const input = { id: existing.id, version: existing.version, ...draft, limits: limitsOf(data, existing) };
      stepUp.run(() => update.mutateAsync(input)).then((r) => onDone(r.changed.length ? `Saved ${draft.name}` : "Nothing changed"), () => undefined);
    } else {
      const input = { provider: provider as ProviderForm["provider"], ...draft };
      stepUp.run(() => create.mutateAsync(input)).then(() => onDone(`Added ${draft.name}. Test it, then register its callback URL at the provider.`), () => undefined);
    }
  }

  return (
    <Card className="p-6">
      {stepUp.dialog}
      <form onSubmit={onSubmit} className="space-y-5" noValidate aria-label={existing ? `Edit ${existing.name}` : "Add connection"}>
        <h2 className="text-base font-semibold">{existing ? `Edit ${existing.name}` : "Add connection"}</h2>
        {generalError && <ErrorNote>{generalError}</ErrorNote>}
        {existing && !existing.credentialsReadable && (
          <ErrorNote>The stored credentials cannot be read with this desk&apos;s key (was DESK_CREDENTIALS_KEY changed?). Enter every secret again.</ErrorNote>
        )}
        <div className="grid gap-5 sm:grid-cols-2">
          <Field label="Provider" error={errors.provider} hint={existing ? "A connection keeps its provider; add a new one to change it." : undefined}>
            {(p) => (
              <select
                {...p}
                name="provider"
                value={provider}
                disabled={Boolean(existing)}
                onChange={(e) => {
                  const next = providers.find((x) => x.provider === e.target.value)!;
                  setProvider(next.provider);
                  setEndpoint(next.builtInEmulator ? "builtin" : "url");
                  mutation.reset();
                }}
              >
                {providers.map((p) => (
                  <option key={p.provider} value={p.provider}>
                    {p.label}
                    {p.supported ? "" : " (connector not available yet)"}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Name" error={errors.name} hint="Shown to makers when they choose where to pay from.">
            {(p) => <input {...p} name="name" defaultValue={existing?.name ?? ""} maxLength={80} autoComplete="off" required />}
          </Field>
        </div>

        <fieldset>
          <legend className="text-sm font-medium text-slate-800">Where the desk sends requests</legend>
          <div className="mt-2 flex flex-wrap gap-x-6 gap-y-2 text-sm">
            <label className={`flex items-center gap-2 ${form.builtInEmulator ? "" : "text-slate-400"}`}>
              <input type="radio" name="endpoint" value="builtin" checked={useBuiltIn} disabled={!form.builtInEmulator} onChange={() => setEndpoint("builtin")} />
              Built-in {form.label} emulator (sandbox){form.builtInEmulator ? "" : " — not available"}
            </label>
            <label className="flex items-center gap-2">
              <input type="radio" name="endpoint" value="url" checked={!useBuiltIn} onChange={() => setEndpoint("url")} />
              API at a URL (live, provider sandbox or test server)
            </label>
          </div>
        </fieldset>
        {!useBuiltIn && (
          <div className="grid gap-5 sm:grid-cols-2">
            <Field label="Base URL" error={errors.baseUrl} hint="The provider's API root, e.g. https://api.sandbox.pawapay.io">
              {(p) => (
                <input
                  {...p}
                  name="baseUrl"
                  type="url"
                  inputMode="url"
                  defaultValue={existing?.baseUrl ?? ""}
                  onChange={(e) => setBaseUrlDraft(e.target.value)}
                  autoComplete="off"
                  placeholder="https://"
                  required
                />
              )}
            </Field>
            <Field label="Environment" error={errors.environment} hint="Live moves real money.">
              {(p) => (
                <select {...p} name="environment" defaultValue={existing?.environment ?? "sandbox"}>
                  <option value="sandbox">Sandbox</option>
                  <option value="live">Live</option>
                </select>
              )}
            </Field>
          </div>
        )}
        {useBuiltIn && errors.baseUrl && <p className="text-sm text-rose-700">{errors.baseUrl}</p>}
        {useBuiltIn && errors.environment && <p className="text-sm text-rose-700">{errors.environment}</p>}

        <fieldset key={provider} className="space-y-4 border-t border-slate-100 pt-5">
          <legend className="text-sm font-semibold text-slate-900">{form.label} credentials</legend>
          <p className="text-xs text-slate-500">
            Stored encrypted; the desk never shows a secret again.{existing && !movedWhy ? " Leave a secret blank to keep the stored one." : ""}
          </p>
          {movedWhy && (
            <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-200">
              {capitalise(movedWhy)}: enter every secret again. A stored secret is only ever sent where it was entered for.
            </p>
          )}
          <div className="grid gap-5 sm:grid-cols-2">
            {form.fields.map((f) => (
              <CredentialInput
                key={f.key}
                field={f}
                stored={stored.get(f.key)}
                error={errors[`credentials.${f.key}`]}
                editing={Boolean(existing)}
                reenterBecause={movedWhy && f.secret && f.reenterForNewUrl !== false && (f.required || stored.get(f.key)?.set) ? movedWhy : null}
                onUrlChange={f.endpoint ? (value) => setUrlDrafts((d) => ({ ...d, [f.key]: value })) : undefined}
              />
            ))}
          </div>
          {Object.entries(errors)
            .filter(([k]) => k.startsWith("credentials.") && !form.fields.some((f) => `credentials.${f.key}` === k))
            .map(([k, m]) => (
              <p key={k} className="text-sm text-rose-700">
                {m}
              </p>
            ))}
        </fieldset>

        <fieldset className="space-y-4 border-t border-slate-100 pt-5">
          <legend className="text-sm font-semibold text-slate-900">Sending</legend>
          <div className="grid gap-5 sm:grid-cols-2">
            <Field
              label="Send concurrency (optional)"
              error={errors.sendConcurrency}
              hint={`Payouts of this connection each worker process works on at once, 1 to 64. Blank: the desk's default (${existing?.defaultSendConcurrency ?? 8}, DESK_SEND_CONCURRENCY). Lower it for a provider with a tight rate limit.`}
            >
              {(p) => <input {...p} name="sendConcurrency" inputMode="numeric" defaultValue={existing?.sendConcurrency ?? ""} placeholder="Default" autoComplete="off" />}
            </Field>
            <Field
              label="Requests a minute (optional)"
              error={errors.requestsPerMinute}
              hint={`Sends and status checks the desk makes to this provider a minute, shared by all worker processes. Blank: ${
                existing?.publishedRequestsPerMinute ? `the provider's published limit (${existing.publishedRequestsPerMinute} a minute)` : "the provider's published limit where it has one (Muda: 100), else no pacing"
              }.`}
            >
              {(p) => <input {...p} name="requestsPerMinute" inputMode="numeric" defaultValue={existing?.requestsPerMinute ?? ""} placeholder="Provider's" autoComplete="off" />}
            </Field>
          </div>
        </fieldset>

        {existing ? (
          <>
            <LimitsFieldset existing={existing} errors={errors} />
            <ConnectionBalanceAlerts connectionId={existing.id} />
          </>
        ) : (
          <p className="border-t border-slate-100 pt-5 text-xs text-slate-500">
            Limits per currency (maximum per payout, daily and monthly totals) are set once the connection is added: edit it then.
          </p>
        )}

        <div className="flex items-center gap-3 border-t border-slate-100 pt-5">
          <Button type="submit" busy={mutation.isPending}>
            {existing ? "Save changes" : "Add connection"}
          </Button>
          <Button type="button" variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
        </div>
      </form>
    </Card>
  );
}

type LimitDrafts = Record<string, { maxPerPayout: string; daily: string; monthly: string }>;

/** The Limits fieldset's values, by currency; the row for another currency joins them when its code is filled in. */
function limitsOf(data: FormData, existing: ConnectionForEdit): LimitDrafts {
  const text = (key: string) => String(data.get(key) ?? "");
  const limits: LimitDrafts = {};
  for (const row of existing.limits) {
    limits[row.currency] = { maxPerPayout: text(`limit:${row.currency}:maxPerPayout`), daily: text(`limit:${row.currency}:daily`), monthly: text(`limit:${row.currency}:monthly`) };
  }
  const added = text("limitNew:currency").trim().toUpperCase();
  const addedValues = { maxPerPayout: text("limitNew:maxPerPayout"), daily: text("limitNew:daily"), monthly: text("limitNew:monthly") };
  // Only when something was typed; a row already listed keeps its own fields.
  if ((added !== "" || Object.values(addedValues).some((v) => v.trim() !== "")) && !(added in limits)) limits[added] = addedValues;
  return limits;
}

/**
 * Limits per currency: the most one payout may be (prefilled with the
 * provider's published limit, or the desk's, which a blank also means), and
 * the totals approved in a day and a month (in the desk's time zone) past
 * which approvals are held.
 */
function LimitsFieldset({ existing, errors }: { existing: ConnectionForEdit; errors: Record<string, string> }) {
  const [added, setAdded] = useState("");
  const addedKey = added.trim().toUpperCase();
  return (
    <fieldset className="space-y-4 border-t border-slate-100 pt-5" data-testid="limits">
      <legend className="text-sm font-semibold text-slate-900">Limits</legend>
      <p className="text-xs text-slate-500">
        Amounts in major units of each currency. A payout over the maximum is refused when it is created or edited; once a day&apos;s (or month&apos;s) approved
        payouts reach a total, further approvals wait. Blank totals: none.
      </p>
      {existing.limits.map((row) => (
        <div key={row.currency} className="grid gap-5 sm:grid-cols-3">
          <Field
            label={`${row.currency}: maximum per payout`}
            error={errors[`limits.${row.currency}.maxPerPayout`]}
            hint={`Blank: ${row.defaultSource === "provider" ? "the provider's published limit" : "the desk's limit"}, ${row.defaultMax}. Lower only.`}
          >
            {(p) => <input {...p} name={`limit:${row.currency}:maxPerPayout`} inputMode="decimal" defaultValue={row.maxPerPayout} autoComplete="off" />}
          </Field>
          <Field label={`${row.currency}: daily total`} error={errors[`limits.${row.currency}.daily`]} hint="Approved per day.">
            {(p) => <input {...p} name={`limit:${row.currency}:daily`} inputMode="decimal" defaultValue={row.daily} placeholder="None" autoComplete="off" />}
          </Field>
          <Field label={`${row.currency}: monthly total`} error={errors[`limits.${row.currency}.monthly`]} hint="Approved per calendar month.">
            {(p) => <input {...p} name={`limit:${row.currency}:monthly`} inputMode="decimal" defaultValue={row.monthly} placeholder="None" autoComplete="off" />}
          </Field>
          {errors[`limits.${row.currency}.currency`] && <p className="text-sm text-rose-700 sm:col-span-3">{errors[`limits.${row.currency}.currency`]}</p>}
        </div>
      ))}
      <div className="grid gap-5 sm:grid-cols-4">
        <Field
          label="Another currency (optional)"
          error={errors[`limits.${addedKey}.currency`]}
          hint={existing.limits.length ? "An ISO 4217 code not listed above." : "An ISO 4217 code, e.g. UGX."}
        >
          {(p) => (
            <input {...p} name="limitNew:currency" value={added} onChange={(e) => setAdded(e.target.value)} maxLength={4} autoComplete="off" style={{ textTransform: "uppercase" }} />
          )}
        </Field>
        <Field label="Maximum per payout" error={errors[`limits.${addedKey}.maxPerPayout`]} hint="Blank: the provider's or the desk's.">
          {(p) => <input {...p} name="limitNew:maxPerPayout" inputMode="decimal" autoComplete="off" />}
        </Field>
        <Field label="Daily total" error={errors[`limits.${addedKey}.daily`]}>
          {(p) => <input {...p} name="limitNew:daily" inputMode="decimal" placeholder="None" autoComplete="off" />}
        </Field>
        <Field label="Monthly total" error={errors[`limits.${addedKey}.monthly`]}>
          {(p) => <input {...p} name="limitNew:monthly" inputMode="decimal" placeholder="None" autoComplete="off" />}
        </Field>
      </div>
    </fieldset>
  );
}

/** What the edit moves the connection to, in words ("the base URL"); the server asks for the secrets again for the same moves (connection-admin.ts). */
function destinationChanges(
  existing: ConnectionForEdit,
  form: ProviderForm,
  draft: { useBuiltIn: boolean; baseUrl: string; urls: Record<string, string>; stored: Map<string, { set: boolean; value?: string }> },
): string[] {
  const clean = (url: string) => url.trim().replace(/\/+$/, "");
  const moves: string[] = [];
  // Moving to the built-in emulator is moving to the desk itself: nothing is asked for.
  if (!draft.useBuiltIn && (existing.builtInEmulator || clean(draft.baseUrl) !== clean(existing.baseUrl))) moves.push("the base URL");
  for (const field of form.fields) {
    const typed = draft.urls[field.key];
    if (!field.endpoint || typed === undefined || clean(typed) === "") continue;
    if (clean(typed) !== clean(draft.stored.get(field.key)?.value ?? "")) moves.push(`the ${lowerFirst(field.label)}`);
  }
  return moves;
}

function lowerFirst(label: string): string {
  return /^[A-Z][a-z]/.test(label) ? label[0]!.toLowerCase() + label.slice(1) : label;
}

function capitalise(text: string): string {
  return text ? text[0]!.toUpperCase() + text.slice(1) : text;
}

function CredentialInput({
  field,
  stored,
  error,
  editing,
  reenterBecause,
  onUrlChange,
}: {
  field: ProviderForm["fields"][number];
  stored?: { set: boolean; value?: string };
  error?: string;
  editing: boolean;
  /** Why this stored secret must be typed again (the connection is being pointed somewhere new), or null. */
  reenterBecause?: string | null;
  onUrlChange?: (value: string) => void;
}) {
  const name = `credential:${field.key}`;
  const label = field.required ? field.label : `${field.label} (optional)`;
  const secretHint =
    editing && field.secret
      ? reenterBecause
        ? `Enter it again: ${reenterBecause}.`
        : stored?.set
          ? "Stored. Leave blank to keep it; type to replace it."
          : "Not set."
      : undefined;
  const hint = [secretHint, field.hint].filter(Boolean).join(" ") || undefined;
  const wide = field.input === "multiline" ? "sm:col-span-2" : "";

  if (field.input === "select" && field.options) {
    return (
      <div className={wide}>
        <Field label={label} error={error} hint={field.hint}>
          {(p) => (
            <select {...p} name={name} defaultValue={stored?.value ?? ""}>
              {!field.required && <option value="">Default ({field.options![0]})</option>}
              {field.options!.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
    );
  }
  if (field.input === "multiline") {
    return (
      <div className={wide}>
        <Field label={label} error={error} hint={hint}>
          {(p) => (
            <textarea
              {...p}
              name={name}
              rows={4}
              defaultValue={field.secret ? "" : (stored?.value ?? "")}
              autoComplete="off"
              spellCheck={false}
              data-secret={field.secret || undefined}
              // A pasted private key is masked like a password field (which cannot hold line breaks).
              className={`${p.className} font-mono text-xs ${field.secret ? "[-webkit-text-security:disc]" : ""}`}
            />
          )}
        </Field>
      </div>
    );
  }
  return (
    <div className={wide}>
      <Field label={label} error={error} hint={hint}>
        {(p) =>
          field.secret ? (
            <input {...p} name={name} type="password" autoComplete="off" spellCheck={false} data-secret placeholder={stored?.set && !reenterBecause ? "•••••• stored" : ""} />
          ) : (
            <input
              {...p}
              name={name}
              type={field.endpoint ? "url" : "text"}
              inputMode={field.endpoint ? "url" : undefined}
              autoComplete="off"
              spellCheck={false}
              defaultValue={stored?.value ?? ""}
              onChange={onUrlChange ? (e) => onUrlChange(e.target.value) : undefined}
            />
          )
        }
      </Field>
    </div>
  );
}
