import { NextResponse, type NextFetchEvent, type NextRequest } from "next/server";
import { withAuth, type NextAuthMiddlewareOptions, type NextRequestWithAuth } from "next-auth/middleware";
import { contentSecurityPolicy, newNonce, REQUEST_PATH_HEADER, STRICT_TRANSPORT_SECURITY } from "@/server/auth/security-headers";
import { deskUsesHttps, sessionCookieName } from "@/server/auth/session-cookie";

// Every page gets a Content-Security-Policy with a fresh nonce (Next.js reads
// it from the request's CSP header and puts it on its inline scripts), and
// HSTS when the desk is served over https. Dashboard pages also need a
// session cookie; whether that session is still open (not signed out, idle
// or past its limit) is decided against the database by the dashboard layout
// and the tRPC context, which this proxy does not open.
// API routes answer for themselves (tRPC with 401, webhooks and emulators with
// their own checks) and need no CSP, so they are not matched.

function withPageHeaders(req: NextRequest): NextResponse {
  const nonce = newNonce();
  const https = deskUsesHttps();
  const policy = contentSecurityPolicy({ nonce, https, dev: process.env.NODE_ENV !== "production" });
  const requestHeaders = new Headers(req.headers);
  requestHeaders.set("content-security-policy", policy);
  // Overwrites whatever the client sent under this name.
  requestHeaders.set(REQUEST_PATH_HEADER, `${req.nextUrl.pathname}${req.nextUrl.search}`);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("Content-Security-Policy", policy);
  if (https) response.headers.set("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY);
  return response;
}

const signedInOnly = withAuth((req) => withPageHeaders(req), {
  pages: { signIn: "/login" },
  // The same cookie name next-auth sets (Secure-prefixed when APP_URL is https).
  cookies: { sessionToken: { name: sessionCookieName() } } as NextAuthMiddlewareOptions["cookies"],
});

export async function proxy(req: NextRequest, event: NextFetchEvent) {
  if (req.nextUrl.pathname === "/login") return withPageHeaders(req);
  return signedInOnly(req as NextRequestWithAuth, event);
}

export const config = {
  matcher: ["/((?!api/|_next/|favicon\\.ico|icon\\.svg).*)"],
};
