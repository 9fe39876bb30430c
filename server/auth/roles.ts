// Roles and what they may do. Maker and approver are separate duties
// (maker-checker); admin manages the desk but does not make or approve.
export const ROLES = ["viewer", "maker", "approver", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  viewer: "Viewer",
  maker: "Maker",
  approver: "Approver",
  admin: "Admin",
};

/** Everyone signed in may read. */
export const ANY_ROLE: readonly Role[] = ROLES;

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}
