// Maker-checker: who may decide on a payout, and when it counts as approved.

export interface ApprovalPolicy {
  /** Distinct approvers needed before a payout is approved. */
  requiredApprovals: number;
}

export const DEFAULT_APPROVAL_POLICY: ApprovalPolicy = { requiredApprovals: 1 };

export type ApprovalRefusal =
  | { rule: "approval.own_payout"; message: string }
  | { rule: "approval.already_decided"; message: string }
  | { rule: "approval.not_pending"; message: string };

export interface ApprovalCheckInput {
  approverId: string;
  makerId: string;
  status: string;
  priorApproverIds: readonly string[];
}

/** Why this approver may not decide on this payout, or null when they may. */
export function approvalRefusal(input: ApprovalCheckInput): ApprovalRefusal | null {
  if (input.approverId === input.makerId) {
    return { rule: "approval.own_payout", message: "You created this payout; another approver must decide on it" };
  }
  if (input.status !== "pending_approval") {
    return { rule: "approval.not_pending", message: `This payout is ${input.status}, not waiting for approval` };
  }
  if (input.priorApproverIds.includes(input.approverId)) {
    return { rule: "approval.already_decided", message: "You have already decided on this payout" };
  }
  return null;
}

/** True once the distinct approvals meet the policy. */
export function approvalsComplete(policy: ApprovalPolicy, approverIds: readonly string[]): boolean {
  return new Set(approverIds).size >= policy.requiredApprovals;
}
