"use client";
import { SaveRow } from "./save-row";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Field } from "@/components/ui/field";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";
import { formatInZone } from "@/server/domain/statement";

/** IANA zones the browser knows, for the field's suggestions (the server checks the value itself). */
function useZoneNames(): string[] {
  return useMemo(() => {
    const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
    const zones = intl.supportedValuesOf?.("timeZone") ?? [];
    return zones.includes("UTC") ? zones : ["UTC", ...zones];
  }, []);
}

/** Settings → General: the merchant's name on exported statements and the desk's default time zone. Admins edit; others read. */
export function GeneralSettings({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const settings = useQuery(trpc.settings.general.queryOptions());
  const zones = useZoneNames();
  const [merchantName, setMerchantName] = useState("");
  const [timeZone, setTimeZone] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    if (settings.data) {
      setMerchantName(settings.data.merchantName ?? "");
      setTimeZone(settings.data.timeZone);
    }
  }, [settings.data]);
  const save = useMutation(
    trpc.settings.updateGeneral.mutationOptions({
      onSuccess: async (result) => {
        setSaved(`Saved. Statements now default to ${result.timeZone}.`);
        await queryClient.invalidateQueries({ queryKey: trpc.settings.pathKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.statements.pathKey() });
      },
    }),
  );
  const errors = fieldErrorsOf(save.error);

  if (settings.isPending) return <Loading label="Loading settings…" />;
  if (settings.isError) return <ErrorNote>{messageOf(settings.error)}</ErrorNote>;

  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(null);
    save.mutate({ merchantName, timeZone });
  }

  return (
    <Card className="p-5">
      <form className="max-w-xl space-y-4" onSubmit={submit} aria-labelledby="settings-general" noValidate>
        <Field label="Merchant name" error={errors.merchantName} hint="Heads every exported statement (the PDF's first line).">
          {(props) => (
            <input
              {...props}
              name="merchantName"
              value={merchantName}
              onChange={(e) => setMerchantName(e.target.value)}
              readOnly={!canEdit}
              placeholder="Not set: exports say “Payout desk”"
              autoComplete="organization"
            />
          )}
        </Field>
        <Field
          label="Default time zone"
          error={errors.timeZone}
          hint={`Statements use it unless a user picks their own. An IANA name such as Europe/London or Africa/Lusaka. Now there: ${formatInZone(new Date(), settings.data.timeZone)}.`}
        >
          {(props) => (
            <>
              <input
                {...props}
                name="timeZone"
                list="time-zones"
                value={timeZone}
                onChange={(e) => setTimeZone(e.target.value)}
                readOnly={!canEdit}
                spellCheck={false}
                autoComplete="off"
              />
              <datalist id="time-zones">
                {zones.map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <SaveRow canEdit={canEdit} busy={save.isPending} saved={saved} error={save.isError && Object.keys(errors).length === 0 ? messageOf(save.error) : null} />
        {settings.data.updatedAt && (
          <p className="text-xs text-slate-500">Last changed {formatInZone(new Date(settings.data.updatedAt), settings.data.timeZone)}.</p>
        )}
      </form>
    </Card>
  );
}
