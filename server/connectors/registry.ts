// Provider kind → connector factory. Adding a provider means adding a line here.
import type { ConnectorFactory, ProviderKind } from "./types";
import { createPawapayConnector } from "./pawapay";

const FACTORIES: Partial<Record<ProviderKind, ConnectorFactory>> = {
  pawapay: createPawapayConnector,
};

export function connectorFactory(provider: ProviderKind): ConnectorFactory {
  const factory = FACTORIES[provider];
  if (!factory) throw new Error(`No connector is available for ${provider} yet`);
  return factory;
}

export function isProviderSupported(provider: ProviderKind): boolean {
  return provider in FACTORIES;
}

export const PROVIDER_LABELS: Record<ProviderKind, string> = {
  pawapay: "pawaPay",
  muda: "Muda",
  paytota: "Paytota",
  praxis: "Praxis",
  pontis: "PontisGlobe",
};
