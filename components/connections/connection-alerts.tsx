"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { money } from "@/components/payouts/format";

/**
 * On the Connections form, beside the limits: this connection's low-balance
 * alerts, read-only. They are set in Settings → General → Low-balance alerts
 * (saved and audited there, with the balances read so far beside them).
 */
export function ConnectionBalanceAlerts({ connectionId }: { connectionId: string }) {
  const trpc = useTRPC();
  const alerts = useQuery(trpc.balances.alerts.queryOptions());
  const mine = (alerts.data ?? []).filter((a) => a.connectionId === connectionId);
  return (
    <div className="border-t border-slate-100 pt-5 text-sm" data-testid="connection-balance-alerts">
      <p className="font-medium text-slate-800">Low-balance alerts</p>
      <p className="mt-1 text-slate-600">
        {mine.length === 0 ? "None: no banner is shown however low this connection's balance gets." : mine.map((a) => `under ${money(a.thresholdMinor, a.currency)}`).join("; ")}{" "}
        <Link href="/settings#settings-general" className="font-medium text-indigo-700 hover:underline">
          Set them in Settings
        </Link>
      </p>
    </div>
  );
}
