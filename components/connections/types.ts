import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";

type Outputs = inferRouterOutputs<AppRouter>;

export type AdminConnection = Outputs["connections"]["list"][number];
export type ProviderForm = Outputs["connections"]["providers"][number];
export type ConnectionForEdit = Outputs["connections"]["get"];
export type ConnectionTestResult = Outputs["connections"]["test"];
