"use client";
// Settings → Approval policy: the active version (what new payouts are
// created under), an open proposal with its diff and the decisions on it
// (a different admin approves or rejects; the proposer may withdraw), the
// form to propose a change, the approval groups, and the history. Everyone
// signed in may read it; the server decides who may do what (maker-checker).
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { useStepUp } from "@/components/auth/step-up";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";
import { controlClass } from "@/components/ui/field";
import { when } from "@/components/payouts/format";
import { describeHours, describeLevels, describeMatch, type ApprovalPolicy, type PolicyNames } from "@/server/domain/approval-policy";
import { ProposalForm } from "./approval-policy-form";
import { ApprovalGroups } from "./approval-policy-groups";

type Overview = inferRouterOutputs<AppRouter>["approvalPolicy"]["overview"];
type Version = Overview["history"][number];

const STATUS_WORDS: Record<string, string> = {
  proposed: "Waiting for a second admin",
  active: "Active",
  superseded: "Superseded",
  rejected: "Rejected",
  withdrawn: "Withdrawn",
};

/** The whole section, heading included, so the Settings page adds it in one line. */
export function ApprovalPolicySettings({ canEdit }: { canEdit: boolean }) {
  return (
    <section aria-labelledby="settings-approval-policy" className="space-y-3">
      <div>
        <h2 id="settings-approval-policy" className="text-base font-semibold text-slate-900">
          Approval policy
        </h2>
        <p className="text-sm text-slate-600">
          Who must approve which payouts, in which order, and for how long. A change is proposed by one admin and applies once a different admin approves it.
        </p>
      </div>
      <PolicyBody canEdit={canEdit} />
    </section>
  );
}

