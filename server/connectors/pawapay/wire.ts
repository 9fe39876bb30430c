// pawaPay Merchant API v1 wire shapes, as the connector reads them.
// Parsing is lenient about extra fields (pawaPay adds fields over time) and
// strict about the few fields a decision is made on.
import { z } from "zod";

/** The payout request body. Field order matters only for humans and test vectors; it is kept as documented. */
export interface PayoutRequestBody {
  payoutId: string;
  amount: string;
  currency: string;
  correspondent: string;
  recipient: { type: "MSISDN"; address: { value: string } };
  customerTimestamp: string;
  statementDescription: string;
  country?: string;
  metadata?: Array<{ fieldName: string; fieldValue: string; isPII?: boolean }>;
}

export const INITIATION_STATUSES = ["ACCEPTED", "ENQUEUED", "REJECTED", "DUPLICATE_IGNORED"] as const;

/** Answer to POST /payouts (HTTP 200). */
export const initiationResponseSchema = z.looseObject({
  payoutId: z.string(),
  status: z.string(),
  created: z.string().optional(),
  rejectionReason: z
    .looseObject({
      rejectionCode: z.string().optional(),
      rejectionMessage: z.string().optional(),
    })
    .optional(),
});
export type InitiationResponse = z.infer<typeof initiationResponseSchema>;

/** Payout statuses v1 reports on GET /payouts/{id} and in callbacks. */
export const PAYOUT_STATUSES = ["ACCEPTED", "ENQUEUED", "SUBMITTED", "COMPLETED", "FAILED"] as const;

/** A payout as GET /payouts/{id} returns it (inside an array) and as a callback posts it. */
export const payoutObjectSchema = z.looseObject({
  payoutId: z.string(),
  status: z.string(),
  amount: z.string().optional(),
  currency: z.string().optional(),
  country: z.string().optional(),
  correspondent: z.string().optional(),
  created: z.string().optional(),
  receivedByRecipient: z.string().optional(),
  correspondentIds: z.record(z.string(), z.unknown()).optional(),
  failureReason: z
    .looseObject({
      failureCode: z.string().optional(),
      failureMessage: z.string().optional(),
    })
    .optional(),
});
export type PayoutObject = z.infer<typeof payoutObjectSchema>;

/** pawaPay's error body for 400/401/403/500. */
export const errorBodySchema = z.looseObject({
  errorId: z.string(),
  errorCode: z.union([z.number(), z.string()]),
  errorMessage: z.string(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** GET /v1/wallet-balances. */
export const walletBalancesSchema = z.looseObject({
  balances: z.array(
    z.looseObject({
      country: z.string(),
      balance: z.string(),
      currency: z.string(),
      mno: z.string().nullish(),
    }),
  ),
});

/** GET /public-key/http. */
export const publicKeysSchema = z.array(z.looseObject({ id: z.string(), key: z.string() }));

/** Human words for pawaPay's rejection and failure codes, for when pawaPay sends no message. */
export const CODE_DESCRIPTIONS: Record<string, string> = {
  BALANCE_INSUFFICIENT: "The pawaPay wallet does not have the funds for this payout",
  INVALID_CORRESPONDENT: "The mobile network (correspondent) is not supported",
  INVALID_RECIPIENT_FORMAT: "The recipient's phone number is not in a format pawaPay accepts",
  INVALID_AMOUNT: "The amount is not supported (check the decimals allowed by the network)",
  AMOUNT_TOO_SMALL: "The amount is below the network's minimum",
  AMOUNT_TOO_LARGE: "The amount is above the network's maximum",
  INVALID_CURRENCY: "The currency is not supported by the mobile network",
  INVALID_COUNTRY: "The country is not supported for this mobile network",
  PARAMETER_INVALID: "One or more fields are invalid",
  INVALID_INPUT: "pawaPay could not read the request",
  PAYOUTS_NOT_ALLOWED: "Payouts are not allowed for this merchant or network",
  CORRESPONDENT_TEMPORARILY_UNAVAILABLE: "The mobile network is temporarily unavailable",
  RECIPIENT_NOT_FOUND: "The recipient has no mobile money wallet on this network",
  RECIPIENT_NOT_ALLOWED_TO_RECEIVE: "The recipient's wallet cannot receive this payout (limits or status)",
  OTHER_ERROR: "The mobile network reported an error",
  MANUALLY_CANCELLED: "The enqueued payout was cancelled",
};
