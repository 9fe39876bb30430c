// What a refused sign-in tells the form. next-auth hands the form only the
// error text of `authorize` (as ?error=), so the kind of refusal travels in
// front of the words: "code-required|…". Shared by the server (options.ts)
// and the sign-in form; no imports, so the browser bundle can take it.

export type SignInAnswerKind =
  /** The password was right; the account has two-factor on: ask for the code. */
  | "code-required"
  /** The code was wrong or used: say so beside the code field. */
  | "code-refused"
  /** The account must enrol and its one sign-in of grace is spent. */
  | "enrolment-overdue";

// Other refusals (wrong email or password, a throttled attempt) travel as plain words.
const KINDS: readonly SignInAnswerKind[] = ["code-required", "code-refused", "enrolment-overdue"];

export function signInAnswer(kind: SignInAnswerKind, message: string): string {
  return `${kind}|${message}`;
}

/** The kind and the words of an error next-auth passed on; an unknown text is returned as its own message. */
export function readSignInAnswer(error: string): { kind: SignInAnswerKind | null; message: string } {
  const bar = error.indexOf("|");
  const kind = bar > 0 ? error.slice(0, bar) : "";
  return (KINDS as readonly string[]).includes(kind) ? { kind: kind as SignInAnswerKind, message: error.slice(bar + 1) } : { kind: null, message: error };
}
