"use client";
// The client side of server/trpc/prefetch.ts: puts the server's prefetched
// queries into this browser's query cache, reading them back with superjson.
import { HydrationBoundary, type DehydratedState } from "@tanstack/react-query";
import superjson from "superjson";

export function Hydrate({ state, children }: { state: DehydratedState; children: React.ReactNode }) {
  return (
    <HydrationBoundary state={state} options={{ defaultOptions: { deserializeData: (data) => superjson.deserialize(data as Parameters<typeof superjson.deserialize>[0]) } }}>
      {children}
    </HydrationBoundary>
  );
}
