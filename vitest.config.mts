import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL("./", import.meta.url)) } },
  test: {
    include: ["server/**/*.test.ts", "components/**/*.test.ts", "scripts/**/*.test.ts"],
    environment: "node",
    // Tests assert behaviour, never speed. On a busy 2-core machine opening and
    // migrating a PGlite database took 55 s and the WebAssembly schema engine
    // longer; limits are there to end a hang, not to time the work.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // PGlite and HTTP servers are heavy on 2 cores; files run in parallel, tests in a file in order.
    pool: "forks",
    maxWorkers: 2,
  },
});
