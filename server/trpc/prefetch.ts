// Data on the first paint: a server component prefetches its queries through
// the router itself (no HTTP), as the signed-in user of this request, into a
// query client whose cache is then dehydrated (superjson, as the HTTP link
// does, so bigint and Date survive) and handed to the page's client
// components through <Hydrate> (components/trpc/hydrate.tsx). The queries
// keep their keys, so the browser's useQuery finds them and fetches nothing
// until they go stale. A prefetch that fails (signed out, refused) leaves the
// query out; the client then fetches it and shows the error as it always did.
import { cookies, headers } from "next/headers";
import { dehydrate, QueryClient } from "@tanstack/react-query";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import superjson from "superjson";
import { getDesk } from "@/server/runtime";
import { resolveSession } from "@/server/auth/request-session";
import { clientIp } from "@/server/auth/client-ip";
import { appRouter } from "./router";
import type { Context } from "./init";

export function serverQueries() {
  const queryClient = new QueryClient({
    defaultOptions: {
      // As fresh as the client's own default: no refetch right after hydration.
      queries: { staleTime: 5_000, retry: false },
      dehydrate: { serializeData: superjson.serialize },
    },
  });
  const trpc = createTRPCOptionsProxy({
    router: appRouter,
    queryClient,
    ctx: async (): Promise<Context> => {
      const desk = await getDesk();
      const session = await resolveSession(desk.db, (await cookies()).getAll());
      const ip = clientIp(await headers());
      return session.state === "active" ? { desk, actor: session.actor, ip, sessionId: session.sessionId } : { desk, actor: null, ip, sessionId: null };
    },
  });
  return { queryClient, trpc, dehydrated: () => dehydrate(queryClient) };
}
