import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";

type Outputs = inferRouterOutputs<AppRouter>;

/** One payout as the person deciding sees it: where it stands under its policy version, the money, likely duplicates (server/services/approvals.ts). */
export type ApprovalCard = Outputs["approvals"]["card"];
export type BatchPreview = Outputs["approvals"]["previewBatch"];
export type BatchResult = Outputs["approvals"]["approveMany"];
/** A bulk file's batch in the queue (server/services/batch-approvals.ts). */
export type QueueBatch = Outputs["approvals"]["queue"]["batches"][number];
export type BatchDecisionOutcome = Outputs["approvals"]["approveBatch"];

/** What the approver ticked for one payout: past the balance, and the likely duplicates (by id) they looked at. */
export interface AckState {
  overBalance: boolean;
  duplicates: string[];
}

export const NO_ACK: AckState = { overBalance: false, duplicates: [] };

/** Whether the ticks cover everything this card asks to be acknowledged. */
export function acknowledged(card: Pick<ApprovalCard, "needs">, ack: AckState): boolean {
  return (!card.needs.overBalance || ack.overBalance) && card.needs.duplicates.every((id) => ack.duplicates.includes(id));
}

export function needsAcknowledgement(card: Pick<ApprovalCard, "needs">): boolean {
  return card.needs.overBalance || card.needs.duplicates.length > 0;
}
