// next-auth configuration: credentials against the users table, JWT sessions.
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { signIn } from "@/server/services/sign-in";
import { TooManyAttempts } from "@/server/services/errors";
import { isRole, type Role } from "./roles";

declare module "next-auth" {
  interface Session {
    user: { id: string; email: string; name: string; role: Role };
  }
  interface User {
    id: string;
    role: Role;
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    uid?: string;
    role?: Role;
  }
}

/** Supplied by the runtime so this module does not open the database at import time. */
export type DbProvider = () => Promise<Parameters<typeof signIn>[0]>;

export function authOptions(getDb: DbProvider): NextAuthOptions {
  return {
    secret: process.env.NEXTAUTH_SECRET,
    session: { strategy: "jwt", maxAge: 8 * 60 * 60 },
    pages: { signIn: "/login" },
    providers: [
      CredentialsProvider({
        name: "Email and password",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(credentials, req) {
          const email = credentials?.email ?? "";
          const password = credentials?.password ?? "";
          if (!email || !password) throw new Error("Enter your email and password");
          const ip = clientIp(req?.headers as Record<string, string | string[] | undefined> | undefined);
          try {
            const user = await signIn(await getDb(), email, password, ip);
            if (!user) throw new Error("Wrong email or password");
            return user;
          } catch (error) {
            if (error instanceof TooManyAttempts) throw new Error(error.message);
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
        }
        return token;
      },
      session({ session, token }) {
        if (token.uid && isRole(token.role)) {
          session.user = { id: token.uid, email: token.email ?? "", name: token.name ?? "", role: token.role };
        }
        return session;
      },
    },
  };
}

export function clientIp(headers: Record<string, string | string[] | undefined> | Headers | undefined): string {
  if (!headers) return "unknown";
  const get = (name: string) => {
    const v = headers instanceof Headers ? headers.get(name) : headers[name];
    return Array.isArray(v) ? v[0] : v ?? undefined;
  };
  // Only the first hop: the desk is expected behind one trusted proxy at most.
  return get("x-forwarded-for")?.split(",")[0]?.trim() || get("x-real-ip") || "local";
}