/** `canEdit`: the page's guess (admins) for the groups' controls; the server decides every action itself. */
function PolicyBody({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const overview = useQuery(trpc.approvalPolicy.overview.queryOptions());
  const [proposing, setProposing] = useState(false);
  if (overview.isPending) return <Loading label="Loading the approval policy…" />;
  if (overview.isError) return <ErrorNote>{messageOf(overview.error)}</ErrorNote>;
  const data = overview.data;
  const names: PolicyNames = {
    connection: (id) => data.connections.find((c) => c.id === id)?.name,
    group: (id) => data.groupNames[id],
  };

  return (
    <div className="space-y-4">
      {data.active && (
        <Card className="p-5">
          <div className="mb-3 flex flex-wrap items-start justify-between gap-3">
            <div>
              <h3 className="text-sm font-semibold text-slate-900" data-testid="active-policy">
                Version {data.active.version} is active
              </h3>
              <p className="text-xs text-slate-600">
                {data.active.proposedBy ? `Proposed by ${data.active.proposedBy.name}, ` : "The desk's first policy, "}
                {data.active.decidedBy ? `approved by ${data.active.decidedBy.name} ` : "in force "}
                {data.active.decidedAt ? when(data.active.decidedAt) : ""}. New payouts are created under it; payouts already waiting keep their own version.
              </p>
            </div>
            {data.canPropose && !proposing && (
              <Button variant="secondary" onClick={() => setProposing(true)} data-testid="propose-change">
                Propose a change…
              </Button>
            )}
          </div>
          <PolicyView policy={data.active.policy} names={names} />
        </Card>
      )}

      {data.proposal && <ProposalCard proposal={data.proposal} names={names} canDecide={data.canDecideProposal} canWithdraw={data.canWithdrawProposal} />}

      {proposing && data.active && (
        <Card className="p-5">
          <ProposalForm active={data.active.policy} activeVersion={data.active.version} connections={data.connections} groups={data.groups} onClose={() => setProposing(false)} />
        </Card>
      )}

      <ApprovalGroups groups={data.groups} canEdit={canEdit} />

      <Card className="p-5">
        <details>
          <summary className="cursor-pointer text-sm font-semibold text-slate-900">History ({data.history.length} versions)</summary>
          <ul className="mt-3 divide-y divide-slate-100 text-sm">
            {data.history.map((v) => (
              <li key={v.version} className="py-2">
                <p className="text-slate-900">
                  <span className="font-medium">Version {v.version}</span> · {STATUS_WORDS[v.status] ?? v.status}
                  {v.pendingPayouts > 0 && ` · ${v.pendingPayouts} payout${v.pendingPayouts === 1 ? "" : "s"} waiting under it`}
                </p>
                <p className="text-xs text-slate-600">
                  {v.proposedBy ? `Proposed by ${v.proposedBy.name} ${when(v.proposedAt)}` : "Seeded by the desk"}
                  {v.decidedBy && v.decidedAt && ` · ${v.status === "withdrawn" ? "withdrawn" : "decided"} by ${v.decidedBy.name} ${when(v.decidedAt)}`}
                  {v.decisionNote && ` · “${v.decisionNote}”`}
                </p>
                <Changes changes={v.changes} />
              </li>
            ))}
          </ul>
        </details>
      </Card>
    </div>
  );
}

/** A policy read-only: the rules in order, the default rule, the window. */
export function PolicyView({ policy, names }: { policy: ApprovalPolicy; names: PolicyNames }) {
  return (
    <div className="space-y-3 text-sm">
      {policy.rules.length > 0 ? (
        <ol className="space-y-2">
          {policy.rules.map((rule, i) => (
            <li key={rule.name} className="rounded-md bg-slate-50 px-3 py-2">
              <p className="font-medium text-slate-900 wrap-anywhere">
                {i + 1}. {rule.name}
              </p>
              <p className="text-slate-700 wrap-anywhere">
                <span className="text-slate-500">Applies to</span> {describeMatch(rule, names)}
              </p>
              <p className="text-slate-700">
                <span className="text-slate-500">Needs</span> {describeLevels(rule.levels, names.group)}
                {!rule.allowOverBalance && <span className="ml-1 text-rose-800">· never past the available balance</span>}
              </p>
            </li>
          ))}
        </ol>
      ) : (
        <p className="text-slate-600">No rules: every payout falls under the default rule.</p>
      )}
      <p className="text-slate-700">
        <span className="font-medium text-slate-900">Default rule:</span> {describeLevels(policy.defaultRule.levels, names.group)}
        {!policy.defaultRule.allowOverBalance && <span className="ml-1 text-rose-800">· never past the available balance</span>}
      </p>
      <p className="text-slate-700">
        <span className="font-medium text-slate-900">Approval window:</span> {describeHours(policy.approvalWindowHours)}; a payout not fully approved by then expires.
      </p>
    </div>
  );
}

function Changes({ changes }: { changes: Version["changes"] }) {
  if (changes.length === 0) return null;
  return (
    <ul className="mt-1 space-y-1 text-xs" data-testid="policy-changes">
      {changes.map((c, i) => (
        <li key={i} className="wrap-anywhere">
          <span className="font-medium text-slate-800">{c.subject}:</span>{" "}
          {c.before === null ? (
            <span className="text-emerald-800">added, {c.after}</span>
          ) : c.after === null ? (
            <span className="text-rose-800">removed (was {c.before})</span>
          ) : (
            <>
              <span className="text-rose-800 line-through">{c.before}</span> → <span className="text-emerald-800">{c.after}</span>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

function ProposalCard({ proposal, names, canDecide, canWithdraw }: { proposal: Version; names: PolicyNames; canDecide: boolean; canWithdraw: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const stepUp = useStepUp();
  const [note, setNote] = useState("");
  const onSuccess = () => queryClient.invalidateQueries({ queryKey: trpc.approvalPolicy.pathKey() });
  const approve = useMutation(trpc.approvalPolicy.approve.mutationOptions({ onSuccess }));
  const reject = useMutation(trpc.approvalPolicy.reject.mutationOptions({ onSuccess }));
  const withdraw = useMutation(trpc.approvalPolicy.withdraw.mutationOptions({ onSuccess }));
  const error = approve.error ?? reject.error ?? withdraw.error;
  const noteError = fieldErrorsOf(reject.error).note ?? fieldErrorsOf(approve.error).note;

  return (
    <Card className="p-5 ring-2 ring-amber-300">
      <section aria-labelledby="proposal-heading" className="space-y-3" data-testid="policy-proposal">
        {stepUp.dialog}
        <div>
          <h3 id="proposal-heading" className="text-sm font-semibold text-slate-900">
            Version {proposal.version} is proposed: waiting for a second admin
          </h3>
          <p className="text-xs text-slate-600">
            Proposed by {proposal.proposedBy?.name ?? "an admin"} {when(proposal.proposedAt)}
            {proposal.baseVersion ? `, as a change to version ${proposal.baseVersion}` : ""}.
          </p>
        </div>
        <div>
          <h4 className="text-xs font-semibold uppercase tracking-wide text-slate-500">What changes</h4>
          <Changes changes={proposal.changes} />
        </div>
        <details>
          <summary className="cursor-pointer text-xs font-medium text-indigo-700">The whole proposed policy</summary>
          <div className="mt-2">
            <PolicyView policy={proposal.policy} names={names} />
          </div>
        </details>
        {error && !noteError && <ErrorNote>{messageOf(error)}</ErrorNote>}
        {canDecide && (
          <div className="space-y-2">
            <label htmlFor="proposal-note" className="block text-sm font-medium text-slate-800">
              Note (required to reject)
            </label>
            <textarea
              id="proposal-note"
              className={controlClass}
              rows={2}
              value={note}
              onChange={(e) => setNote(e.target.value)}
              aria-invalid={Boolean(noteError)}
              aria-describedby={noteError ? "proposal-note-error" : undefined}
            />
            {noteError && (
              <p id="proposal-note-error" className="text-sm text-rose-700">
                {noteError}
              </p>
            )}
            <div className="flex flex-wrap gap-2">
              <Button
                onClick={() => void stepUp.run(() => approve.mutateAsync({ version: proposal.version, note: note.trim() || null })).catch(() => undefined)}
                busy={approve.isPending}
                data-testid="approve-policy"
              >
                Approve version {proposal.version}
              </Button>
              <Button variant="danger" onClick={() => reject.mutate({ version: proposal.version, note })} busy={reject.isPending}>
                Reject
              </Button>
            </div>
          </div>
        )}
        {canWithdraw && (
          <div className="space-y-1">
            <p className="text-sm text-slate-600">You proposed this version; a different admin must approve it.</p>
            <Button variant="secondary" onClick={() => withdraw.mutate({ version: proposal.version })} busy={withdraw.isPending}>
              Withdraw my proposal
            </Button>
          </div>
        )}
        {!canDecide && !canWithdraw && <p className="text-sm text-slate-600">Only an admin other than the proposer may approve or reject it.</p>}
      </section>
    </Card>
  );
}
