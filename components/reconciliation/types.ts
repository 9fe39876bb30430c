import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";

type Outputs = inferRouterOutputs<AppRouter>;

export type ReconcilableConnection = Outputs["reconciliation"]["connections"][number];
export type RunSummary = Outputs["reconciliation"]["runs"]["runs"][number];
export type RunDetail = Outputs["reconciliation"]["run"];
export type RunItem = Outputs["reconciliation"]["items"]["items"][number];
export type ItemSide = NonNullable<RunItem["desk"]>;
