// Response headers for the desk's pages. Loaded by proxy.ts, so nothing here
// may import Node-only modules or the database.

/** Set by proxy.ts on page requests, so sign-in can bring the user back to where they were. */
export const REQUEST_PATH_HEADER = "x-desk-request-path";

/** A fresh nonce per page response: 128 random bits, base64 (the alphabet CSP nonces allow). */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

export interface PolicyOptions {
  nonce: string;
  /** The desk is served over https: ask the browser to upgrade any stray http request. */
  https: boolean;
  /** `next dev`: React needs eval for its debugging aids, and the dev overlay inlines styles. */
  dev: boolean;
}

/**
 * The Content-Security-Policy of a page. Scripts: the desk's own files, plus
 * the inline scripts Next.js marks with this request's nonce (it reads the
 * nonce from this header on the request). No plugins, no framing, no <base>
 * rewriting, forms post only to the desk.
 *
 * Styles: the Tailwind stylesheet is a file from 'self'. React writes the
 * `style` prop of server-rendered elements as style attributes (the payout
 * form's upper-case currency input, recharts' chart container, Next's built-in
 * error pages), which cannot carry a nonce; `style-src-attr 'unsafe-inline'`
 * allows those attributes and nothing else (no <style> elements, and a style
 * attribute cannot run script). Styles set from script (recharts' text
 * measuring) go through the CSSOM, which CSP does not restrict.
 */
export function contentSecurityPolicy({ nonce, https, dev }: PolicyOptions): string {
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'${dev ? " 'unsafe-eval'" : ""}`,
    // In development a nonce would switch 'unsafe-inline' off, and the dev overlay needs it.
    dev ? "style-src 'self' 'unsafe-inline'" : `style-src 'self' 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  if (https) directives.push("upgrade-insecure-requests");
  return directives.join("; ");
}

/** Two years, the value browsers' preload lists ask for; sent only when the desk is served over https. */
export const STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains";
