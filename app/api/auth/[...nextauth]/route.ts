import type { NextRequest } from "next/server";
import NextAuth from "next-auth";
import { authOptions } from "@/server/auth/options";
import { clientIp } from "@/server/auth/client-ip";
import { getDesk } from "@/server/runtime";

export const dynamic = "force-dynamic";

// Options per request so the sign-out audit entry records the address it came from.
async function handler(req: NextRequest, context: { params: Promise<{ nextauth: string[] }> }): Promise<Response> {
  return NextAuth(req, context, authOptions(getDesk, { ip: clientIp(req.headers) }));
}

export { handler as GET, handler as POST };
