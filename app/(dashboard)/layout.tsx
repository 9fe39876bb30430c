import { Nav } from "@/components/shell/nav";
import { LowBalanceBanner } from "@/components/shell/low-balance-banner";
import { Providers } from "@/components/trpc/client";
import { requireSession } from "@/server/auth/session";

export const dynamic = "force-dynamic";

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const user = await requireSession();
  return (
    <Providers>
      <div className="flex min-h-screen">
        <Nav user={user} />
        <main className="min-w-0 flex-1 px-8 py-8"><LowBalanceBanner />{children}</main>
      </div>
    </Providers>
  );
}
