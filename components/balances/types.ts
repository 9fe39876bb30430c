import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";

type Outputs = inferRouterOutputs<AppRouter>;

export type ConnectionBalances = Outputs["balances"]["overview"][number];
export type CurrencyPosition = ConnectionBalances["currencies"][number];
export type BalanceHistory = Outputs["balances"]["history"];
