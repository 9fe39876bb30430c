// Recognising "a fresh second-factor code is needed" in the two ways it
// arrives: a tRPC error whose data carries stepUpRequired (server/trpc/init.ts),
// and a route handler's JSON 403 with the same flag (the export downloads,
// server/services/exports.ts). useStepUp (step-up.tsx) acts on both.
import { TRPCClientError } from "@trpc/client";
import type { StepUpReason } from "@/server/auth/step-up";

export interface StepUpAnswerInfo {
  reason: StepUpReason;
  message: string;
}

/** A fetch-based call answered that a fresh code is needed. */
export class StepUpAnswer extends Error {
  constructor(
    message: string,
    readonly reason: StepUpReason,
  ) {
    super(message);
    this.name = "StepUpAnswer";
  }
}

export function stepUpAnswerOf(error: unknown): StepUpAnswerInfo | null {
  if (error instanceof StepUpAnswer) return { reason: error.reason, message: error.message };
  if (error instanceof TRPCClientError) {
    const data = error.data as { stepUpRequired?: boolean; stepUpReason?: string } | undefined;
    if (data?.stepUpRequired) return { reason: data.stepUpReason === "not-enrolled" ? "not-enrolled" : "stale", message: error.message };
  }
  return null;
}

/**
 * fetch, except that a 403 carrying `stepUpRequired` throws StepUpAnswer, so
 * `useStepUp().run(() => fetchWithStepUp(url))` asks for the code and fetches
 * again. Any other answer is returned as it came (the body unread).
 */
export async function fetchWithStepUp(input: string, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  if (response.status === 403) {
    const body = (await response
      .clone()
      .json()
      .catch(() => null)) as { error?: string; stepUpRequired?: boolean; stepUpReason?: string } | null;
    if (body?.stepUpRequired) {
      throw new StepUpAnswer(body.error ?? "Enter a code from your authenticator app to continue", body.stepUpReason === "not-enrolled" ? "not-enrolled" : "stale");
    }
  }
  return response;
}
