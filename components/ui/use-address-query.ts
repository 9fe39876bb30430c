"use client";
// A page whose question lives in the address bar (bookmarkable, shareable,
// kept on reload) changes it with router.replace, which the App Router applies
// a moment later. Two changes in quick succession (a first day, then a last
// day) must both stand, so each change builds on the last one asked for until
// the address bar has caught up with it (or two seconds have passed).
import { useCallback, useEffect, useRef } from "react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";

export function useAddressQuery() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const pending = useRef<{ query: URLSearchParams; at: number } | null>(null);
  useEffect(() => {
    if (pending.current && pending.current.query.toString() === params.toString()) pending.current = null;
  }, [params]);

  /** Applies `change` to the latest query and replaces the address with it. */
  const update = useCallback(
    (change: (next: URLSearchParams) => void) => {
      const base = pending.current && Date.now() - pending.current.at < 2_000 ? pending.current.query : params;
      const next = new URLSearchParams(base);
      change(next);
      pending.current = { query: next, at: Date.now() };
      router.replace(`${pathname}${next.size ? `?${next}` : ""}`, { scroll: false });
    },
    [params, pathname, router],
  );
  return { params, update };
}

/** Sets each non-empty value and deletes each empty one. */
export function assign(next: URLSearchParams, changes: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(changes)) {
    if (value) next.set(key, value);
    else next.delete(key);
  }
}
