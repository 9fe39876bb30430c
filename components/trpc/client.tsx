"use client";
import { useState } from "react";
import { QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import superjson from "superjson";
import type { AppRouter } from "@/server/trpc/router";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export function Providers({ children }: { children: React.ReactNode }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        queryCache: new QueryCache({ onError: reloadWhenSessionEnded }),
        defaultOptions: {
          queries: { staleTime: 5_000, retry: 1, refetchOnWindowFocus: true },
          // A mutation moves money: never retried by the client on its own.
          mutations: { retry: false },
        },
      }),
  );
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: "/api/trpc", transformer: superjson })] }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}

/**
 * A 401 on a query means the session ended (signed out, idle, past its limit,
 * account disabled) while the page stayed open: client-side navigation does
 * not re-run the dashboard layout's check. Loading the page again from the
 * server does, and sends the browser to sign-in saying why. Once per few
 * seconds at most, so a disagreement can never become a reload loop.
 */
function reloadWhenSessionEnded(error: unknown) {
  if (!(error instanceof TRPCClientError) || (error.data as { httpStatus?: number } | undefined)?.httpStatus !== 401) return;
  const key = "payout-desk.reloaded-for-401";
  const last = Number(window.sessionStorage.getItem(key) ?? 0);
  if (Date.now() - last < 10_000) return;
  window.sessionStorage.setItem(key, String(Date.now()));
  window.location.reload();
}
