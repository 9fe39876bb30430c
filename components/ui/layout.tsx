import type { HTMLAttributes, ReactNode } from "react";
import { Spinner } from "./button";

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
        {description && <p className="mt-1 text-sm text-slate-600">{description}</p>}
      </div>
      {actions && <div className="flex gap-2">{actions}</div>}
    </div>
  );
}

export function Card({ children, className = "", ...rest }: HTMLAttributes<HTMLDivElement> & { children: ReactNode; className?: string }) {
  // The rest (data-testid, aria-*, id) reach the element: a test id given to a Card was silently dropped before.
  return (
    <div {...rest} className={`rounded-lg bg-white shadow-sm ring-1 ring-slate-200 ${className}`}>
      {children}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="px-6 py-12 text-center">
      <p className="text-sm font-semibold text-slate-900">{title}</p>
      {children && <div className="mt-1 text-sm text-slate-600">{children}</div>}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="flex items-center gap-2 px-6 py-10 text-sm text-slate-600" role="status">
      <Spinner /> {label}
    </div>
  );
}

export function ErrorNote({ children }: { children: ReactNode }) {
  return (
    <div className="rounded-md bg-rose-50 px-4 py-3 text-sm text-rose-800 ring-1 ring-inset ring-rose-200" data-testid="error-note">
      {children}
    </div>
  );
}

export function NotBuiltYet({ what }: { what: string }) {
  return (
    <Card>
      <EmptyState title={`${what} is not built yet`}>
        This page is planned and will arrive in a later release. Nothing here is hidden from you.
      </EmptyState>
    </Card>
  );
}

/** A page of the plan that has not been built yet, saying so plainly. */
export function PlannedPage({ title }: { title: string }) {
  return (
    <>
      <PageHeader title={title} />
      <NotBuiltYet what={title} />
    </>
  );
}
