// Here, not in proxy.ts, because it never depends on the environment: every
// response gets it. The Content-Security-Policy (a nonce per page) and HSTS
// (only when APP_URL is https, known at run time) are set by proxy.ts.
const PERMISSIONS_POLICY = [
  "accelerometer=()",
  "autoplay=()",
  "camera=()",
  "display-capture=()",
  "encrypted-media=()",
  "geolocation=()",
  "gyroscope=()",
  "hid=()",
  "magnetometer=()",
  "microphone=()",
  "midi=()",
  "payment=()",
  "picture-in-picture=()",
  "screen-wake-lock=()",
  "serial=()",
  "usb=()",
  "xr-spatial-tracking=()",
  "browsing-topics=()",
].join(", ");

/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  // Provider APIs put meaning in a trailing slash (Paytota's /api/v1/payouts/):
  // the built-in emulators must see the path exactly as sent, not a 308 to another one.
  skipTrailingSlashRedirect: true,
  // Native and WebAssembly packages run from node_modules, not bundled.
  serverExternalPackages: ["@electric-sql/pglite", "pglite-prisma-adapter", "@prisma/adapter-pg", "pg", "@node-rs/argon2", "@prisma/client", "pdfkit", "fontkit", "exceljs"],
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
          // The desk needs none of these browser features; a script injected
          // despite the CSP cannot ask for them either.
          { key: "Permissions-Policy", value: PERMISSIONS_POLICY },
        ],
      },
    ];
  },
};

export default nextConfig;
