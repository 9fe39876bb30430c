// Read models of connections for the UI. Credentials never leave the server:
// these return only names, routing options and what to register at the provider.
import type { ProviderKind } from "@/server/connectors/types";
import { isProviderSupported, PROVIDER_LABELS } from "@/server/connectors/registry";
import { SecretBoxError } from "@/server/security/secret-box";
import { BUILTIN_SANDBOX_PREFIX, callbackUrlFor, openConnector, registrationInfo } from "./connections";
import type { Desk } from "./types";

/**
 * Runs `read` on a connection's opened credentials; null when they cannot be
 * decrypted (DESK_CREDENTIALS_KEY changed, or the row was tampered with), so
 * one unreadable connection does not take the page down with it.
 */
function readable<T>(read: () => T): T | null {
  try {
    return read();
  } catch (error) {
    if (error instanceof SecretBoxError) return null;
    throw error;
  }
}

export async function listConnectionsForForm(desk: Desk) {
  const rows = await desk.db.connection.findMany({ where: { enabled: true }, orderBy: { name: "asc" } });
  return rows
    .filter((c) => isProviderSupported(c.provider as ProviderKind))
    .flatMap((c) => {
      const connector = readable(() => openConnector(desk, c));
      if (!connector) return []; // unusable until an admin re-enters its credentials
      return {
        id: c.id,
        name: c.name,
        provider: c.provider,
        environment: c.environment,
        channels: connector.channels(),
        recipientKind: connector.recipientKind ?? "msisdn",
        recipientFields: connector.recipientFields?.() ?? [],
        payoutCurrencies: connector.payoutCurrencies?.() ?? null,
      };
    });
}

export async function listConnectionsForAdmin(desk: Desk) {
  const rows = await desk.db.connection.findMany({ orderBy: { name: "asc" } });
  return rows.map((c) => {
    const supported = isProviderSupported(c.provider as ProviderKind);
    const registration = supported ? readable(() => registrationInfo(desk, c)) : null;
    return {
      id: c.id,
      name: c.name,
      provider: c.provider,
      providerLabel: PROVIDER_LABELS[c.provider as ProviderKind],
      environment: c.environment,
      enabled: c.enabled,
      builtInSandbox: c.baseUrl.startsWith(BUILTIN_SANDBOX_PREFIX),
      baseUrl: c.baseUrl.startsWith(BUILTIN_SANDBOX_PREFIX) ? "Built-in emulator" : c.baseUrl,
      supported,
      credentialsUnreadable: supported && registration === null,
      callbackUrl: registration?.callbackUrl ?? callbackUrlFor(desk, c.id),
      publicKeyPem: registration?.publicKeyPem ?? null,
      signingKeyId: registration?.signingKeyId ?? null,
      signingAlgorithm: registration?.signingAlgorithm ?? null,
    };
  });
}
