// Step-up: an action that moves money or changes controls (approve, reject,
// a policy change, a connection's credentials, an export) asks for a fresh
// second-factor code when the session last proved it more than 5 minutes ago.
//
// STUB: the TOTP work (enrolment, codes, this check) is being written; until
// it lands this check lets everything through. Callers use it already so the
// rule is in place where it applies.
import type { Actor, Desk } from "@/server/services/types";

export const STEP_UP_WINDOW_SECONDS = 300;

/** The action needs a fresh code; the client shows the code field and retries. */
export class StepUpRequired extends Error {
  constructor(message = "Enter a code from your authenticator app to continue") {
    super(message);
    this.name = "StepUpRequired";
  }
}

/** Throws StepUpRequired unless this session proved its second factor within the window. */
export async function requireRecentSecondFactor(_ctx: { desk: Desk; actor: Actor; sessionId?: string | null }): Promise<void> {
  // Filled in by the TOTP work.
}
