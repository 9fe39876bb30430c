"use client";
// Runs a mutation that may need a fresh second-factor code: when the server
// answers that a code is needed, it asks for one, proves it, and runs the
// mutation again.
//
// STUB until the TOTP work lands: runs the mutation as is.
import type { ReactNode } from "react";

export function useStepUp(): { run<T>(mutate: () => Promise<T>): Promise<T>; dialog: ReactNode } {
  return { run: (mutate) => mutate(), dialog: null };
}
