// Which role sees which control. Pages and the menu hide what a role cannot
// use; the server refuses it anyway (each procedure declares its roles). A
// test (controls.test.ts) holds each control to the procedure it leads to,
// so a page can never offer a button its procedure refuses, nor hide one it
// allows. Pure data: the browser's bundle imports it.
import type { Role } from "./roles";

export const CONTROLS = {
  /** New payout, Bulk upload, "Create the first payout". */
  createPayout: { roles: ["maker"], procedure: "payouts.create" },
  /**
   * The Audit page. The trail is oversight material: the viewer role is the
   * auditor's (read-only, can change nothing it audits), approvers are the
   * checkers, admins run the desk. Makers, whose work the trail checks,
   * follow their own payouts' history on each payout's page.
   */
  readAudit: { roles: ["viewer", "approver", "admin"], procedure: "audit.list" },
  /** The Connections page (credentials, tests, pausing). */
  manageConnections: { roles: ["admin"], procedure: "connections.list" },
  /** Settings → Users. */
  manageUsers: { roles: ["admin"], procedure: "users.list" },
} as const satisfies Record<string, { roles: readonly Role[]; procedure: string }>;

export type Control = keyof typeof CONTROLS;

export function canUse(role: Role, control: Control): boolean {
  return (CONTROLS[control].roles as readonly Role[]).includes(role);
}

export const AUDIT_READER_ROLES: readonly Role[] = CONTROLS.readAudit.roles;
