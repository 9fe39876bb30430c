import { sandboxEmulator } from "@/server/services/sandbox-hosting";
import { getDesk } from "@/server/runtime";

export const dynamic = "force-dynamic";

/** The built-in provider emulators, speaking each provider's wire protocol. */
async function handler(req: Request, ctx: { params: Promise<{ provider: string }> }) {
  // A production desk can switch the emulators off entirely.
  if (process.env.DESK_SANDBOX === "off") return Response.json({ errorMessage: "The built-in sandbox is switched off" }, { status: 404 });
  const { provider } = await ctx.params;
  const emulator = await sandboxEmulator(provider, await getDesk());
  if (!emulator) return Response.json({ errorMessage: `No emulator for ${provider}` }, { status: 404 });
  return emulator.handle(req);
}

export { handler as GET, handler as POST, handler as PUT, handler as PATCH, handler as DELETE };
