import { describe, expect, it } from "vitest";
import { appRouter } from "./router";
import { ROLES } from "@/server/auth/roles";

describe("every tRPC procedure declares who may call it", () => {
  const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { meta?: { roles?: unknown } } }>);

  it("has procedures to check", () => {
    expect(procedures.length).toBeGreaterThan(5);
  });

  it.each(procedures.map(([path, proc]) => [path, proc] as const))("%s declares roles", (_path, proc) => {
    const roles = proc._def.meta?.roles;
    expect(roles === "public" || (Array.isArray(roles) && roles.length > 0 && roles.every((r) => (ROLES as readonly string[]).includes(r)))).toBe(true);
  });

  it("keeps money-moving mutations to their one role", () => {
    const rolesOf = (path: string) => (appRouter._def.procedures as unknown as Record<string, { _def: { meta?: { roles?: unknown } } }>)[path]?._def.meta?.roles;
    expect(rolesOf("payouts.create")).toEqual(["maker"]);
    // A policy level may ask for admins (issue 8: "1 approver then 1 admin"); the service decides who counts for each payout.
    expect(rolesOf("approvals.approve")).toEqual(["approver", "admin"]);
    expect(rolesOf("approvals.reject")).toEqual(["approver", "admin"]);
    expect(rolesOf("approvals.approveMany")).toEqual(["approver", "admin"]);
    expect(rolesOf("approvals.approveBatch")).toEqual(["approver", "admin"]);
    expect(rolesOf("approvals.rejectBatch")).toEqual(["approver", "admin"]);
  });
});
