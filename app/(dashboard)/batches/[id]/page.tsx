import { notFound } from "next/navigation";
import { BatchSummary } from "@/components/bulk/batch-summary";

export const metadata = { title: "Batch" };

export default async function BatchPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!/^[0-9a-f-]{36}$/i.test(id)) notFound();
  return <BatchSummary id={id} />;
}
