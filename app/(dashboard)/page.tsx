import { Overview } from "@/components/overview/overview";
import { Hydrate } from "@/components/trpc/hydrate";
import { PageHeader } from "@/components/ui/layout";
import { serverQueries } from "@/server/trpc/prefetch";

export const metadata = { title: "Overview" };
export const dynamic = "force-dynamic";

/** Rendered with its data: the overview's three queries are prefetched here and hydrated into the browser's cache. */
export default async function OverviewPage() {
  const { queryClient, trpc, dehydrated } = serverQueries();
  await Promise.all([
    queryClient.prefetchQuery(trpc.overview.summary.queryOptions(undefined)),
    queryClient.prefetchQuery(trpc.overview.attention.queryOptions()),
    queryClient.prefetchQuery(trpc.overview.health.queryOptions()),
  ]);
  return (
    <>
      <PageHeader title="Overview" />
      <Hydrate state={dehydrated()}>
        <Overview />
      </Hydrate>
    </>
  );
}
