// The emulated pawaPay platform's view of mobile money operators: what a
// merchant's active configuration would say (currency, decimals, payout
// limits) and the sandbox's magic numbers. Kept apart from the connector's
// table on purpose: the two sides of the wire are written independently, so
// a mistake in one is caught by tests against the other.

export interface EmulatedMmo {
  correspondent: string;
  operator: string;
  country: string;
  currency: string;
  /** Decimal places accepted in `amount`. */
  decimals: number;
  dialCode: string;
  msisdnLength: number;
  prefixes: string[];
  /** Payout limits in major units, as /active-conf writes them. */
  minPayout: string;
  maxPayout: string;
}

export const EMULATED_MMOS: readonly EmulatedMmo[] = [
  mmo("MTN_MOMO_ZMB", "MTN", "ZMB", "ZMW", 2, "260", 12, ["26076", "26096"], "1", "50000"),
  mmo("AIRTEL_OAPI_ZMB", "AIRTEL", "ZMB", "ZMW", 2, "260", 12, ["26077", "26097"], "1", "50000"),
  mmo("ZAMTEL_ZMB", "ZAMTEL", "ZMB", "ZMW", 2, "260", 12, ["26095"], "1", "20000"),
  mmo("MTN_MOMO_UGA", "MTN", "UGA", "UGX", 0, "256", 12, ["25676", "25677", "25678", "25639"], "500", "5000000"),
  mmo("AIRTEL_OAPI_UGA", "AIRTEL", "UGA", "UGX", 0, "256", 12, ["25670", "25674", "25675", "25620"], "500", "5000000"),
  mmo("MTN_MOMO_GHA", "MTN", "GHA", "GHS", 2, "233", 12, ["23324", "23353", "23354", "23355", "23359"], "1", "10000"),
  mmo("MPESA_KEN", "MPESA", "KEN", "KES", 0, "254", 12, ["25470", "25471", "25472", "25479", "25411"], "10", "250000"),
];

function mmo(
  correspondent: string,
  operator: string,
  country: string,
  currency: string,
  decimals: number,
  dialCode: string,
  msisdnLength: number,
  prefixes: string[],
  minPayout: string,
  maxPayout: string,
): EmulatedMmo {
  return { correspondent, operator, country, currency, decimals, dialCode, msisdnLength, prefixes, minPayout, maxPayout };
}

export type SandboxOutcome =
  | { final: "COMPLETED" }
  | { final: "FAILED"; failureCode: string; failureMessage: string }
  /** Stays SUBMITTED and never calls back (pawaPay's "stuck" test number). */
  | { final: "SUBMITTED" };

const NOT_FOUND: SandboxOutcome = { final: "FAILED", failureCode: "RECIPIENT_NOT_FOUND", failureMessage: "The recipient's wallet was not found" };
const OTHER_ERROR: SandboxOutcome = { final: "FAILED", failureCode: "OTHER_ERROR", failureMessage: "The operator reported an error" };

/** pawaPay sandbox test numbers (PROVIDERS.md); any other valid number completes. */
const SANDBOX_NUMBERS: Record<string, Record<string, SandboxOutcome>> = {
  MTN_MOMO_ZMB: {
    "260763456789": { final: "COMPLETED" },
    "260763456079": NOT_FOUND,
    "260763456119": OTHER_ERROR,
    "260763456129": { final: "SUBMITTED" },
  },
  AIRTEL_OAPI_ZMB: {
    "260973456789": { final: "COMPLETED" },
    "260973456089": NOT_FOUND,
    "260973456119": OTHER_ERROR,
    "260973456129": { final: "SUBMITTED" },
  },
};

export function sandboxOutcome(correspondent: string, msisdn: string): SandboxOutcome {
  return SANDBOX_NUMBERS[correspondent]?.[msisdn] ?? { final: "COMPLETED" };
}
