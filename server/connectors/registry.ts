// Provider kind → connector factory, and what a fresh built-in sandbox
// connection of that provider is given. Adding a provider means adding a line here.
import { randomBytes } from "node:crypto";
import type { ConnectorFactory, ProviderKind } from "./types";
import { createPawapayConnector } from "./pawapay";
import { createMudaConnector, sandboxCredentials as mudaSandboxCredentials } from "./muda";
import { createPraxisConnector, sandboxCredentials as praxisSandboxCredentials } from "./praxis";
import { createPaytotaConnector, sandboxCredentials as paytotaSandboxCredentials } from "./paytota";
import { createPontisConnector, sandboxCredentials as pontisSandboxCredentials } from "./pontis";

interface ProviderEntry {
  factory: ConnectorFactory;
  /** Credentials of a built-in sandbox connection (random secrets shared with the emulator). */
  sandboxCredentials: () => Record<string, string>;
  /** Path under the emulator's mount point that plays the provider's base URL, if not the root. */
  sandboxPath?: string;
  /** Seconds between status checks of a payout in flight, by attempt (the last repeats). */
  pollDelaysSeconds?: readonly number[];
  /** The provider's published request rate limit (calls a minute), which the desk paces its work under. */
  requestsPerMinute?: number;
}

/**
 * Signed callbacks settle a payout first (pawaPay's within seconds); polling
 * is the safety net, so its first look waits 15 s — a look at 5 s mostly found
 * the callback had already done it, and under load it was extra work that
 * slowed the callbacks further — then backs off to every 30 minutes.
 */
export const DEFAULT_POLL_DELAYS_SECONDS: readonly number[] = [15, 30, 60, 120, 300, 600, 1800];

const PROVIDERS: Partial<Record<ProviderKind, ProviderEntry>> = {
  pawapay: { factory: createPawapayConnector, sandboxCredentials: () => ({ apiToken: `sandbox-${randomBytes(16).toString("hex")}` }) },
  // Muda's webhooks are unsigned hints: the status query is what settles a payout, so ask sooner.
  // Muda publishes 100 requests a minute (and 5,000 a day).
  muda: { factory: createMudaConnector, sandboxCredentials: mudaSandboxCredentials, pollDelaysSeconds: [3, 5, 10, 20, 60, 120, 300, 900], requestsPerMinute: 100 },
  paytota: { factory: createPaytotaConnector, sandboxCredentials: paytotaSandboxCredentials },
  pontis: { factory: createPontisConnector, sandboxCredentials: pontisSandboxCredentials },
  praxis: { factory: createPraxisConnector, sandboxCredentials: () => ({ ...praxisSandboxCredentials() }), sandboxPath: "/api/direct" },
};

export function connectorFactory(provider: ProviderKind): ConnectorFactory {
  const entry = PROVIDERS[provider];
  if (!entry) throw new Error(`No connector is available for ${provider} yet`);
  return entry.factory;
}

export function sandboxCredentialsFor(provider: ProviderKind): Record<string, string> {
  const entry = PROVIDERS[provider];
  if (!entry) throw new Error(`No connector is available for ${provider} yet`);
  return entry.sandboxCredentials();
}

/** The stored base URL of a provider's built-in sandbox connection, e.g. "sandbox://praxis/api/direct". */
export function sandboxBaseUrlFor(provider: ProviderKind): string {
  return `sandbox://${provider}${PROVIDERS[provider]?.sandboxPath ?? ""}`;
}

export function pollDelaysFor(provider: ProviderKind): readonly number[] {
  return PROVIDERS[provider]?.pollDelaysSeconds ?? DEFAULT_POLL_DELAYS_SECONDS;
}

/**
 * The provider's published rate limit in requests a minute, or null where it
 * publishes none (PontisGlobe answers 429 without a number: its connector
 * backs off and a lost answer is settled by a status query). A connection's
 * own setting (Connections → Sending) overrides it.
 */
export function publishedRequestsPerMinute(provider: ProviderKind): number | null {
  return PROVIDERS[provider]?.requestsPerMinute ?? null;
}

export function isProviderSupported(provider: ProviderKind): boolean {
  return provider in PROVIDERS;
}

export function supportedProviders(): ProviderKind[] {
  return Object.keys(PROVIDERS) as ProviderKind[];
}

export const PROVIDER_LABELS: Record<ProviderKind, string> = {
  pawapay: "pawaPay",
  muda: "Muda",
  paytota: "Paytota",
  praxis: "Praxis",
  pontis: "PontisGlobe",
};
