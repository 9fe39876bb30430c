"use client";
// Settings → Two-factor sign-in: who must use it. Approvers and admins always;
// admins may require it of everyone (viewers and makers too). Changing it asks
// the admin for a fresh code (useStepUp) and is audited by the server.
import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { SaveRow } from "@/components/settings/save-row";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";
import { when } from "@/components/payouts/format";
import { useStepUp } from "./step-up";

export function TwoFactorPolicySettings({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const policy = useQuery(trpc.auth.policy.queryOptions());
  const save = useMutation(trpc.auth.setRequireForAll.mutationOptions());
  const stepUp = useStepUp();
  const [requireForAll, setRequireForAll] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    if (policy.data) setRequireForAll(policy.data.requireForAll);
  }, [policy.data]);

  if (policy.isPending) return <Loading label="Loading who must use two-factor sign-in…" />;
  if (policy.isError) return <ErrorNote>{messageOf(policy.error)}</ErrorNote>;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(null);
    setFailure(null);
    try {
      const result = await stepUp.run(() => save.mutateAsync({ required: requireForAll }));
      setSaved(result.requireForAll ? "Saved: everyone must now use two-factor sign-in." : "Saved: only approvers and admins must use two-factor sign-in.");
    } catch (error) {
      setFailure(messageOf(error));
    }
    await queryClient.invalidateQueries({ queryKey: trpc.auth.pathKey() });
  }

  return (
    <Card className="p-5">
      {stepUp.dialog}
      <form className="max-w-xl space-y-4" onSubmit={submit} noValidate>
        <p className="text-sm text-slate-700">Approvers and admins always sign in with a code from an authenticator app.</p>
        <label className="flex items-start gap-3 text-sm text-slate-800">
          <input
            type="checkbox"
            name="requireForAll"
            className="mt-0.5 h-4 w-4 rounded border-slate-300"
            checked={requireForAll}
            disabled={!canEdit}
            onChange={(e) => setRequireForAll(e.target.checked)}
          />
          <span>
            <span className="font-medium">Require it of everyone</span>
            <span className="block text-slate-600">
              Viewers and makers too. Anyone without it gets one sign-in to set it up; after that, sign-in is refused until they do (or an admin resets their second factor).
            </span>
          </span>
        </label>
        <SaveRow
          canEdit={canEdit}
          busy={save.isPending}
          disabled={requireForAll === policy.data.requireForAll}
          saved={saved}
          error={failure}
          readOnlyNote="Only admins change who must use two-factor sign-in."
        />
        {policy.data.updatedAt && <p className="text-xs text-slate-500">Last changed {when(policy.data.updatedAt)}.</p>}
      </form>
    </Card>
  );
}
