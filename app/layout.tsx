import type { Metadata } from "next";
import "./globals.css";

// Every page is rendered per request: the Content-Security-Policy (proxy.ts)
// allows only inline scripts carrying the request's nonce, and a page
// prerendered at build time (the sign-in page, not-found) would carry none and
// have its scripts blocked.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: { default: "Payout desk", template: "%s · Payout desk" },
  description: "Create, approve and follow payouts across providers.",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen font-sans">{children}</body>
    </html>
  );
}
