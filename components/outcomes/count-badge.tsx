"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";

/** How many payouts are in limbo, next to the nav item; nothing when there are none (or the count cannot be read). */
export function OutcomeCountBadge() {
  const trpc = useTRPC();
  const count = useQuery(trpc.outcomes.count.queryOptions(undefined, { refetchInterval: 30_000 }));
  if (!count.data) return null;
  return (
    <>
      <span aria-hidden="true" className="tabular ml-2 inline-flex rounded-full bg-orange-100 px-1.5 py-0.5 text-xs font-semibold text-orange-800" data-testid="outcome-count">
        {count.data}
      </span>
      <span className="sr-only">, {count.data} in limbo</span>
    </>
  );
}
