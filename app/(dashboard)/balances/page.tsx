import { NotBuiltYet, PageHeader } from "@/components/ui/layout";

export const metadata = { title: "Balances" };

export default function BalancesPage() {
  return (
    <>
      <PageHeader title="Balances" />
      <NotBuiltYet what="Balances" />
    </>
  );
}
