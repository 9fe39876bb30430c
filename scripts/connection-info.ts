// Prints what to register at each provider: the callback URL and, for
// pawaPay, the public key of the connection's signing key. Never a secret.
import { createDb } from "../server/db/client";
import { readConfig } from "../server/config";
import { parseKey } from "../server/security/secret-box";
import { applyLocalSecrets } from "../server/security/local-secrets";
import { registrationInfo } from "../server/services/connections";
import type { Desk } from "../server/services/types";

applyLocalSecrets();
const config = readConfig();
const db = config.databaseUrl ? await createDb({ databaseUrl: config.databaseUrl, max: 1 }) : await createDb({ kind: "pglite" });
try {
  const desk = { db: db.prisma, config, credentialsKey: parseKey(process.env.DESK_CREDENTIALS_KEY) } as Desk;
  const connections = await db.prisma.connection.findMany({ orderBy: { name: "asc" } });
  if (connections.length === 0) console.log("No connections yet: start the desk once, or configure one (see README).");
  for (const connection of connections) {
    const info = registrationInfo(desk, connection);
    console.log(`\n${info.name} (${info.provider}, ${connection.environment})`);
    console.log(`  callback URL: ${info.callbackUrl}`);
    if (info.publicKeyPem) {
      console.log(`  signing key id: ${info.signingKeyId}  algorithm: ${info.signingAlgorithm}`);
      console.log(info.publicKeyPem.trim().replace(/^/gm, "  "));
    }
  }
} finally {
  await db.close();
}
