import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";

type Outputs = inferRouterOutputs<AppRouter>;

export type StatementOptions = Outputs["statements"]["options"];
export type StatementView = Outputs["statements"]["summary"];
export type StatementFigures = StatementView["total"];
export type StatementLine = Outputs["statements"]["lines"]["lines"][number];
