// Hosts the built-in provider emulators inside the desk. Each emulator keeps
// its state in memory for the life of the process, and knows the desk's
// sandbox connections the way a provider knows a merchant: by API token,
// with the merchant's registered public keys and callback URL.
import { publicPemOf } from "@/server/security/key-cache";
import type { Connection } from "@/server/db/generated/client";
import type { ProviderKind } from "@/server/connectors/types";
import { createPawapayEmulator } from "@/server/sandbox/pawapay";
import { createMudaEmulator, sandboxAccountFor as mudaAccount } from "@/server/sandbox/muda";
import { createPraxisEmulator, sandboxAccountFor as praxisAccount } from "@/server/sandbox/praxis";
import { createPaytotaEmulator, sandboxAccountFor as paytotaAccount } from "@/server/sandbox/paytota";
import { createPontisEmulator, sandboxAccountFor as pontisAccount } from "@/server/sandbox/pontis";
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
        accounts: (apiToken: string) => withSandboxConnection(desk, "pawapay", (c) => c.apiToken === apiToken, pawapayAccount),
      });
    case "muda":
      return createMudaEmulator({
        basePath: "/api/sandbox/muda",
        accounts: (apiKey: string) => withSandboxConnection(desk, "muda", (c) => c.apiKey === apiKey, mudaAccount),
      });
    case "paytota":
      return createPaytotaEmulator({
        basePath: "/api/sandbox/paytota",
        // Execution and download links it hands out must point back at the desk, whatever Host a request used.
        publicUrl: `${desk.config.appUrl}/api/sandbox/paytota`,
        accounts: (secretKey: string) => withSandboxConnection(desk, "paytota", (c) => c.secretKey === secretKey, paytotaAccount),
      });
    case "pontis":
      return createPontisEmulator({
        basePath: "/api/sandbox/pontis",
        accounts: (apiKey: string) => withSandboxConnection(desk, "pontis", (c) => c.apiKey === apiKey, pontisAccount),
      });
    case "praxis":
      return createPraxisEmulator({
        basePath: "/api/sandbox/praxis",
        accounts: (merchantId: string, applicationKey: string) =>
          withSandboxConnection(
            desk,
            "praxis",
            (c) => c.merchantId === merchantId && c.applicationKey === applicationKey,
            (c) => praxisAccount(c, merchantId, applicationKey),
          ),
      });
    default:
      return null;
  }
}

/**
 * Finds the built-in sandbox connection of a provider whose credentials match
 * (the provider's view of "this merchant") and answers what its emulator
 * needs to know about that merchant.
 */
async function withSandboxConnection<T>(
  desk: Desk,
  provider: ProviderKind,
  matches: (credentials: Record<string, string>) => boolean,
  account: (credentials: Record<string, string>, callbackUrl: string, connection: Connection) => T,
): Promise<T | null> {
  // A miss reads again at once: credentials just set (or a connection just added) are known to the next request.
  for (const fresh of [false, true]) {
    for (const { connection, credentials } of await sandboxConnections(desk, provider, fresh)) {
      if (matches(credentials)) return account(credentials, callbackUrlFor(desk, connection.id), connection);
    }
  }
  return null;
}

/** How long an emulator trusts its list of merchants: a provider learns of new credentials quickly, not instantly. */
const ACCOUNTS_CACHE_MS = 2_000;
const accountsCache = new WeakMap<Desk, Map<ProviderKind, { at: number; list: Promise<Array<{ connection: Connection; credentials: Record<string, string> }>> }>>();

/** The provider's built-in sandbox connections with their credentials opened, read at most every 2 s (every request asks). */
function sandboxConnections(desk: Desk, provider: ProviderKind, fresh: boolean) {
  let byProvider = accountsCache.get(desk);
  if (!byProvider) accountsCache.set(desk, (byProvider = new Map()));
  const cached = byProvider.get(provider);
  if (!fresh && cached && Date.now() - cached.at < ACCOUNTS_CACHE_MS) return cached.list;
  const list = desk.db.connection
    .findMany({ where: { provider, baseUrl: { startsWith: `${BUILTIN_SANDBOX_PREFIX}${provider}` } } })
    .then((rows) => rows.map((connection) => ({ connection, credentials: openCredentials(desk, connection) })));
  byProvider.set(provider, { at: Date.now(), list });
  list.catch(() => byProvider.delete(provider));
  return list;
}

/** pawaPay knows the merchant's public signing key (registered in its dashboard) and callback URL. */
function pawapayAccount(credentials: Record<string, string>, callbackUrl: string) {
  const publicKeys: Record<string, string> = {};
  if (credentials.signingKeyPem && credentials.signingKeyId) {
    publicKeys[credentials.signingKeyId] = publicPemOf(credentials.signingKeyPem);
  }
  return { callbackUrl, publicKeys, requireSignature: Object.keys(publicKeys).length > 0 };
}
