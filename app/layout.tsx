import type { Metadata } from "next";
import "./globals.css";

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
