// Failure reasons in words: every code each provider documents (PROVIDERS.md
// and the seed pages) and every code the connectors store gets a sentence
// and a next step with the code kept beside it; generic codes say so and
// point to the provider's message.
import { describe, expect, it } from "vitest";
import { CODE_DESCRIPTIONS } from "@/server/connectors/pawapay/wire";
import { DESK_REASONS, DOCUMENTED_CODES, explainFailure, failureInWords, type FailureProvider } from "./failure-reasons";

/** Codes as the providers document them and as the desk's connectors store them. */
const DOCUMENTED: Record<FailureProvider, { specific: string[]; generic: string[] }> = {
  pawapay: {
    // Final failure codes and initiation rejection codes (PROVIDERS.md 004 and the seed's rejectionCode enum), HTTP signature refusal.
    specific: [
      "BALANCE_INSUFFICIENT", "RECIPIENT_NOT_FOUND", "RECIPIENT_NOT_ALLOWED_TO_RECEIVE", "MANUALLY_CANCELLED",
      "INVALID_CORRESPONDENT", "INVALID_RECIPIENT_FORMAT", "INVALID_AMOUNT", "AMOUNT_TOO_SMALL", "AMOUNT_TOO_LARGE", "INVALID_CURRENCY",
      "INVALID_COUNTRY", "PARAMETER_INVALID", "INVALID_INPUT", "PAYOUTS_NOT_ALLOWED", "CORRESPONDENT_TEMPORARILY_UNAVAILABLE", "HTTP_SIGNATURE_ERROR",
    ],
    generic: ["OTHER_ERROR", "FAILED", "REJECTED", "HTTP_400", "HTTP_401", "HTTP_403"],
  },
  // Muda documents HTTP statuses and messages only; the connector names them.
  muda: { specific: ["INSUFFICIENT_BALANCE", "UNAUTHORIZED", "AUTH_REFUSED", "FORBIDDEN", "INVALID_REQUEST"], generic: ["FAILED"] },
  // Paytota's seed documents insufficient_funds; the sandbox's failures add invalid_account and transaction_failed.
  paytota: { specific: ["insufficient_funds", "invalid_account", "transaction_failed", "invalid_payout_type", "invalid_status"], generic: ["error", "HTTP_400", "HTTP_401"] },
  // Praxis: a bare error_code ("1" in its published Rejected example), rejected/declined without one, a positive status, cancelled.
  praxis: { specific: ["CANCELLED"], generic: ["1", "2", "REJECTED", "DECLINED", "PRAXIS_1", "PRAXIS_12"] },
  // PontisGlobe: every error code in PROVIDERS.md 003 (upper-cased by the connector) and its final statuses.
  pontis: {
    specific: [
      "VALIDATION_ERROR", "BAD_REQUEST", "UNAUTHORIZED", "INVALID_SIGNATURE", "JWT_EXPIRED", "FORBIDDEN", "IP_NOT_ALLOWED", "ACCOUNT_SUSPENDED",
      "NOT_FOUND", "QUOTE_USED", "WALLET_FROZEN", "INSUFFICIENT_FUNDS", "PER_PAYOUT_LIMIT_EXCEEDED", "DAILY_LIMIT_EXCEEDED", "MONTHLY_LIMIT_EXCEEDED",
      "QUOTE_EXPIRED", "RATE_MOVED", "SCREENING_FAILED", "RATE_LIMITED", "LOGIN_REFUSED", "CANCELED", "REVERSED",
    ],
    generic: ["FAILED", "REJECTED"],
  },
};

