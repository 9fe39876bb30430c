// next-auth configuration: credentials against the users table, a signed
// cookie (JWT) that names a UserSession row, and that row checked on every
// request (see user-sessions.ts), so sign-out, idleness and the absolute
// limit end a session even though the cookie itself is still well signed.
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { EnrolmentOverdue, SecondFactorNeeded, SecondFactorRefused, signIn } from "@/server/services/sign-in";
import { TooManyAttempts } from "@/server/services/errors";
import type { Desk } from "@/server/services/types";
import type { Role } from "./roles";
import { clientIp } from "./client-ip";
import { deskUsesHttps } from "./session-cookie";
import { checkSession, revokeSession, sessionPolicy, type SessionEndReason } from "./user-sessions";
import { signInAnswer } from "./sign-in-answers";

declare module "next-auth" {
  interface Session {
    /** Absent when the session has ended; `ended` then says why. */
    user?: { id: string; email: string; name: string; role: Role };
    ended?: SessionEndReason;
  }
  interface User {
    id: string;
    role: Role;
    /** The UserSession opened by this sign-in. */
    sessionId?: string;
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    uid?: string;
    role?: Role;
    /** UserSession id: the row that decides whether this cookie still signs anyone in. */
    sid?: string;
  }
}

/**
 * Supplied by the runtime so this module does not open the database at
 * import time: the database, and the key the TOTP secrets are sealed with.
 */
export type DeskProvider = () => Promise<Pick<Desk, "db" | "credentialsKey">>;

/** What the sign-in route knows about the request (the sign-out audit entry records the address). */
export interface AuthRequest {
  ip?: string;
  /** The clock (tests move it to reach the next code instead of waiting 30 seconds). */
  now?: () => Date;
}

export function authOptions(getDesk: DeskProvider, request: AuthRequest = {}): NextAuthOptions {
  const policy = sessionPolicy();
  const getDb = async () => (await getDesk()).db;
  return {
    secret: process.env.NEXTAUTH_SECRET,
    // The cookie lives no longer than the session's absolute limit; the row's
    // expiresAt is what is enforced (next-auth would slide this on each read).
    session: { strategy: "jwt", maxAge: Math.round(policy.maxHours * 3600) },
    useSecureCookies: deskUsesHttps(),
    pages: { signIn: "/login" },
    providers: [
      CredentialsProvider({
        name: "Email and password",
        credentials: {
          email: { label: "Email", type: "email" },
          password: { label: "Password", type: "password" },
          // Sent together with email and password once the first answer said a code is needed.
          code: { label: "Authentication code", type: "text" },
        },
        async authorize(credentials, req) {
          const email = credentials?.email ?? "";
          const password = credentials?.password ?? "";
          if (!email || !password) throw new Error("Enter your email and password");
          const headers = (req?.headers ?? {}) as Record<string, string | string[] | undefined>;
          const ip = clientIp(headers);
          const desk = await getDesk();
          const userAgent = headers["user-agent"];
          try {
            const user = await signIn(desk.db, email, password, ip, {
              code: credentials?.code ?? "",
              credentialsKey: desk.credentialsKey,
              userAgent: Array.isArray(userAgent) ? userAgent[0] : userAgent,
              policy,
              now: request.now,
            });
            if (!user) throw new Error("Wrong email or password");
            return { id: user.id, email: user.email, name: user.name, role: user.role, sessionId: user.sessionId };
          } catch (error) {
            // The wait, in words, as the form has always shown it.
            if (error instanceof TooManyAttempts) throw new Error(error.message);
            if (error instanceof SecondFactorNeeded) throw new Error(signInAnswer("code-required", error.message));
            if (error instanceof SecondFactorRefused) throw new Error(signInAnswer("code-refused", error.message));
            if (error instanceof EnrolmentOverdue) throw new Error(signInAnswer("enrolment-overdue", error.message));
            throw error;
          }
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user) {
          token.uid = user.id;
          token.role = user.role;
          token.sid = user.sessionId;
        }
        return token;
      },
      // Anyone reading the session through next-auth (getServerSession, the
      // /api/auth/session endpoint) gets the same answer as the tRPC context.
      async session({ session, token }) {
        const check = await checkSession(await getDb(), { sessionId: token.sid, userId: token.uid }, { policy });
        if (!check.active) return { expires: session.expires, ended: check.reason };
        return { expires: session.expires, user: check.actor };
      },
    },
    events: {
      async signOut({ token }) {
        await revokeSession(await getDb(), token?.sid, { ip: request.ip });
      },
    },
  };
}
