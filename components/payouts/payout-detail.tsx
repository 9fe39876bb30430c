"use client";
import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Button } from "@/components/ui/button";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Card, ErrorNote, Loading, PageHeader } from "@/components/ui/layout";
import { StatusBadge } from "@/components/ui/status-badge";
import { DecisionControls } from "@/components/approvals/decision-controls";
import { ApprovalStanding } from "@/components/approvals/approval-standing";
import { ResolutionPanel } from "@/components/outcomes/resolution-panel";
import { isFinal, type PayoutStatus } from "@/server/domain/payout-state";
import { money, NOT_REPORTED, phone, rate, reported, when } from "./format";
import { FailureReason } from "./failure-reason";

const SOURCE_LABELS: Record<string, string> = {
  user: "Desk user",
  provider_response: "Provider response",
  callback: "Provider callback",
  status_query: "Status query",
  system: "Desk",
};

export function PayoutDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const query = useQuery(
    trpc.payouts.byId.queryOptions(
      { id },
      // Follow a payout in flight without a reload; stop once it is final.
      { refetchInterval: (q) => (q.state.data && isFinal(q.state.data.payout.status as PayoutStatus) ? false : 2_000) },
    ),
  );
  if (query.isPending) return <Loading label="Loading payout…" />;
  if (query.isError) return <ErrorNote>{messageOf(query.error)}</ErrorNote>;
  const { payout, canDecide, decisionBlockedBecause, canWithdraw, canEdit, edits } = query.data;

  return (
    <>
      <PageHeader
        title={money(payout.amountMinor, payout.currency)}
        description={
          // Names and descriptions come from people: one unbroken 10,000-character word must wrap, not stretch the page.
          <span className="wrap-anywhere">
            to {payout.recipientName ? `${payout.recipientName}, ` : ""}
            {phone(payout.recipientPhone, payout.recipientAccount)} via {payout.connection.name}
          </span>
        }
        actions={<StatusBadge status={payout.status} />}
      />
      <div className="grid gap-6 lg:grid-cols-3">
        {/* min-w-0: a grid column may shrink below its content's width, so nothing in it can widen the page. */}
        <div className="min-w-0 space-y-6 lg:col-span-2">
          <Card className="p-5">
            <h2 className="mb-4 text-sm font-semibold text-slate-900">Status history</h2>
            <ol className="relative space-y-5 border-l border-slate-200 pl-5" data-testid="timeline">
              {payout.events.map((event) => (
                <li key={event.id.toString()} data-testid="timeline-event" data-to={event.toStatus}>
                  <span className="absolute -left-1.5 mt-1.5 h-3 w-3 rounded-full border-2 border-white bg-indigo-500" />
                  <div className="flex flex-wrap items-center gap-2 text-sm">
                    {event.fromStatus && event.fromStatus !== event.toStatus && (
                      <>
                        <StatusBadge status={event.fromStatus} />
                        <span aria-hidden>→</span>
                      </>
                    )}
                    <StatusBadge status={event.toStatus} />
                    <span className="text-xs text-slate-500">
                      {SOURCE_LABELS[event.source] ?? event.source} · {when(event.at)}
                    </span>
                  </div>
                  {event.note && <p className="mt-1 text-sm text-slate-700 wrap-anywhere">{event.note}</p>}
                  {event.payload != null && (
                    <details className="mt-1">
                      <summary className="cursor-pointer text-xs font-medium text-indigo-700">
                        {event.source === "user" || event.source === "system" ? "Details" : "Raw provider payload"}
                      </summary>
                      <pre className="mt-1 max-h-64 overflow-auto whitespace-pre-wrap rounded bg-slate-900 p-3 text-xs text-slate-100 wrap-anywhere">
                        {JSON.stringify(event.payload, null, 2)}
                      </pre>
                    </details>
                  )}
                </li>
              ))}
            </ol>
          </Card>
          <Card className="p-5">
            <h2 className="mb-3 text-sm font-semibold text-slate-900">Provider calls</h2>
            {payout.providerCalls.length === 0 ? (
              <p className="text-sm text-slate-600">Nothing has been sent to the provider yet.</p>
            ) : (
              <ul className="divide-y divide-slate-100 text-sm" data-testid="provider-calls">
                {payout.providerCalls.map((call) => (
                  <li key={call.id.toString()} className="py-2">
                    <div className="flex flex-wrap items-center gap-2">
                      <span className="font-mono text-xs font-semibold">{call.method}</span>
                      <span className="font-mono text-xs text-slate-700 wrap-anywhere">{call.operation}</span>
                      <span className={`text-xs ${call.httpStatus && call.httpStatus < 400 ? "text-emerald-700" : "text-rose-700"}`}>
                        {call.httpStatus ?? call.error ?? "no answer"}
                      </span>
                      <span className="text-xs text-slate-500">
                        {call.latencyMs} ms · {when(call.at)}
                      </span>
                    </div>
                    <details className="mt-1">
                      <summary className="cursor-pointer text-xs text-indigo-700">Request and response</summary>
                      <pre className="mt-1 max-h-64 overflow-auto whitespace-pre-wrap rounded bg-slate-900 p-3 text-xs text-slate-100 wrap-anywhere">
                        {JSON.stringify({ url: call.url, request: call.request, response: call.response, error: call.error }, null, 2)}
                      </pre>
                    </details>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </div>
        <div className="min-w-0 space-y-6">
          {/* Renders only for a payout in limbo or with resolution proposals; see components/outcomes. */}
          <ResolutionPanel payoutId={payout.id} />
          {/* The policy version it keeps, the level waiting and who approved at each (components/approvals). */}
          <ApprovalStanding payoutId={payout.id} status={payout.status} />
          {payout.status === "pending_approval" && (
            <Card className="p-5">
              <h2 className="mb-3 text-sm font-semibold text-slate-900">Decision</h2>
              {canDecide ? (
                <DecisionControls payoutId={payout.id} />
              ) : (
                <p className="text-sm text-slate-600 wrap-anywhere" data-testid="decision-blocked">
                  {decisionBlockedBecause}
                </p>
              )}
              {canEdit && (
                <div className="mt-4 border-t border-slate-100 pt-4">
                  <Link
                    href={`/payouts/${payout.id}/edit`}
                    className="inline-flex items-center rounded-md bg-white px-3.5 py-2 text-sm font-semibold text-slate-800 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50"
                    data-testid="edit-payout"
                  >
                    Edit payout
                  </Link>
                </div>
              )}
              {canWithdraw && <WithdrawButton payoutId={payout.id} />}
            </Card>
          )}
          <PayoutEdits edits={edits} />
          <MoneyCard payout={payout} />
          <Card className="p-5">
            <dl className="space-y-3 text-sm">
              <Item label="Status">
                <StatusBadge status={payout.status} />
                {payout.providerStatus && <span className="ml-2 text-xs text-slate-500">provider: {payout.providerStatus}</span>}
              </Item>
              {(payout.failureCode || payout.failureMessage || payout.status === "failed") && (
                <Item label="Failure">
                  <FailureReason payoutId={payout.id} status={payout.status} provider={payout.connection.provider} code={payout.failureCode} message={payout.failureMessage} />
                </Item>
              )}
              {payout.attentionSince && (
                <Item label="Needs attention">
                  <span className="text-orange-800">In flight since before {when(payout.attentionSince)}; the desk keeps asking the provider.</span>
                </Item>
              )}
              <Item label="Recipient">
                {payout.recipientName && <span className="block">{payout.recipientName}</span>}
                {payout.recipientPhone && <span className="block font-mono text-xs">+{payout.recipientPhone}</span>}
                {payout.recipientAccount && <span className="block font-mono text-xs">Account {payout.recipientAccount}</span>}
                {Object.entries((payout.recipientDetails as Record<string, string> | null) ?? {}).map(([k, v]) => (
                  <span key={k} className="block text-xs text-slate-600">
                    {k}: {v}
                  </span>
                ))}
              </Item>
              <Item label="Payout id">
                <span className="font-mono text-xs">{payout.id}</span>
              </Item>
              <Item label="Provider reference">{payout.providerReference ?? "—"}</Item>
              {/* Reconciliation: set when a run matched this payout with the provider's own record (components/reconciliation). */}
              {payout.reconciledAt && (
                <Item label="Reconciled at">
                  <span data-testid="reconciled-at">{when(payout.reconciledAt)}</span>
                </Item>
              )}
              <Item label="Network">{payout.channel ?? "Automatic"}</Item>
              <Item label="Description">{payout.description}</Item>
              <Item label="Created">
                {when(payout.createdAt)} by {payout.createdBy.name}
              </Item>
              {payout.approvals.map((a) => (
                <Item key={a.id} label={a.decision === "approved" ? "Approved" : "Rejected"}>
                  {when(a.at)} by {a.approver.name}
                  {a.voidedAt && <span className="block text-xs text-amber-800">Void: {a.voidReason ?? "the payout changed after it"}</span>}
                  {a.reason && <span className="block text-slate-700">“{a.reason}”</span>}
                </Item>
              ))}
            </dl>
          </Card>
          <Link href="/payouts" className="text-sm font-medium text-indigo-700 hover:underline">
            ← All payouts
          </Link>
        </div>
      </div>
    </>
  );
}

/** Providers that pay out in another currency than the payout's amount (PontisGlobe: USDT in, INR or PHP out). */
const CONVERTING_PROVIDERS = new Set(["pontis"]);

interface PayoutMoney {
  status: string;
  amountMinor: bigint;
  currency: string;
  feeMinor: bigint | null;
  feeCurrency: string | null;
  debitedMinor: bigint | null;
  debitedCurrency: string | null;
  destinationMinor: bigint | null;
  destinationCurrency: string | null;
  fxRate: string | null;
  connection: { provider: string };
}

/**
 * The payout's money as the provider booked it: the fee, what left the
 * balance and, for a conversion, what the recipient receives at which rate.
 * A figure the provider did not state says so ("Not reported"), never 0.
 */
function MoneyCard({ payout }: { payout: PayoutMoney }) {
  const inFlight = !isFinal(payout.status as PayoutStatus);
  const missing = inFlight ? `${NOT_REPORTED} yet` : NOT_REPORTED;
  const shown = (amountMinor: bigint | null, currency: string | null) => (amountMinor === null ? missing : reported(amountMinor, currency));
  const converts = payout.destinationMinor !== null || CONVERTING_PROVIDERS.has(payout.connection.provider);
  const conversionRate = rate(payout.fxRate, payout.currency, payout.destinationCurrency);
  return (
    <Card className="p-5">
      <h2 className="mb-3 text-sm font-semibold text-slate-900">Money</h2>
      <dl className="space-y-3 text-sm" data-testid="payout-money">
        <Item label="Amount">
          <span className="tabular">{money(payout.amountMinor, payout.currency)}</span>
        </Item>
        <Item label="Fee">
          <span className={`tabular ${payout.feeMinor === null ? "text-slate-500" : ""}`} data-testid="payout-fee">
            {shown(payout.feeMinor, payout.feeCurrency)}
          </span>
        </Item>
        <Item label="Debited">
          <span className={`tabular ${payout.debitedMinor === null ? "text-slate-500" : ""}`} data-testid="payout-debited">
            {shown(payout.debitedMinor, payout.debitedCurrency)}
          </span>
        </Item>
        {converts && (
          <Item label="Recipient receives">
            <span className={`tabular ${payout.destinationMinor === null ? "text-slate-500" : ""}`} data-testid="payout-destination">
              {shown(payout.destinationMinor, payout.destinationCurrency)}
            </span>
            {conversionRate && (
              <span className="block text-xs text-slate-600" data-testid="payout-rate">
                at {conversionRate}
              </span>
            )}
          </Item>
        )}
      </dl>
      {(payout.feeMinor === null || payout.debitedMinor === null || (converts && payout.destinationMinor === null)) && (
        <p className="mt-3 text-xs text-slate-500">
          {inFlight
            ? "The provider's figures are recorded once it reports the payout paid."
            : "Not reported: the provider's answers for this payout did not state it. The desk records only what the provider booked."}
        </p>
      )}
    </Card>
  );
}

/** The maker takes back a payout nobody has decided on yet. */
function WithdrawButton({ payoutId }: { payoutId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const withdraw = useMutation(trpc.payouts.cancel.mutationOptions({ onSuccess: () => queryClient.invalidateQueries() }));
  return (
    <div className="mt-4 border-t border-slate-100 pt-4">
      {withdraw.error && <ErrorNote>{messageOf(withdraw.error)}</ErrorNote>}
      <Button
        variant="secondary"
        busy={withdraw.isPending}
        onClick={() => {
          if (window.confirm("Withdraw this payout? It will be cancelled and never sent.")) withdraw.mutate({ id: payoutId });
        }}
      >
        Withdraw payout
      </Button>
    </div>
  );
}

function Item({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-0.5 text-slate-900 wrap-anywhere">{children}</dd>
    </div>
  );
}

interface EditView {
  eventId: string;
  at: Date;
  by: { name: string } | null;
  changes: Array<{ label: string; before: string | null; after: string | null }>;
  voidedApprovals: Array<{ approverName: string }>;
}

/**
 * The maker's edits while the payout waited for approval, each field before →
 * after, so an approver sees exactly what changed since anyone approved it.
 */
function PayoutEdits({ edits }: { edits: EditView[] }) {
  if (edits.length === 0) return null;
  const shown = (value: string | null) => value ?? "none";
  return (
    <Card className="p-5">
      <h2 className="mb-3 text-sm font-semibold text-slate-900">Edits by the maker</h2>
      <ol className="space-y-3 text-sm" data-testid="payout-edits">
        {edits.map((edit) => (
          <li key={edit.eventId} data-testid="payout-edit">
            <p className="text-slate-900">
              {edit.voidedApprovals.length > 0 ? "Edited after approval" : "Edited"} by {edit.by?.name ?? "the maker"}
              <span className="block text-xs text-slate-500">{when(edit.at)}</span>
            </p>
            <ul className="mt-1 space-y-0.5">
              {edit.changes.map((c) => (
                <li key={c.label} className="wrap-anywhere text-slate-700">
                  <span className="font-medium">{c.label}</span> <span className="text-slate-500 line-through">{shown(c.before)}</span> →{" "}
                  <span className="font-medium text-slate-900">{shown(c.after)}</span>
                </li>
              ))}
            </ul>
            {edit.voidedApprovals.length > 0 && (
              <p className="mt-1 text-xs text-amber-800">
                Voided the approval{edit.voidedApprovals.length === 1 ? "" : "s"} of {edit.voidedApprovals.map((v) => v.approverName).join(", ")}; it needs approving again.
              </p>
            )}
          </li>
        ))}
      </ol>
    </Card>
  );
}