describe("failure reasons in words", () => {
  for (const [provider, { specific, generic }] of Object.entries(DOCUMENTED) as [FailureProvider, { specific: string[]; generic: string[] }][]) {
    it(`${provider}: each documented code has its own sentence and next step, the code kept beside it`, () => {
      const sentences = new Set<string>();
      for (const code of specific) {
        const e = explainFailure(provider, code, "the provider's words");
        expect(e, code).toMatchObject({ code, generic: false, source: "provider", message: "the provider's words" });
        expect(e!.sentence, code).not.toMatch(/no description|generic/i);
        expect(e!.nextStep.length, code).toBeGreaterThan(10);
        sentences.add(e!.sentence);
      }
      // A sentence of its own for each code, not one for everything.
      expect(sentences.size).toBe(specific.length);
    });

    it(`${provider}: a generic code says so plainly and points to the message stored, or says none was`, () => {
      for (const code of generic) {
        const withMessage = explainFailure(provider, code, "Recipient not found");
        expect(withMessage, code).toMatchObject({ code, generic: true, message: "Recipient not found" });
        expect(withMessage!.sentence, code).toContain("“Recipient not found”");
        expect(withMessage!.nextStep, code).toMatch(/message/);
        const bare = explainFailure(provider, code, null);
        expect(bare, code).toMatchObject({ code, generic: true, message: null });
        expect(bare!.sentence, code).toMatch(/no message/);
      }
    });
  }

  it("lists every code it describes per provider (the legend the exports can print)", () => {
    for (const [provider, { specific }] of Object.entries(DOCUMENTED) as [FailureProvider, { specific: string[] }][]) {
      for (const code of specific) expect(DOCUMENTED_CODES[provider], `${provider} ${code}`).toContain(code);
    }
  });

  it("covers every pawaPay code the connector itself describes", () => {
    for (const code of Object.keys(CODE_DESCRIPTIONS)) {
      expect(explainFailure("pawapay", code, null), code).toMatchObject({ code, generic: code === "OTHER_ERROR" });
    }
  });

  it("Praxis's bare \"1\" is named as Praxis's number, never presented as a reason", () => {
    const e = explainFailure("praxis", "1", "[TEST] Transaction status: rejected")!;
    expect(e.sentence).toBe("Praxis gave only its error code 1, a number it publishes no list for. Its message: “[TEST] Transaction status: rejected”.");
    expect(e.generic).toBe(true);
  });

  it("Muda's and PontisGlobe's repeated FAILED say the provider gave no reason, and quote its message", () => {
    expect(explainFailure("muda", "FAILED", "Muda reports the payout failed: Transaction declined")!.sentence).toMatch(/^Muda reports only that the payout FAILED.*“Muda reports the payout failed: Transaction declined”/);
    expect(explainFailure("pontis", "FAILED", "Insufficient funds")!.sentence).toMatch(/^PontisGlobe reports only that the payout failed, without a reason code\. Its message: “Insufficient funds”/);
  });

  it("the desk's own codes read the same whatever the provider", () => {
    for (const provider of Object.keys(DOCUMENTED)) {
      for (const code of Object.keys(DESK_REASONS)) {
        expect(explainFailure(provider, code, "Not sent to pawaPay: amount: too small"), `${provider} ${code}`).toMatchObject({ code, source: "desk", generic: false, sentence: DESK_REASONS[code]!.sentence });
      }
    }
  });

  it("a code the desk does not know is kept and never guessed; nothing stored gives nothing", () => {
    const e = explainFailure("paytota", "brand_new_code", "Something new")!;
    expect(e).toMatchObject({ code: "brand_new_code", generic: true });
    expect(e.sentence).toBe("Paytota gave the code brand_new_code, which the desk has no description for. Its message: “Something new”.");
    expect(explainFailure("pawapay", null, null)).toBeNull();
    expect(explainFailure("pawapay", "  ", "")).toBeNull();
    expect(explainFailure("muda", null, "Muda said no")).toMatchObject({ code: null, generic: true, sentence: "Muda gave no failure code. Its message: “Muda said no”." });
  });

  it("gives one line for a list cell or an export column, the code beside the words", () => {
    expect(failureInWords("pawapay", "RECIPIENT_NOT_FOUND", "The recipient's wallet was not found")).toBe("The recipient has no mobile-money wallet on this network. (RECIPIENT_NOT_FOUND)");
    expect(failureInWords("pawapay", null, null)).toBeNull();
  });
});
