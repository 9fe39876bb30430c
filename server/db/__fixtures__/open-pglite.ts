// Child process for pglite.test.ts: tries to open the data folder given as
// argv[2] the way the app does, and reports the outcome through its exit code
// (0 opened, 3 refused) and stderr.
import { openPersistentPglite } from "../pglite";

try {
  const db = await openPersistentPglite(process.argv[2]);
  await db.pglite.query("SELECT 1");
  await db.close();
  console.log("opened");
  process.exit(0);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(3);
}
