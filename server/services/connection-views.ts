// Read models of connections for the UI. Credentials never leave the server:
// these return only names, routing options and what to register at the provider.
import type { ProviderKind } from "@/server/connectors/types";
import { isProviderSupported, PROVIDER_LABELS } from "@/server/connectors/registry";
import { BUILTIN_SANDBOX_PREFIX, openConnector, registrationInfo } from "./connections";
import type { Desk } from "./types";

export async function listConnectionsForForm(desk: Desk) {
  const rows = await desk.db.connection.findMany({ where: { enabled: true }, orderBy: { name: "asc" } });
  return rows
    .filter((c) => isProviderSupported(c.provider as ProviderKind))
    .map((c) => {
      const connector = openConnector(desk, c);
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
    const registration = supported ? registrationInfo(desk, c) : null;
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
      callbackUrl: registration?.callbackUrl ?? null,
      publicKeyPem: registration?.publicKeyPem ?? null,
      signingKeyId: registration?.signingKeyId ?? null,
      signingAlgorithm: registration?.signingAlgorithm ?? null,
    };
  });
}
