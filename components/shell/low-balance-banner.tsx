"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { money, when } from "@/components/payouts/format";

/**
 * Balances under their low-balance alert (Settings → Low-balance alerts), as a
 * banner across the desk (`variant="desk"`, linking to Balances) and on the
 * Balances page itself. Nothing is shown while every balance is above its
 * threshold, or while the list cannot be loaded (the Balances page says why).
 */
export function LowBalanceBanner({ variant = "desk" }: { variant?: "desk" | "page" }) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const low = useQuery(trpc.balances.low.queryOptions(undefined, { refetchInterval: 120_000, refetchOnWindowFocus: true }));
  const items = low.data ?? [];
  // The Balances page shows its own (variant="page"), in its place.
  if (items.length === 0 || (variant === "desk" && pathname === "/balances")) return null;
  return (
    <div role="status" data-testid="low-balance-banner" className={`rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900 ${variant === "desk" ? "mb-6" : ""}`}>
      <p className="font-medium">
        {items.length === 1 ? "A balance is under its alert threshold" : `${items.length} balances are under their alert thresholds`}
        {variant === "desk" && (
          <>
            {" "}
            <Link href="/balances" className="underline underline-offset-2 hover:text-amber-950">
              See balances
            </Link>
          </>
        )}
      </p>
      <ul className="mt-1 space-y-0.5">
        {items.slice(0, 5).map((l) => (
          <li key={`${l.connectionId}-${l.currency}`}>
            {l.connectionName}: {money(l.balanceMinor, l.currency)} is under {money(l.thresholdMinor, l.currency)}{" "}
            <span className="text-amber-800">(read {when(l.at)})</span>
          </li>
        ))}
        {items.length > 5 && <li>and {items.length - 5} more on the Balances page</li>}
      </ul>
    </div>
  );
}
