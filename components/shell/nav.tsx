"use client";
import Link from "next/link";
import { useEffect, useState } from "react";
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
  // On a phone the menu folds away behind a Menu button; it closes when a page is chosen or on Escape.
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [pathname]);
  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && setOpen(false);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [open]);
  const current = ITEMS.find((item) => isActive(item.href));
  return (
    <>
      <header className="sticky top-0 z-30 flex items-center justify-between border-b border-slate-200 bg-white px-4 py-3 md:hidden" data-testid="mobile-bar">
        <Link href="/" className="text-base font-semibold tracking-tight text-slate-900">
          Payout desk
        </Link>
        <span className="truncate px-2 text-sm text-slate-600">{current?.label}</span>
        <button
          type="button"
          aria-expanded={open}
          aria-controls="main-menu"
          onClick={() => setOpen((o) => !o)}
          className="rounded-md px-3 py-2 text-sm font-semibold text-slate-800 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600"
        >
          {open ? "Close" : "Menu"}
        </button>
      </header>
      <aside
        id="main-menu"
        className={`${open ? "flex" : "hidden"} w-full shrink-0 flex-col border-b border-slate-200 bg-white md:sticky md:top-0 md:flex md:h-screen md:w-60 md:border-b-0 md:border-r`}
      >
        <div className="hidden px-5 py-5 md:block">
          <Link href="/" className="text-base font-semibold tracking-tight text-slate-900">
            Payout desk
          </Link>
        </div>
        <nav aria-label="Main" className="flex-1 overflow-y-auto px-3 py-2 md:py-0">
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
    </>
  );
}
