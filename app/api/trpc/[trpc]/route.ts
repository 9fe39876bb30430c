import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/trpc/router";
import { createContext } from "@/server/trpc/context";
import { getDesk } from "@/server/runtime";

export const dynamic = "force-dynamic";

async function handler(req: Request) {
  const desk = await getDesk();
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: () => createContext(desk, req),
  });
}

export { handler as GET, handler as POST };
