"use client";
// The signed-in user's own two-factor sign-in: set it up (QR code rendered by
// the server, the key to type by hand, a code to confirm), the ten recovery
// codes shown once, new codes, a new device, turning it off where the desk
// allows. Changes to a factor that is on ask for a fresh code first (useStepUp).
import { useState, type FormEvent } from "react";
import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";
import { when } from "@/components/payouts/format";
import { useStepUp } from "./step-up";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";

type Outputs = inferRouterOutputs<AppRouter>;
type Status = Outputs["auth"]["status"];
type Setup = Outputs["auth"]["startEnrolment"];

export function TwoFactorSettings({ role }: { role: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const status = useQuery(trpc.auth.status.queryOptions());
  const stepUp = useStepUp();
  const [setup, setSetup] = useState<Setup | null>(null);
  const [codes, setCodes] = useState<{ codes: string[]; why: "enrolled" | "replaced" } | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.auth.pathKey() });
  const start = useMutation(trpc.auth.startEnrolment.mutationOptions());
  const regenerate = useMutation(trpc.auth.regenerateRecoveryCodes.mutationOptions());
  const disable = useMutation(trpc.auth.disable.mutationOptions());

  /** Runs a change, asking for a code when the server wants a fresh one; a refusal is said in words. */
  async function act<T>(mutate: () => Promise<T>): Promise<T | null> {
    setFailure(null);
    setNotice(null);
    try {
      return await stepUp.run(mutate);
    } catch (error) {
      setFailure(messageOf(error));
      return null;
    } finally {
      await refresh();
    }
  }

  if (status.isPending) return <Loading label="Loading your two-factor sign-in…" />;
  if (status.isError) return <ErrorNote>{messageOf(status.error)}</ErrorNote>;
  const s = status.data;

  return (
    <div className="max-w-2xl space-y-6">
      {stepUp.dialog}
      <RequirementNote status={s} role={role} />
      {failure && <ErrorNote>{failure}</ErrorNote>}
      {notice && (
        <p role="status" className="text-sm text-emerald-800">
          {notice}
        </p>
      )}

      {codes ? (
        <RecoveryCodes codes={codes.codes} why={codes.why} onDone={() => setCodes(null)} />
      ) : setup ? (
        <SetUp
          setup={setup}
          onCancel={() => setSetup(null)}
          onDone={async (recoveryCodes) => {
            setCodes({ codes: recoveryCodes, why: "enrolled" });
            setSetup(null);
            await refresh();
          }}
        />
      ) : (
        <Card className="space-y-4 p-5">
          {s.enabled ? (
            <>
              <div>
                <p className="text-sm font-semibold text-emerald-800" data-testid="two-factor-state">
                  On since {when(s.enabledAt!)}
                </p>
                <p className={`mt-1 text-sm ${s.recoveryCodesLeft <= 3 ? "text-amber-800" : "text-slate-600"}`}>
                  {s.recoveryCodesLeft} of 10 recovery codes left{s.recoveryCodesLeft <= 3 ? ": make new ones before they run out" : ""}.
                </p>
                <p className="mt-1 text-sm text-slate-600">
                  {s.provedAt
                    ? `This session last gave a code at ${when(s.provedAt)}; approving, exporting and changing controls ask again from ${when(s.freshUntil!)}.`
                    : "This session has not given a code yet; approving, exporting and changing controls will ask for one."}
                </p>
              </div>
              <div className="flex flex-wrap gap-2">
                <Button
                  variant="secondary"
                  busy={regenerate.isPending}
                  onClick={async () => {
                    const result = await act(() => regenerate.mutateAsync());
                    if (result) setCodes({ codes: result.recoveryCodes, why: "replaced" });
                  }}
                >
                  New recovery codes
                </Button>
                <Button
                  variant="secondary"
                  busy={start.isPending}
                  onClick={async () => {
                    const result = await act(() => start.mutateAsync());
                    if (result) setSetup(result);
                  }}
                >
                  Move to a new device
                </Button>
                {s.requirement === null && (
                  <Button
                    variant="danger"
                    busy={disable.isPending}
                    onClick={async () => {
                      if (!window.confirm("Turn off two-factor sign-in? Signing in will need only your password, and your recovery codes stop working.")) return;
                      if (await act(() => disable.mutateAsync())) setNotice("Two-factor sign-in is off. Your recovery codes no longer work.");
                    }}
                  >
                    Turn off
                  </Button>
                )}
              </div>
              {s.requirement !== null && (
                <p className="text-xs text-slate-500">
                  It cannot be turned off: {s.requirement === "role" ? `it is required of ${role}s` : "this desk requires it of everyone"}. Move to a new device replaces it; an admin can reset it if your phone is lost and your recovery codes are gone.
                </p>
              )}
            </>
          ) : (
            <>
              <p className="text-sm text-slate-700" data-testid="two-factor-state">
                Two-factor sign-in is off: your password alone signs you in.
              </p>
              <Button
                busy={start.isPending}
                onClick={async () => {
                  const result = await act(() => start.mutateAsync());
                  if (result) setSetup(result);
                }}
              >
                Set up two-factor sign-in
              </Button>
            </>
          )}
        </Card>
      )}
    </div>
  );
}

