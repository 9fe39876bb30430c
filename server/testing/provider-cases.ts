// Inputs that send each built-in emulator's payouts to success and to a
// failure, by its documented sandbox rules: shared by the provider tests, the
// pipeline bench and the fault drill.
import type { ProviderKind } from "@/server/connectors/types";
import type { CreatePayoutInput } from "@/server/services/payouts";

export type PayoutFields = Omit<CreatePayoutInput, "id" | "connectionId">;

interface ProviderCase {
  provider: ProviderKind;
  success: PayoutFields;
  failure: PayoutFields & { failureCode: string | RegExp };
}

/** Inputs that each emulator's documented sandbox rules send to success and to a failure. */
export const PROVIDER_CASES: ProviderCase[] = [
  {
    provider: "pawapay",
    success: { amount: "15", currency: "ZMW", recipientPhone: "260763456789", description: "Invoice 1234" },
    failure: { amount: "15", currency: "ZMW", recipientPhone: "260763456079", description: "Invoice 1235", failureCode: "RECIPIENT_NOT_FOUND" },
  },
  {
    provider: "muda",
    success: { amount: "5000", currency: "UGX", recipientPhone: "256772123456", recipientName: "Okello J", description: "Invoice 77" },
    failure: { amount: "5222", currency: "UGX", recipientPhone: "256772123456", recipientName: "Okello J", description: "Invoice 78", failureCode: /.+/ },
  },
  {
    provider: "paytota",
    // The emulator's rule: the phone's last three digits (…222 fails with invalid_account, others succeed).
    success: { amount: "500", currency: "UGX", recipientPhone: "256772123456", description: "Payout 31" },
    failure: { amount: "500", currency: "UGX", recipientPhone: "256772123222", description: "Payout 32", failureCode: /.+/ },
  },
  {
    provider: "pontis",
    // PontisGlobe's sandbox rule: the trailing cents of the USDT amount (.00 completes, .02 fails "Recipient not found").
    success: {
      amount: "25.00",
      currency: "USDT",
      channel: "IN-imps",
      recipientName: "Asha Rao",
      recipientAccount: "123456789012",
      recipientDetails: { ifsc: "HDFC0001234" },
      description: "Supplier 9",
    },
    failure: {
      amount: "25.02",
      currency: "USDT",
      channel: "IN-imps",
      recipientName: "Asha Rao",
      recipientAccount: "123456789012",
      recipientDetails: { ifsc: "HDFC0001234" },
      description: "Supplier 10",
      failureCode: /.+/,
    },
  },
  {
    provider: "praxis",
    // The emulator's rule: the wallet number's last two digits pick the outcome (…10 approves after a notification, …01 rejects).
    success: { amount: "10.00", currency: "USD", recipientPhone: "256772123410", description: "Refund 1" },
    failure: { amount: "10.00", currency: "USD", recipientPhone: "256772123401", description: "Refund 2", failureCode: /.+/ },
  },
];
