import NextAuth from "next-auth";
import { authOptions } from "@/server/auth/options";
import { getDesk } from "@/server/runtime";

export const dynamic = "force-dynamic";

const handler = NextAuth(authOptions(async () => (await getDesk()).db));

export { handler as GET, handler as POST };
