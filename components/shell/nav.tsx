"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { signOut } from "next-auth/react";
import { ROLE_LABELS, type Role } from "@/server/auth/roles";
import { canUse, type Control } from "@/server/auth/controls";
import { OutcomeCountBadge } from "@/components/outcomes/count-badge";

// `control`: shown only to the roles that may use the page (server/auth/controls.ts); the server refuses the others anyway.
const ITEMS: ReadonlyArray<{ href: string; label: string; control?: Control }> = [
  { href: "/", label: "Overview" },
  { href: "/payouts", label: "Payouts" },
  { href: "/approvals", label: "Approvals" },
  { href: "/outcomes", label: "Outcome unknown" },
  { href: "/balances", label: "Balances" },
  { href: "/statements", label: "Statements" },
  { href: "/reconciliation", label: "Reconciliation" },
  { href: "/connections", label: "Connections", control: "manageConnections" },
  { href: "/audit", label: "Audit", control: "readAudit" },
  { href: "/settings", label: "Settings" },
];

export function Nav({ user }: { user: { name: string; email: string; role: Role } }) {
  const pathname = usePathname();
  const isActive = (href: string) => (href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`));
  return (
    <aside className="flex w-60 shrink-0 flex-col border-r border-slate-200 bg-white">
      <div className="px-5 py-5">
        <Link href="/" className="text-base font-semibold tracking-tight text-slate-900">
          Payout desk
        </Link>
      </div>
      <nav aria-label="Main" className="flex-1 px-3">
        <ul className="space-y-0.5">
          {ITEMS.filter((item) => !item.control || canUse(user.role, item.control)).map((item) => (
            <li key={item.href}>
              <Link
                href={item.href}
                aria-current={isActive(item.href) ? "page" : undefined}
                className={`block rounded-md px-3 py-2 text-sm font-medium ${
                  isActive(item.href) ? "bg-indigo-50 text-indigo-700" : "text-slate-700 hover:bg-slate-50"
                }`}
              >
                {item.label}
                {item.href === "/outcomes" && <OutcomeCountBadge />}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="border-t border-slate-200 px-5 py-4" data-testid="signed-in-user">
        <p className="truncate text-sm font-medium text-slate-900">{user.name}</p>
        <p className="truncate text-xs text-slate-500">{user.email}</p>
        <p className="mt-1 inline-flex rounded bg-slate-100 px-1.5 py-0.5 text-xs font-medium text-slate-700" data-testid="signed-in-role">
          {ROLE_LABELS[user.role]}
        </p>
        <Link
          href="/account/security"
          aria-current={isActive("/account/security") ? "page" : undefined}
          className="mt-3 block text-sm font-medium text-indigo-700 hover:underline"
        >
          Two-factor sign-in
        </Link>
        <button
          type="button"
          // next-auth's sign-out revokes this session on the server (events.signOut), not only the cookie.
          onClick={() => signOut({ callbackUrl: "/login?signedout" })}
          className="mt-2 block text-sm font-medium text-indigo-700 hover:underline"
        >
          Sign out
        </button>
      </div>
    </aside>
  );
}
