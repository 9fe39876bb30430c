// What the overview and its charts (loaded apart, see overview.tsx) share.
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";

export type Outputs = inferRouterOutputs<AppRouter>["overview"];
export type Summary = Outputs["summary"];

/** The payouts list's own query parameters (components/payouts/payouts-table.tsx). */
export function listHref(params: { status?: string; from?: string; to?: string; connection?: string; attention?: boolean }) {
  const q = new URLSearchParams();
  if (params.status) q.set("status", params.status);
  if (params.connection) q.set("connection", params.connection);
  if (params.from) q.set("from", params.from);
  if (params.to) q.set("to", params.to);
  // The rollups' days are UTC days; the list reads days in the zone named here (else the browser's).
  if (params.from || params.to) q.set("tz", "UTC");
  if (params.attention) q.set("attention", "1");
  return `/payouts?${q.toString()}`;
}


/** Seconds in words a person reads at a glance: 45 s, 3 min 20 s, 2 h 5 min. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ""}`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}
