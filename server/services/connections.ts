// Provider connections: stored with sealed credentials, opened into a
// connector for one use, and every provider call recorded for the timeline.
import { publicPemOf, remember } from "@/server/security/key-cache";
import { randomBytes, randomUUID } from "node:crypto";
import type { Connection } from "@/server/db/generated/client";
import type { ConnectionConfig, PayoutConnector, ProviderCallRecord, ProviderKind } from "@/server/connectors/types";
import { connectorFactory, PROVIDER_LABELS, sandboxBaseUrlFor, sandboxCredentialsFor } from "@/server/connectors/registry";
import { generatePawapaySigningKey } from "@/server/connectors/pawapay";
import { open, seal } from "@/server/security/secret-box";
import type { Desk } from "./types";
import { recordCalls } from "./provider-calls";
import { NotFound, Conflict } from "./errors";

/** Base URL stored for a connection that talks to the desk's own emulator. */
export const BUILTIN_SANDBOX_PREFIX = "sandbox://";

export function resolveBaseUrl(desk: Pick<Desk, "config">, stored: string): string {
  if (stored.startsWith(BUILTIN_SANDBOX_PREFIX)) {
    return `${desk.config.appUrl}/api/sandbox/${stored.slice(BUILTIN_SANDBOX_PREFIX.length)}`;
  }
  return stored.replace(/\/+$/, "");
}

export function callbackUrlFor(desk: Pick<Desk, "config">, connectionId: string): string {
  return `${desk.config.appUrl}/api/webhooks/${connectionId}`;
}

export function sealCredentials(desk: Pick<Desk, "credentialsKey">, connectionId: string, credentials: Record<string, string>): string {
  // The connection id is the AAD: a sealed blob copied onto another connection does not open.
  return seal(JSON.stringify(credentials), desk.credentialsKey, connectionId);
}

/**
 * Credentials opened, kept per credentials key by connection id and sealed
 * text: every send and every callback opens its connection's, and decrypting
 * and parsing them each time cost about as much as signing the request. A
 * changed blob (an edit) or another key is a miss, so nothing stale or
 * unauthorised is ever answered; each caller gets its own copy.
 */
const openedCredentials = new WeakMap<Buffer, Map<string, Readonly<Record<string, string>>>>();

export function openCredentials(desk: Pick<Desk, "credentialsKey">, connection: Pick<Connection, "id" | "credentials">): Record<string, string> {
  let byBlob = openedCredentials.get(desk.credentialsKey);
  if (!byBlob) openedCredentials.set(desk.credentialsKey, (byBlob = new Map()));
  const opened = remember(byBlob, `${connection.id}:${connection.credentials}`, () =>
    Object.freeze(JSON.parse(open(connection.credentials, desk.credentialsKey, connection.id)) as Record<string, string>),
  );
  return { ...opened };
}

export function connectionConfig(desk: Desk, connection: Connection): ConnectionConfig {
  return {
    id: connection.id,
    provider: connection.provider as ProviderKind,
    name: connection.name,
    environment: connection.environment,
    baseUrl: resolveBaseUrl(desk, connection.baseUrl),
    credentials: openCredentials(desk, connection),
    callbackUrl: callbackUrlFor(desk, connection.id),
  };
}

/** How long a process trusts a connection row it read for sending or for a callback. */
const CONNECTION_CACHE_MS = 2_000;
const connectionCache = new WeakMap<Desk, Map<string, { at: number; row: Promise<Connection | null> }>>();

/**
 * A connection row as read at most 2 s ago. Every send and every callback
 * needs it; an edit (credentials, pause) reaches them within 2 s, as it would
 * reach a send that had started 2 s earlier.
 */
export function recentConnection(desk: Desk, connectionId: string): Promise<Connection | null> {
  let byId = connectionCache.get(desk);
  if (!byId) connectionCache.set(desk, (byId = new Map()));
  const cached = byId.get(connectionId);
  if (cached && Date.now() - cached.at < CONNECTION_CACHE_MS) return cached.row;
  if (byId.size > 1000) byId.clear();
  const row = desk.db.connection.findUnique({ where: { id: connectionId } });
  byId.set(connectionId, { at: Date.now(), row });
  row.catch(() => byId.delete(connectionId));
  return row;
}

export async function getConnection(desk: Desk, connectionId: string): Promise<Connection> {
  const connection = await desk.db.connection.findUnique({ where: { id: connectionId } });
  if (!connection) throw new NotFound("Connection");
  return connection;
}

/**
 * A connector for one connection. Every HTTP call it makes is written to
 * ProviderCall (request summary without secrets, response, latency) so the
 * payout timeline shows exactly what was said to the provider: at once, or,
 * given `collect`, by the caller, which writes them with the status change
 * their answer leads to (the send: one statement, not two, per payout).
 */
