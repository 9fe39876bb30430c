import { Nav } from "@/components/shell/nav";
import { LowBalanceBanner } from "@/components/shell/low-balance-banner";
import { Providers } from "@/components/trpc/client";
import { requireSession } from "@/server/auth/session";

export const dynamic = "force-dynamic";

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const user = await requireSession();
  return (
    <Providers>
      {/* A column on a phone (bar, folding menu, page), side by side from md (768 px) up. */}
      <div className="flex min-h-screen flex-col md:flex-row">
        <Nav user={user} />
        <main className="min-w-0 flex-1 px-4 py-5 md:px-8 md:py-8">
          <LowBalanceBanner />
          {children}
        </main>
      </div>
    </Providers>
  );
}
