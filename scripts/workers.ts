// Job workers without the web server, for running the queue in its own
// processes at scale. PostgreSQL only: the embedded database belongs to one process.
import { getRuntime } from "../server/runtime";

if (!process.env.DATABASE_URL) {
  console.error("Separate worker processes need DATABASE_URL (PostgreSQL); the embedded database runs its workers inside the desk.");
  process.exit(2);
}
process.env.DESK_WORKERS = "on";
const runtime = await getRuntime();
console.log("[workers] running; Ctrl-C to stop");
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    runtime.stop().finally(() => process.exit(0));
  });
}
