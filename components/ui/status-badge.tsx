import { STATUS_LABELS, type PayoutStatus } from "@/server/domain/payout-state";

const TONES: Record<PayoutStatus, string> = {
  pending_approval: "bg-amber-50 text-amber-800 ring-amber-600/20",
  approved: "bg-sky-50 text-sky-800 ring-sky-600/20",
  rejected: "bg-slate-100 text-slate-700 ring-slate-500/20",
  submitting: "bg-sky-50 text-sky-800 ring-sky-600/20",
  processing: "bg-indigo-50 text-indigo-800 ring-indigo-600/20",
  provider_pending_approval: "bg-violet-50 text-violet-800 ring-violet-600/20",
  unknown: "bg-orange-50 text-orange-800 ring-orange-600/30",
  succeeded: "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
  failed: "bg-rose-50 text-rose-800 ring-rose-600/20",
  cancelled: "bg-slate-100 text-slate-700 ring-slate-500/20",
  reversed: "bg-fuchsia-50 text-fuchsia-800 ring-fuchsia-600/30",
  expired: "bg-slate-100 text-slate-600 ring-slate-500/20",
};

export function StatusBadge({ status }: { status: string }) {
  const known = status in TONES ? (status as PayoutStatus) : null;
  return (
    <span
      data-status={status}
      className={`inline-flex items-center rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${known ? TONES[known] : "bg-slate-100 text-slate-700 ring-slate-400/20"}`}
    >
      {known ? STATUS_LABELS[known] : status}
    </span>
  );
}
