import { useEffect, useState } from "react";
import type { ProviderCallSummary } from "./types";

/** The current time, renewed every `everyMs`, so "in limbo for…" and "ask again in…" stay true while the page is open. */
export function useNow(everyMs = 15_000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** A span of time in the largest two units that matter: "45 s", "12 min", "3 h 05 min", "2 d 4 h". */
export function duration(from: Date | string, now: Date): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - new Date(from).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** One provider call as a line: what was asked and what came back (or that nothing did). */
export function callSummary(call: ProviderCallSummary): string {
  const answer = call.httpStatus !== null ? `HTTP ${call.httpStatus}` : "no answer";
  return `${call.method} ${call.operation} → ${answer}`;
}

export const OUTCOME_WORDS = { succeeded: "paid", failed: "failed" } as const;
