import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";

type Outputs = inferRouterOutputs<AppRouter>;

export type OutcomeWorkItem = Outputs["outcomes"]["list"]["items"][number];
export type PayoutOutcome = Outputs["outcomes"]["forPayout"];
export type Proposal = PayoutOutcome["proposals"][number];
export type ProviderCallSummary = NonNullable<OutcomeWorkItem["lastCall"]>;
