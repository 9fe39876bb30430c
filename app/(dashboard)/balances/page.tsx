import { BalancesOverview } from "@/components/balances/balances-overview";
import { PageHeader } from "@/components/ui/layout";
import { LowBalanceBanner } from "@/components/shell/low-balance-banner";

export const metadata = { title: "Balances" };

export default function BalancesPage() {
  return (
    <>
      <PageHeader title="Balances" description="What each provider holds for the desk, and how much of it is already promised to payouts." />
      <div className="mb-6">
        <LowBalanceBanner variant="page" />
      </div>
      <BalancesOverview />
    </>
  );
}
