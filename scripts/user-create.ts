// Creates a desk user: `npm run user:create -- --email you@company.com --role admin [--name "You"]`.
// Asks for the password on a terminal (empty = generate one); without a
// terminal, generates one. A generated password is printed once.
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { createDb } from "../server/db/client";
import { isRole, ROLES } from "../server/auth/roles";
import { createUser } from "../server/services/users";
import { FieldErrors, Conflict } from "../server/services/errors";

const { values } = parseArgs({ options: { email: { type: "string" }, role: { type: "string" }, name: { type: "string" } } });
if (!values.email || !values.role || !isRole(values.role)) {
  console.error(`Usage: npm run user:create -- --email you@company.com --role <${ROLES.join("|")}> [--name "Full Name"]`);
  process.exit(2);
}

let password: string | undefined;
if (process.stdin.isTTY) {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  password = (await rl.question("Password (at least 12 characters; empty to generate one): ")) || undefined;
  rl.close();
}

const db = process.env.DATABASE_URL ? await createDb({ databaseUrl: process.env.DATABASE_URL, max: 1 }) : await createDb({ kind: "pglite" });
try {
  const { user, password: finalPassword } = await createUser(db.prisma, { email: values.email, name: values.name, role: values.role, password });
  console.log(`Created ${user.role} ${user.email}`);
  if (!password) console.log(`Generated password (shown once): ${finalPassword}`);
} catch (error) {
  if (error instanceof FieldErrors || error instanceof Conflict) {
    console.error(error.message);
    process.exitCode = 1;
  } else throw error;
} finally {
  await db.close();
}
