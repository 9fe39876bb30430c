import { withAuth } from "next-auth/middleware";

// Every dashboard page needs a session; anonymous visitors go to sign-in.
// API routes answer for themselves (tRPC with 401, webhooks and emulators
// with their own checks), so they are not redirected.
export const proxy = withAuth({ pages: { signIn: "/login" } });

export const config = {
  matcher: ["/((?!login|api/|_next/|favicon\\.ico|icon\\.svg).*)"],
};