function RequirementNote({ status, role }: { status: Status; role: string }) {
  if (status.enabled || status.requirement === null) return null;
  const who = status.requirement === "role" ? `${role}s` : "everyone on this desk";
  return (
    <p className="rounded-md bg-amber-50 px-4 py-3 text-sm text-amber-900 ring-1 ring-inset ring-amber-200" data-testid="two-factor-required">
      Two-factor sign-in is required of {who}.{" "}
      {status.graceUsedAt
        ? "This sign-in was the one allowed without it: set it up now. Until you do, approving, exporting and changing controls are refused, and your next sign-in will be refused until an admin resets your second factor."
        : "Set it up now; until you do, approving, exporting and changing controls are refused."}
    </p>
  );
}

function SetUp({ setup, onCancel, onDone }: { setup: Setup; onCancel: () => void; onDone: (recoveryCodes: string[]) => Promise<void> }) {
  const trpc = useTRPC();
  const confirm = useMutation(trpc.auth.confirmEnrolment.mutationOptions());
  const [code, setCode] = useState("");
  const errors = fieldErrorsOf(confirm.error);

  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      const result = await confirm.mutateAsync({ enrolment: setup.enrolment, code });
      await onDone(result.recoveryCodes);
    } catch {
      // shown beside the field
    }
  }

  return (
    <Card className="space-y-5 p-5">
      <div>
        <h2 className="text-base font-semibold text-slate-900">{setup.replacing ? "Set up your new device" : "Set up two-factor sign-in"}</h2>
        <p className="mt-1 text-sm text-slate-600">
          {setup.replacing ? "Your current authenticator keeps working until the new one is confirmed. " : ""}Scan this code with an authenticator app (Google Authenticator, Microsoft Authenticator, 1Password, Authy…), then enter the 6-digit code it shows.
        </p>
      </div>
      <div className="flex flex-wrap items-start gap-6">
        {/* eslint-disable-next-line @next/next/no-img-element -- a data: URL made by the server; nothing for next/image to optimise */}
        <img src={setup.qrCode} alt={`QR code to add ${setup.accountLabel} to an authenticator app`} width={192} height={192} className="rounded-md ring-1 ring-slate-200" data-testid="totp-qr" />
        <div className="min-w-0 flex-1 space-y-2 text-sm">
          <p className="text-slate-700">Cannot scan? Add an account by hand with this key:</p>
          <code className="block rounded-md bg-slate-100 px-3 py-2 font-mono text-base tracking-wider text-slate-900 wrap-anywhere" data-testid="totp-manual-key">
            {setup.manualKey}
          </code>
          <p className="text-xs text-slate-500">
            Account {setup.accountLabel}, issuer {setup.issuer}; time-based, 6 digits, every 30 seconds. This set-up expires at {when(setup.expiresAt)}.
          </p>
        </div>
      </div>
      <form onSubmit={submit} className="space-y-3" noValidate>
        {errors.enrolment && <ErrorNote>{errors.enrolment}</ErrorNote>}
        <Field label="Code from the app" error={errors.code?.replace(/^Code: /, "")} hint="The 6 digits it shows now for this desk.">
          {(p) => (
            <input {...p} name="code" value={code} onChange={(e) => setCode(e.target.value)} autoComplete="one-time-code" inputMode="numeric" spellCheck={false} maxLength={64} autoFocus />
          )}
        </Field>
        {confirm.isError && !errors.code && !errors.enrolment && <ErrorNote>{messageOf(confirm.error)}</ErrorNote>}
        <div className="flex gap-2">
          <Button type="submit" busy={confirm.isPending} disabled={code.trim() === ""}>
            Confirm
          </Button>
          <Button type="button" variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
        </div>
      </form>
    </Card>
  );
}

function RecoveryCodes({ codes, why, onDone }: { codes: string[]; why: "enrolled" | "replaced"; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const text = `Payout desk recovery codes (each works once)\n\n${codes.join("\n")}\n`;
  function download() {
    const href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    const a = document.createElement("a");
    a.href = href;
    a.download = "payout-desk-recovery-codes.txt";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 60_000);
  }
  return (
    <Card className="space-y-4 p-5">
      <div>
        <h2 className="text-base font-semibold text-slate-900">{why === "enrolled" ? "Two-factor sign-in is on. Save your recovery codes" : "Your new recovery codes"}</h2>
        <p className="mt-1 text-sm text-slate-600">
          If you lose your phone, each of these signs you in once instead of a code from the app.{why === "replaced" ? " The old codes no longer work." : ""} This is the only time they are shown: keep them somewhere safe, such as a password manager.
        </p>
      </div>
      <ol className="grid grid-cols-2 gap-x-6 gap-y-1 font-mono text-sm text-slate-900" data-testid="recovery-codes">
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </ol>
      <div className="flex flex-wrap gap-2">
        <Button variant="secondary" type="button" onClick={download}>
          Download as a text file
        </Button>
        <Button
          variant="secondary"
          type="button"
          onClick={async () => {
            await navigator.clipboard.writeText(text).then(
              () => setCopied(true),
              () => setCopied(false),
            );
          }}
        >
          {copied ? "Copied" : "Copy"}
        </Button>
        <Button type="button" onClick={onDone}>
          I have saved them
        </Button>
      </div>
      {why === "enrolled" && (
        <p className="text-sm text-slate-600">
          Next time you sign in, the desk asks for a code after your password. <Link href="/" className="font-medium text-indigo-700 hover:underline">Go to the overview</Link>
        </p>
      )}
    </Card>
  );
}
