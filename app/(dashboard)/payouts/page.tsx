import Link from "next/link";
import { Suspense } from "react";
import { PageHeader, Loading } from "@/components/ui/layout";
import { PayoutsTable } from "@/components/payouts/payouts-table";
import { PayoutsExportMenu } from "@/components/payouts/export-menu";
import { canUse } from "@/server/auth/controls";
import { requireSession } from "@/server/auth/session";
import { Hydrate } from "@/components/trpc/hydrate";
import { listQueryFromUrl, listRequest } from "@/server/domain/payout-list-params";
import { serverQueries } from "@/server/trpc/prefetch";

export const metadata = { title: "Payouts" };
export const dynamic = "force-dynamic";

/**
 * Rendered with its data: the first page, its totals and the connection names
 * are prefetched here through the router and hydrated into the browser's
 * cache, so the first rows are in the page's HTML. A query with days and no
 * zone is left to the browser: its days are the browser's zone's.
 */
export default async function PayoutsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireSession();
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(await searchParams)) for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) query.append(key, v);
  const parsed = listQueryFromUrl(query);
  const { queryClient, trpc, dehydrated } = serverQueries();
  if ((!parsed.filters.createdFrom && !parsed.filters.createdTo) || parsed.filters.timeZone) {
    const { filters, input } = listRequest(parsed, "UTC");
    await Promise.all([
      queryClient.prefetchQuery(trpc.payouts.list.queryOptions(input)),
      queryClient.prefetchQuery(trpc.payouts.totals.queryOptions(filters)),
      queryClient.prefetchQuery(trpc.connections.names.queryOptions()),
    ]);
  }
  // Only makers create payouts: other roles are not offered the buttons (the server refuses them anyway).
  const canCreate = canUse(user.role, "createPayout");
  return (
    <>
      <PageHeader
        title="Payouts"
        description="Every payout, newest first; search as you type, sort by a column, and open a payout by its row. Times are in your time zone; filters stay in the address bar."
        actions={
          <>
            <Suspense fallback={null}>
              <PayoutsExportMenu />
            </Suspense>
            {canCreate && (
              <>
                <Link href="/payouts/bulk" className="rounded-md px-3.5 py-2 text-sm font-semibold text-slate-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-50">
                  Bulk upload
                </Link>
                <Link href="/payouts/new" className="rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700">
                  New payout
                </Link>
              </>
            )}
          </>
        }
      />
      <Hydrate state={dehydrated()}>
        <Suspense fallback={<Loading />}>
          <PayoutsTable canCreate={canCreate} />
        </Suspense>
      </Hydrate>
    </>
  );
}
