// Real provider connections from configuration, read at start: environment
// variables for the common single-connection case, or a JSON file for many.
// Configuration is the source of truth for what it names; connections it
// does not name (the built-in sandboxes, ones added later in the UI) are kept.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { PROVIDER_KINDS, type ProviderKind } from "@/server/connectors/types";
import type { ConnectionInput } from "./connections";

const connectionSchema = z.object({
  provider: z.enum(PROVIDER_KINDS as [ProviderKind, ...ProviderKind[]]),
  name: z.string().min(1).max(80),
  environment: z.enum(["sandbox", "live"]),
  baseUrl: z.url({ protocol: /^https?$/, message: "baseUrl must be an http(s) URL" }),
  credentials: z.record(z.string(), z.string()),
});

const fileSchema = z.object({ connections: z.array(connectionSchema) });

export function configuredConnections(env: NodeJS.ProcessEnv = process.env): ConnectionInput[] {
  const result: ConnectionInput[] = [];
  const file = env.DESK_CONFIG_FILE ?? path.resolve(/*turbopackIgnore: true*/ "config/desk.json");
  if (existsSync(/*turbopackIgnore: true*/ file)) {
    const parsed = fileSchema.safeParse(JSON.parse(readFileSync(/*turbopackIgnore: true*/ file, "utf8")));
    if (!parsed.success) {
      throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    result.push(...parsed.data.connections);
  }
  if (env.PAWAPAY_API_TOKEN) {
    const baseUrl = env.PAWAPAY_BASE_URL ?? "https://api.sandbox.pawapay.io";
    const signingKeyPem = env.PAWAPAY_SIGNING_KEY_FILE ? readFileSync(env.PAWAPAY_SIGNING_KEY_FILE, "utf8") : env.PAWAPAY_SIGNING_KEY;
    const credentials: Record<string, string> = { apiToken: env.PAWAPAY_API_TOKEN };
    if (signingKeyPem) credentials.signingKeyPem = signingKeyPem;
    if (env.PAWAPAY_SIGNING_KEY_ID) credentials.signingKeyId = env.PAWAPAY_SIGNING_KEY_ID;
    if (env.PAWAPAY_SIGNING_ALGORITHM) credentials.signingAlgorithm = env.PAWAPAY_SIGNING_ALGORITHM;
    if (env.PAWAPAY_REQUIRE_SIGNED_CALLBACKS) credentials.requireSignedCallbacks = env.PAWAPAY_REQUIRE_SIGNED_CALLBACKS;
    result.push(
      connectionSchema.parse({
        provider: "pawapay",
        name: env.PAWAPAY_CONNECTION_NAME ?? "pawaPay",
        environment: env.PAWAPAY_ENVIRONMENT ?? (baseUrl.includes("sandbox") ? "sandbox" : "live"),
        baseUrl,
        credentials,
      }),
    );
  }
  return result;
}
