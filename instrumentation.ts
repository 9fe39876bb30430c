// Boots the desk when the server starts (not on the first request), so the
// job workers run and the demo sign-in is printed right away.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  if (process.env.NEXT_PHASE === "phase-production-build") return;
  // First, before any request is served: route handlers see no socket address
  // otherwise, and sign-in throttling and audit entries need the real client.
  const { installPeerAddressStamp } = await import("./server/auth/peer-address");
  installPeerAddressStamp();
  const { bootOrExit } = await import("./server/runtime");
  await bootOrExit();
}
