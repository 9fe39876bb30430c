// Boots the desk when the server starts (not on the first request), so the
// job workers run and the demo sign-in is printed right away.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  if (process.env.NEXT_PHASE === "phase-production-build") return;
  const { getRuntime } = await import("./server/runtime");
  try {
    await getRuntime();
  } catch (error) {
    // A desk that cannot open its database (the embedded one in use by
    // another process, PostgreSQL unreachable) must not stay up answering 500s.
    console.error(`\n[desk] cannot start: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
