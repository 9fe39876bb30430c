"use client";
// "Verify chain": the server checks the chain a slice at a time (20,000
// entries per request at most) and says where to go on; this asks for the
// next slice until the goal fixed by the first answer (the last entry when
// the check began), showing how far it has come. Stopping is allowed
// between slices. The answer names the first broken link, or says the chain
// is intact up to its head, with the head's hash to note down.
import Link from "next/link";
import { useRef, useState } from "react";
import { useTRPCClient } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote } from "@/components/ui/layout";
import { formatInZone } from "@/server/domain/statement";
import { browserTimeZone } from "./format";

type Verdict =
  | { phase: "idle" }
  | { phase: "running"; checked: number; done: number; total: number }
  | { phase: "stopped"; checked: number }
  | { phase: "intact"; checked: number; beforeChain: number; head: { id: string; hash: string; at: Date } | null }
  | { phase: "broken"; checked: number; broken: { kind: string; id: string; message: string } }
  | { phase: "failed"; message: string };

const KIND_LABELS: Record<string, string> = {
  edited: "Changed after it was written",
  missing: "An entry before it is missing",
  out_of_order: "Out of order",
  unsealed: "Written outside the chain",
};

export function VerifyChain() {
  const client = useTRPCClient();
  const [verdict, setVerdict] = useState<Verdict>({ phase: "idle" });
  const stop = useRef(false);

  async function run() {
    stop.current = false;
    setVerdict({ phase: "running", checked: 0, done: 0, total: 0 });
    try {
      let from: string | null = null;
      let to: string | null = null;
      let checked = 0;
      let beforeChain = 0;
      for (;;) {
        const slice = await client.audit.verify.query({ from, to });
        checked += slice.checked;
        beforeChain += slice.beforeChain;
        to = slice.range.last;
        if (slice.broken) {
          setVerdict({ phase: "broken", checked, broken: slice.broken });
          return;
        }
        if (!slice.nextFrom) {
          setVerdict({ phase: "intact", checked, beforeChain, head: slice.head });
          return;
        }
        // Progress by entry number between the first entry and the goal (ids may have gaps; close enough to show).
        const first = BigInt(slice.range.first ?? "0");
        const total = Number(BigInt(to ?? "0") - first + 1n);
        const done = Number(BigInt(slice.lastId ?? "0") - first + 1n);
        setVerdict({ phase: "running", checked, done, total });
        if (stop.current) {
          setVerdict({ phase: "stopped", checked });
          return;
        }
        from = slice.nextFrom;
      }
    } catch (error) {
      setVerdict({ phase: "failed", message: messageOf(error) });
    }
  }

  const running = verdict.phase === "running";
  return (
    <Card className="space-y-3 p-5" data-testid="verify-chain">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h2 className="text-sm font-semibold text-slate-900">Hash chain</h2>
          <p className="text-xs text-slate-600">Each entry holds the hash of the one before it. Verifying recomputes every hash and names the first entry that no longer fits.</p>
        </div>
        <div className="flex gap-2">
          <Button onClick={run} busy={running} data-testid="verify-chain-button">
            Verify chain
          </Button>
          {running && (
            <Button variant="ghost" onClick={() => (stop.current = true)}>
              Stop
            </Button>
          )}
        </div>
      </div>
      <VerdictView verdict={verdict} />
    </Card>
  );
}

function VerdictView({ verdict }: { verdict: Verdict }) {
  switch (verdict.phase) {
    case "idle":
      return null;
    case "running": {
      const percent = verdict.total > 0 ? Math.min(100, Math.floor((verdict.done / verdict.total) * 100)) : null;
      return (
        <div role="status" aria-live="polite" className="space-y-1 text-sm text-slate-700" data-testid="verify-progress">
          <p>
            Checked {verdict.checked.toLocaleString("en")} entries{percent !== null ? ` (${percent} %)` : ""}…
          </p>
          <progress className="h-2 w-full" max={100} value={percent ?? undefined} aria-label="Verification progress" />
        </div>
      );
    }
    case "stopped":
      return (
        <p role="status" className="text-sm text-slate-700">
          Stopped after {verdict.checked.toLocaleString("en")} entries, all sound so far.
        </p>
      );
    case "intact":
      return (
        <div role="status" className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900 ring-1 ring-inset ring-emerald-200" data-testid="verify-intact">
          <p className="font-medium">
            The chain is intact: {verdict.checked.toLocaleString("en")} {verdict.checked === 1 ? "entry" : "entries"} checked.
          </p>
          {verdict.head && (
            <p className="mt-1 text-xs wrap-anywhere">
              Head: entry #{verdict.head.id} of {formatInZone(new Date(verdict.head.at), browserTimeZone())}, hash <span className="font-mono">{verdict.head.hash}</span>. Note it down: a later check, or an evidence pack, must reach the same head through the same entries.
            </p>
          )}
          {verdict.beforeChain > 0 && (
            <p className="mt-1 text-xs">
              {verdict.beforeChain.toLocaleString("en")} older {verdict.beforeChain === 1 ? "entry was" : "entries were"} written before the chain began and carry no hash: they cannot be verified.
            </p>
          )}
        </div>
      );
    case "broken":
      return (
        <div role="alert" className="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-900 ring-1 ring-inset ring-rose-200" data-testid="verify-broken">
          <p className="font-medium">
            The chain is broken at entry #{verdict.broken.id}: {KIND_LABELS[verdict.broken.kind] ?? verdict.broken.kind}.
          </p>
          <p className="mt-1 wrap-anywhere">{verdict.broken.message}</p>
          <p className="mt-1 text-xs">
            {verdict.checked.toLocaleString("en")} entries checked before it were sound.{" "}
            <Link className="font-medium underline" href={`/audit?upto=${verdict.broken.id}`} data-testid="verify-broken-link">
              Show entry #{verdict.broken.id} in the list
            </Link>
          </p>
        </div>
      );
    case "failed":
      return <ErrorNote>{verdict.message}</ErrorNote>;
  }
}
