import { getServerSession } from "next-auth";
import type { Desk, Actor } from "@/server/services/types";
import { authOptions, clientIp } from "@/server/auth/options";
import { isRole } from "@/server/auth/roles";
import type { Context } from "./init";

/**
 * The acting user is re-read from the database on every request, so a
 * disabled account or a changed role takes effect at once, not when the
 * session token expires.
 */
export async function createContext(desk: Desk, req: Request): Promise<Context> {
  const session = await getServerSession(authOptions(async () => desk.db));
  let actor: Actor | null = null;
  if (session?.user?.id) {
    const user = await desk.db.user.findUnique({ where: { id: session.user.id } });
    if (user && !user.disabled && isRole(user.role)) actor = { id: user.id, email: user.email, name: user.name, role: user.role };
  }
  return { desk, actor, ip: clientIp(req.headers) };
}
