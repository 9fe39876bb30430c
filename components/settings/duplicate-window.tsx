"use client";
import { SaveRow } from "./save-row";
import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Field } from "@/components/ui/field";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";

/**
 * Settings → General: how close in time two payouts to the same recipient,
 * of the same amount and currency, are flagged as likely duplicates (at
 * creation, and on the approval card). Admins edit; others read.
 */
export function DuplicateWindowSetting({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const current = useQuery(trpc.payouts.duplicateWindow.queryOptions());
  const [hours, setHours] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    if (current.data) setHours(current.data.source === "setting" ? String(current.data.hours) : "");
  }, [current.data]);
  const save = useMutation(
    trpc.payouts.updateDuplicateWindow.mutationOptions({
      onSuccess: async (result) => {
        setSaved(result.hours === 0 ? "Saved. Likely duplicates are no longer flagged." : `Saved. Payouts alike within ${result.hours} hours are flagged.`);
        await queryClient.invalidateQueries({ queryKey: trpc.payouts.duplicateWindow.queryKey() });
      },
    }),
  );
  const errors = fieldErrorsOf(save.error);
  if (current.isPending) return <Loading label="Loading settings…" />;
  if (current.isError) return <ErrorNote>{messageOf(current.error)}</ErrorNote>;

  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(null);
    save.mutate({ hours });
  }

  return (
    <Card className="p-5">
      <form className="max-w-xl space-y-4" onSubmit={submit} aria-label="Likely duplicates" noValidate>
        <Field
          label="Likely duplicates: window (hours)"
          error={errors.duplicateWindowHours}
          hint={`A payout to the same recipient, of the same amount and currency, created within this many hours of another is flagged to its maker and its approver (never refused). 0 switches it off. Blank: the default, ${current.data.defaultHours} h (DESK_DUPLICATE_WINDOW_HOURS).`}
        >
          {(props) => (
            <input
              {...props}
              name="duplicateWindowHours"
              inputMode="numeric"
              value={hours}
              onChange={(e) => setHours(e.target.value)}
              readOnly={!canEdit}
              placeholder={`Default (${current.data.defaultHours})`}
              autoComplete="off"
            />
          )}
        </Field>
        <SaveRow canEdit={canEdit} busy={save.isPending} saved={saved} error={save.isError && Object.keys(errors).length === 0 ? messageOf(save.error) : null} />
      </form>
    </Card>
  );
}
