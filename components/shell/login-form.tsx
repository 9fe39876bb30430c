"use client";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "next/navigation";
import { signIn } from "next-auth/react";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { ErrorNote } from "@/components/ui/layout";
import { readSignInAnswer } from "@/server/auth/sign-in-answers";

/**
 * Sign-in in up to two steps. Email and password first; when the account has
 * two-factor sign-in on, the server answers that a code is needed (and only
 * after the right password), and the form asks for it, then sends email,
 * password and code together: next-auth's credentials sign-in is one request
 * that either opens a session or does not, so nothing half-signed-in is kept
 * between the steps. `notice`: why the user is signing in again (session
 * ended, signed out), shown until they try.
 */
export function LoginForm({ notice = null }: { notice?: string | null }) {
  const params = useSearchParams();
  const [busy, setBusy] = useState(false);
  const [stage, setStage] = useState<"password" | "code">("password");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [codeError, setCodeError] = useState<string | null>(null);
  const [showNotice, setShowNotice] = useState(Boolean(notice));

  function startOver() {
    setStage("password");
    setPassword("");
    setCode("");
    setError(null);
    setCodeError(null);
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setCodeError(null);
    setShowNotice(false);
    const result = await signIn("credentials", { email, password, ...(stage === "code" ? { code } : {}), redirect: false });
    setBusy(false);
    if (!result || result.error) {
      const answer = readSignInAnswer(result?.error && result.error !== "CredentialsSignin" ? result.error : "Wrong email or password");
      switch (answer.kind) {
        case "code-required":
          setStage("code");
          setCode("");
          return;
        case "code-refused":
          // Beside the code field, which names it.
          setCodeError(answer.message.replace(/^Code: /, ""));
          setCode("");
          return;
        case "enrolment-overdue":
          startOver();
          setError(answer.message);
          return;
        default:
          // A wrong password at the code step means it changed meanwhile: start again from the password.
          if (stage === "code" && answer.message === "Wrong email or password") startOver();
          setError(answer.message);
          return;
      }
    }
    setPassword("");
    setCode("");
    const next = params.get("callbackUrl");
    // Only same-site paths: never bounce a user to another origin after sign-in.
    const target = next && next.startsWith("/") && !next.startsWith("//") ? next : safePath(next);
    // A full page load, not a client-side one: the dashboard's server-side
    // checks may redirect (to two-factor set-up on a grace sign-in), and a
    // redirect answered to a client-side navigation across the sign-in left a blank page.
    window.location.assign(target);
  }

  return (
    <form onSubmit={onSubmit} className="space-y-4 rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200" noValidate>
      {showNotice && notice && (
        <p className="rounded-md bg-amber-50 px-4 py-3 text-sm text-amber-900 ring-1 ring-inset ring-amber-200" data-testid="session-notice">
          {notice}
        </p>
      )}
      {error && <ErrorNote>{error}</ErrorNote>}
      {stage === "password" ? (
        <>
          <Field label="Email">
            {(p) => <input {...p} name="email" type="email" autoComplete="username" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />}
          </Field>
          <Field label="Password">
            {(p) => <input {...p} name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />}
          </Field>
          <Button type="submit" busy={busy} className="w-full">
            Sign in
          </Button>
        </>
      ) : (
        <>
          <p className="text-sm text-slate-700" data-testid="code-step">
            Two-factor sign-in is on for <span className="font-medium wrap-anywhere">{email}</span>. Enter the code your authenticator app shows now.
          </p>
          <Field
            label="Authentication code"
            error={codeError ?? undefined}
            hint="6 digits from the app. Lost the phone? One of your recovery codes works instead, once."
          >
            {(p) => (
              <input
                {...p}
                name="code"
                autoComplete="one-time-code"
                inputMode="text"
                spellCheck={false}
                maxLength={64}
                required
                autoFocus
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
            )}
          </Field>
          <Button type="submit" busy={busy} disabled={code.trim() === ""} className="w-full">
            Verify and sign in
          </Button>
          <button type="button" onClick={startOver} className="block w-full text-center text-sm font-medium text-indigo-700 hover:underline">
            Use another account
          </button>
        </>
      )}
    </form>
  );
}

function safePath(url: string | null): string {
  if (!url) return "/";
  try {
    const parsed = new URL(url);
    return parsed.origin === window.location.origin ? `${parsed.pathname}${parsed.search}` : "/";
  } catch {
    return "/";
  }
}
