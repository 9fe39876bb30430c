// Reading the session in server components and route handlers.
import { getServerSession } from "next-auth";
import { redirect } from "next/navigation";
import { authOptions } from "./options";
import type { Role } from "./roles";

// The session is a signed JWT: reading it needs no database.
const noDb = async () => {
  throw new Error("The session reader does not sign anyone in");
};

export async function requireSession(): Promise<{ id: string; email: string; name: string; role: Role }> {
  const session = await getServerSession(authOptions(noDb));
  if (!session?.user?.id) redirect("/login");
  return session.user;
}
