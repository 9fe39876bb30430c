// The controls a page shows each role agree with what the server lets that
// role do: each control names the procedure it leads to, and its roles must
// be exactly the roles that procedure declares (walked from the router).
import { describe, expect, it } from "vitest";
import { listProcedures } from "@/server/testing/procedures";
import { canUse, CONTROLS, type Control } from "./controls";
import { ROLES } from "./roles";

describe("role-based controls", () => {
  const procedures = new Map(listProcedures().map((p) => [p.path, p]));

  it.each(Object.keys(CONTROLS) as Control[])("%s is shown to exactly the roles its procedure allows", (control) => {
    const { procedure, roles } = CONTROLS[control];
    const declared = procedures.get(procedure)?.roles;
    expect(declared, `${procedure} is not a procedure of the router`).toBeDefined();
    expect([...(declared as readonly string[])].sort()).toEqual([...roles].sort());
    for (const role of ROLES) expect(canUse(role, control)).toBe((declared as readonly string[]).includes(role));
  });

  it("hides New payout and Bulk upload from viewers, approvers and admins, and the Audit page from makers", () => {
    expect(ROLES.filter((r) => canUse(r, "createPayout"))).toEqual(["maker"]);
    expect(ROLES.filter((r) => canUse(r, "readAudit"))).toEqual(["viewer", "approver", "admin"]);
    expect(ROLES.filter((r) => canUse(r, "manageUsers"))).toEqual(["admin"]);
  });
});
