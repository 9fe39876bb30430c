// The session cookie: its name (Secure-prefixed when the desk is served over
// https) and reading the signed-in claim out of it. The desk reads the cookie
// itself rather than through getServerSession so the same code serves the
// tRPC route (a plain Request) and server components (next/headers), and can
// be exercised in tests with a real cookie.
import { decode, type JWT } from "next-auth/jwt";

/** Whether the desk's public URL is https: then cookies are Secure and HSTS is sent. */
export function deskUsesHttps(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return (env.APP_URL || env.NEXTAUTH_URL || "").trim().toLowerCase().startsWith("https://");
}

/** next-auth's own names; the __Secure- prefix makes browsers refuse the cookie over plain http. */
export function sessionCookieName(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return deskUsesHttps(env) ? "__Secure-next-auth.session-token" : "next-auth.session-token";
}

export interface CookieLike {
  name: string;
  value: string;
}

export function parseCookieHeader(header: string | null | undefined): CookieLike[] {
  if (!header) return [];
  const cookies: CookieLike[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep the raw text: a malformed escape is the client's problem, not a 500
    }
    cookies.push({ name, value });
  }
  return cookies;
}

/**
 * The decoded session token, or null when there is none or it does not verify.
 * next-auth splits a large token over `name.0`, `name.1`, …; they are joined in order.
 */
export async function readSessionToken(
  cookies: Iterable<CookieLike>,
  options: { secret?: string; cookieName?: string } = {},
): Promise<JWT | null> {
  const name = options.cookieName ?? sessionCookieName();
  const secret = options.secret ?? process.env.NEXTAUTH_SECRET;
  if (!secret) return null;
  const chunks: { index: number; value: string }[] = [];
  for (const cookie of cookies) {
    if (cookie.name === name) chunks.push({ index: -1, value: cookie.value });
    else if (cookie.name.startsWith(`${name}.`)) {
      const index = Number(cookie.name.slice(name.length + 1));
      if (Number.isInteger(index) && index >= 0) chunks.push({ index, value: cookie.value });
    }
  }
  if (chunks.length === 0) return null;
  const token = chunks
    .sort((a, b) => a.index - b.index)
    .map((chunk) => chunk.value)
    .join("");
  try {
    return await decode({ token, secret });
  } catch {
    return null;
  }
}