export function openConnector(desk: Desk, connection: Connection, payoutId?: string, collect?: ProviderCallRecord[]): PayoutConnector {
  const config = connectionConfig(desk, connection);
  return connectorFactory(config.provider)(config, {
    ...desk.connectorDeps,
    onCall: (call) => (collect ? void collect.push(call) : recordCalls(desk.db, { connectionId: connection.id, payoutId, records: [call] })),
    holdProviderReference: (id, reference) => holdProviderReference(desk, connection.id, id, reference),
  });
}

/**
 * Writes a provider's id on the payout before the connector acts on it (see
 * ConnectorDeps.holdProviderReference): with Paytota, a payout that holds no
 * id was therefore never executed, which is what lets a lost answer be
 * redone. Only over no id or the same one: a second attempt that created
 * another payout at the provider must not replace the id of the first.
 */
async function holdProviderReference(desk: Desk, connectionId: string, payoutId: string, reference: string): Promise<void> {
  const held = await desk.db.payout.updateMany({
    where: { id: payoutId, connectionId, OR: [{ providerReference: null }, { providerReference: reference }] },
    data: { providerReference: reference },
  });
  if (held.count !== 1) throw new Error("the payout already holds another provider id");
}

export interface ConnectionInput {
  provider: ProviderKind;
  name: string;
  environment: "sandbox" | "live";
  baseUrl: string;
  credentials: Record<string, string>;
}

/** Fills in what a connection needs but was not given (a pawaPay signing key pair). */
export function completeCredentials(provider: ProviderKind, credentials: Record<string, string>): Record<string, string> {
  if (provider === "pawapay" && !credentials.signingKeyPem) {
    const algorithm = credentials.signingAlgorithm || "ecdsa-p256-sha256";
    const { privateKeyPem } = generatePawapaySigningKey(algorithm as Parameters<typeof generatePawapaySigningKey>[0]);
    return {
      ...credentials,
      signingKeyPem: privateKeyPem,
      signingKeyId: credentials.signingKeyId || `desk-${randomBytes(4).toString("hex")}`,
      signingAlgorithm: algorithm,
    };
  }
  return credentials;
}

/** Creates the connection, or updates the one with the same name (configuration is the source of truth). */
export async function upsertConnection(desk: Desk, input: ConnectionInput): Promise<Connection> {
  const existing = await desk.db.connection.findUnique({ where: { name: input.name } });
  if (existing && existing.provider !== input.provider) {
    throw new Conflict(`A ${existing.provider} connection is already named "${input.name}"`);
  }
  const id = existing?.id ?? randomUUID();
  const previous = existing ? openCredentials(desk, existing) : {};
  // Keep a generated signing key across restarts unless configuration gives one.
  const credentials = completeCredentials(input.provider, { ...pick(previous, ["signingKeyPem", "signingKeyId", "signingAlgorithm"]), ...input.credentials });
  const data = {
    provider: input.provider,
    name: input.name,
    environment: input.environment,
    baseUrl: input.baseUrl,
    credentials: sealCredentials(desk, id, credentials),
  };
  return existing
    ? desk.db.connection.update({ where: { id }, data })
    : desk.db.connection.create({ data: { id, ...data } });
}

function pick(source: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => source[k]).map((k) => [k, source[k]!]));
}

/** What the admin must register at the provider: our public key and callback URL. Never a secret. */
export interface ConnectionRegistration {
  connectionId: string;
  name: string;
  provider: ProviderKind;
  callbackUrl: string;
  publicKeyPem?: string;
  signingKeyId?: string;
  signingAlgorithm?: string;
}

export function registrationInfo(desk: Desk, connection: Connection): ConnectionRegistration {
  const credentials = openCredentials(desk, connection);
  return {
    connectionId: connection.id,
    name: connection.name,
    provider: connection.provider as ProviderKind,
    callbackUrl: callbackUrlFor(desk, connection.id),
    ...(credentials.signingKeyPem
      ? {
          publicKeyPem: publicPemOf(credentials.signingKeyPem),
          signingKeyId: credentials.signingKeyId,
          signingAlgorithm: credentials.signingAlgorithm,
        }
      : {}),
  };
}

/** One built-in sandbox connection per supported provider, so a fresh desk works with no configuration. */
export async function ensureSandboxConnections(desk: Desk, providers: ProviderKind[]): Promise<void> {
  for (const provider of providers) {
    const exists = await desk.db.connection.findFirst({ where: { provider, baseUrl: { startsWith: BUILTIN_SANDBOX_PREFIX } } });
    if (exists) continue;
    await upsertConnection(desk, {
      provider,
      name: `${PROVIDER_LABELS[provider]} sandbox`,
      environment: "sandbox",
      baseUrl: sandboxBaseUrlFor(provider),
      credentials: sandboxCredentialsFor(provider),
    });
  }
}
