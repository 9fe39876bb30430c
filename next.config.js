/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  // Provider APIs put meaning in a trailing slash (Paytota's /api/v1/payouts/):
  // the built-in emulators must see the path exactly as sent, not a 308 to another one.
  skipTrailingSlashRedirect: true,
  // Native and WebAssembly packages run from node_modules, not bundled.
  serverExternalPackages: ["@electric-sql/pglite", "pglite-prisma-adapter", "@prisma/adapter-pg", "pg", "pg-boss", "@node-rs/argon2", "@prisma/client"],
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
        ],
      },
    ];
  },
};

export default nextConfig;
