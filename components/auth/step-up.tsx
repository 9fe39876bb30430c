"use client";
// Runs an action that may need a fresh second-factor code: when the server
// answers that a code is needed (a tRPC error with data.stepUpRequired, or a
// download's JSON 403 with the same flag, see step-up-fetch.ts), it asks for
// one, proves it with auth.stepUp (which marks this session as having just
// proved it), and runs the action again. The caller renders `dialog`.
//
// When the user must set up two-factor first (reason "not-enrolled") there is
// no code to ask for: the dialog says so and links to the set-up page. Closing
// the dialog rejects with the server's original answer, so the caller shows
// why nothing happened.
import { useCallback, useEffect, useId, useState, type FormEvent, type ReactNode } from "react";
import Link from "next/link";
import { useMutation } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { stepUpAnswerOf, type StepUpAnswerInfo } from "./step-up-fetch";

interface Pending extends StepUpAnswerInfo {
  retry: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  original: unknown;
}

export function useStepUp(): { run<T>(mutate: () => Promise<T>): Promise<T>; dialog: ReactNode } {
  const [pending, setPending] = useState<Pending | null>(null);

  const run = useCallback(async function attempt<T>(mutate: () => Promise<T>): Promise<T> {
    try {
      return await mutate();
    } catch (error) {
      const answer = stepUpAnswerOf(error);
      if (!answer) throw error;
      return new Promise<T>((resolve, reject) =>
        setPending({ ...answer, retry: mutate, resolve: resolve as (value: unknown) => void, reject, original: error }),
      );
    }
  }, []);

  const dialog = pending ? (
    <StepUpDialog
      key={pending.message}
      answer={pending}
      onCancel={() => {
        setPending(null);
        pending.reject(pending.original);
      }}
      onProved={async () => {
        setPending(null);
        try {
          pending.resolve(await run(pending.retry));
        } catch (error) {
          pending.reject(error);
        }
      }}
    />
  ) : null;
  return { run, dialog };
}

function StepUpDialog({ answer, onCancel, onProved }: { answer: StepUpAnswerInfo; onCancel: () => void; onProved: () => Promise<void> }) {
  const trpc = useTRPC();
  const prove = useMutation(trpc.auth.stepUp.mutationOptions());
  const [code, setCode] = useState("");
  const titleId = useId();

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onCancel();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onCancel]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      await prove.mutateAsync({ code });
    } catch {
      return; // shown beside the field
    }
    await onProved();
  }

  const errors = fieldErrorsOf(prove.error);
  const error = prove.error ? (errors.code ?? messageOf(prove.error)) : undefined;
  const enrolFirst = answer.reason === "not-enrolled";
  return (
    <div className="fixed inset-0 z-50 flex items-center justify-center bg-slate-900/40 px-4" data-testid="step-up-dialog">
      <div role="dialog" aria-modal="true" aria-labelledby={titleId} className="w-full max-w-md rounded-lg bg-white p-6 shadow-xl ring-1 ring-slate-200">
        <h2 id={titleId} className="text-base font-semibold text-slate-900">
          {enrolFirst ? "Set up two-factor sign-in first" : "Confirm with your authenticator app"}
        </h2>
        {enrolFirst ? (
          <>
            <p className="mt-2 text-sm text-slate-700">{answer.message}</p>
            <div className="mt-5 flex justify-end gap-2">
              <Button variant="secondary" type="button" onClick={onCancel}>
                Close
              </Button>
              <Link href="/account/security" className="inline-flex items-center rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700">
                Set up two-factor sign-in
              </Link>
            </div>
          </>
        ) : (
          <form onSubmit={submit} className="mt-2 space-y-4" noValidate>
            <p className="text-sm text-slate-700">
              This action asks for a fresh code when this session last gave one more than 5 minutes ago. Nothing has been done yet; it runs as soon as the code is accepted.
            </p>
            <Field label="Authentication code" error={error} hint="The 6-digit code your authenticator app shows now, or one of your recovery codes (each works once).">
              {(p) => (
                <input
                  {...p}
                  name="code"
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                  autoComplete="one-time-code"
                  inputMode="text"
                  spellCheck={false}
                  autoFocus
                  maxLength={64}
                />
              )}
            </Field>
            <div className="flex justify-end gap-2">
              <Button variant="secondary" type="button" onClick={onCancel}>
                Cancel
              </Button>
              <Button type="submit" busy={prove.isPending} disabled={code.trim() === ""}>
                Confirm
              </Button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}
