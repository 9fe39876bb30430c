// Hosts the built-in provider emulators inside the desk. Each emulator keeps
// its state in memory for the life of the process, and knows the desk's
// sandbox connections the way a provider knows a merchant: by API token,
// with the merchant's registered public keys and callback URL.
import { createPublicKey } from "node:crypto";
import { createPawapayEmulator } from "@/server/sandbox/pawapay";
import { BUILTIN_SANDBOX_PREFIX, callbackUrlFor, openCredentials } from "./connections";
import type { Desk } from "./types";

export interface HostedEmulator {
  handle(request: Request): Promise<Response>;
}

// Per desk (tests run several in one process), kept for the life of the process.
const globalKey = Symbol.for("payout-desk.emulators");
type Holder = { [globalKey]?: WeakMap<Desk, Map<string, HostedEmulator>> };

export async function sandboxEmulator(provider: string, desk: Desk): Promise<HostedEmulator | null> {
  const holder = globalThis as Holder;
  const byDesk = (holder[globalKey] ??= new WeakMap());
  let emulators = byDesk.get(desk);
  if (!emulators) byDesk.set(desk, (emulators = new Map()));
  const existing = emulators.get(provider);
  if (existing) return existing;
  const created = createEmulator(provider, desk);
  if (created) emulators.set(provider, created);
  return created;
}

function createEmulator(provider: string, desk: Desk): HostedEmulator | null {
  switch (provider) {
    case "pawapay":
      return createPawapayEmulator({
        basePath: "/api/sandbox/pawapay",
        accounts: (apiToken: string) => sandboxAccount(desk, "pawapay", apiToken),
      });
    default:
      return null;
  }
}

async function sandboxAccount(desk: Desk, provider: "pawapay", apiToken: string) {
  const connections = await desk.db.connection.findMany({ where: { provider, baseUrl: `${BUILTIN_SANDBOX_PREFIX}${provider}` } });
  for (const connection of connections) {
    const credentials = openCredentials(desk, connection);
    if (credentials.apiToken !== apiToken) continue;
    const publicKeys: Record<string, string> = {};
    if (credentials.signingKeyPem && credentials.signingKeyId) {
      publicKeys[credentials.signingKeyId] = createPublicKey(credentials.signingKeyPem).export({ type: "spki", format: "pem" }).toString();
    }
    return { callbackUrl: callbackUrlFor(desk, connection.id), publicKeys, requireSignature: Object.keys(publicKeys).length > 0 };
  }
  return null;
}
