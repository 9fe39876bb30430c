import { notFound } from "next/navigation";
import { PayoutDetail } from "@/components/payouts/payout-detail";

export const metadata = { title: "Payout" };

export default async function PayoutPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!/^[0-9a-f-]{36}$/i.test(id)) notFound();
  return <PayoutDetail id={id} />;
}
