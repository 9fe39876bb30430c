// Failure reasons in words (issue 10). A failed payout stores the code its
// provider gave (Payout.failureCode, as the connector recorded it) and the
// provider's own message (Payout.failureMessage). This maps each provider's
// codes, as documented in /work/shared/PROVIDERS.md and the providers' seed
// pages, and the few codes the desk sets itself, to a plain sentence and a
// next step, keeping the provider's code beside them.
//
// Where a provider gives only a generic code (Praxis's numeric error_code
// such as "1", Muda's and PontisGlobe's "FAILED", pawaPay's OTHER_ERROR), the
// explanation says so plainly and points to the provider's message, if one is
// stored, rather than guessing a cause.
//
// Pure: no database, safe in the browser, the payouts list and exports.

export type FailureProvider = "pawapay" | "muda" | "paytota" | "praxis" | "pontis";

export interface FailureReason {
  /** A plain sentence saying what happened. */
  sentence: string;
  /** What the finance team can do next. */
  nextStep: string;
}

export interface FailureExplanation extends FailureReason {
  /** The provider's own code as stored ("1", "FAILED", "RECIPIENT_NOT_FOUND"), or null when none was given. */
  code: string | null;
  /** True when the code says only that it failed, not why. */
  generic: boolean;
  /** The message stored with the failure (the provider's, or the desk's account of it), if any. */
  message: string | null;
  /** Whose code it is: the provider's, or one the desk sets itself (NOT_SENT, RESOLVED_BY_DESK). */
  source: "provider" | "desk";
}

export const PROVIDER_NAMES: Record<FailureProvider, string> = {
  pawapay: "pawaPay",
  muda: "Muda",
  paytota: "Paytota",
  praxis: "Praxis",
  pontis: "PontisGlobe",
};

const r = (sentence: string, nextStep: string): FailureReason => ({ sentence, nextStep });

const FIX_AND_COPY = "Correct the payout's details and send it again with Copy as new payout.";
const TOP_UP = "Top up the provider wallet (see Balances), then send it again with Copy as new payout.";
const CHECK_CREDENTIALS = "An admin checks the connection's credentials (Connections → edit), then the payout can be sent again with Copy as new payout.";
const ASK_RECIPIENT = "Confirm the recipient's number and network with them, then send it again with Copy as new payout.";
const RETRY_LATER = "Nothing was paid. Send it again later with Copy as new payout.";
const LIMITS = "Split the amount, wait for the limit to reset, or ask the provider to raise it; then send it again with Copy as new payout.";

/**
 * pawaPay v1: failure codes of a FAILED payout (failureReason.failureCode) and
 * rejection codes of a REJECTED initiation (rejectionReason.rejectionCode),
 * plus the codes its error answers start with.
 */
export const PAWAPAY_REASONS: Record<string, FailureReason> = {
  // Final failure codes
  BALANCE_INSUFFICIENT: r("The pawaPay wallet did not hold enough money for this payout.", TOP_UP),
  RECIPIENT_NOT_FOUND: r("The recipient has no mobile-money wallet on this network.", ASK_RECIPIENT),
  RECIPIENT_NOT_ALLOWED_TO_RECEIVE: r("The recipient's wallet cannot receive this payout (its limits or its status at the operator).", "Ask the recipient to check their wallet with their operator, or pay a smaller amount or another wallet."),
  MANUALLY_CANCELLED: r("The payout waited in pawaPay's queue and was cancelled there.", "Nothing was paid. Ask who cancelled it at pawaPay; send it again with Copy as new payout if it is still owed."),
  // Rejection codes
  INVALID_CORRESPONDENT: r("pawaPay does not support the chosen mobile network (correspondent) for this account.", "Choose the recipient's network again, or ask pawaPay to enable it, then send it with Copy as new payout."),
  INVALID_RECIPIENT_FORMAT: r("The recipient's phone number is not in a format pawaPay accepts.", `Check the number (country code, no leading 0). ${FIX_AND_COPY}`),
  INVALID_AMOUNT: r("pawaPay does not accept this amount (usually too many decimals for the network).", `Use whole units or the decimals the network allows. ${FIX_AND_COPY}`),
  AMOUNT_TOO_SMALL: r("The amount is below the mobile network's minimum.", `Pay at least the network's minimum. ${FIX_AND_COPY}`),
  AMOUNT_TOO_LARGE: r("The amount is above the mobile network's maximum.", "Split it into smaller payouts with Copy as new payout."),
  INVALID_CURRENCY: r("The mobile network does not pay in this currency.", FIX_AND_COPY),
  INVALID_COUNTRY: r("This mobile network does not operate in the given country.", FIX_AND_COPY),
  PARAMETER_INVALID: r("pawaPay found one or more of the payout's fields invalid.", `Read pawaPay's message below for the field. ${FIX_AND_COPY}`),
  INVALID_INPUT: r("pawaPay could not read the request the desk sent.", "Nothing was paid. Report it to whoever runs the desk, with the payout id."),
  PAYOUTS_NOT_ALLOWED: r("Payouts are not enabled for this account or this mobile network at pawaPay.", "Ask pawaPay to enable payouts on this network; nothing was paid."),
  CORRESPONDENT_TEMPORARILY_UNAVAILABLE: r("The mobile network was temporarily unavailable, so pawaPay did not take the payout.", RETRY_LATER),
  // Error answers
  HTTP_SIGNATURE_ERROR: r("pawaPay refused the request's signature.", "An admin checks the signing key registered with pawaPay (Connections → edit); nothing was paid."),
};
/** pawaPay codes that say only that it failed. */
const PAWAPAY_GENERIC = new Set(["OTHER_ERROR", "FAILED", "REJECTED", "HTTP_400", "HTTP_401", "HTTP_403"]);

/** Muda: codes the desk's connector gives (Muda's answers carry an HTTP status and a message, not a reason code). */
export const MUDA_REASONS: Record<string, FailureReason> = {
  INSUFFICIENT_BALANCE: r("The Muda wallet did not hold enough money for this payout (Muda answered “Insufficient balance”).", TOP_UP),
  UNAUTHORIZED: r("Muda refused the request as unauthenticated, so nothing was created.", CHECK_CREDENTIALS),
  AUTH_REFUSED: r("Muda refused to issue an access token for the connection's keys, so the payout was not sent.", CHECK_CREDENTIALS),
  FORBIDDEN: r("Muda refused the request: the account may not make this payout (HTTP 403).", "Ask Muda why the account is refused; nothing was paid."),
  INVALID_REQUEST: r("Muda refused the payout's fields (HTTP 400 or 422).", `Read Muda's message below for the field. ${FIX_AND_COPY}`),
};
const MUDA_GENERIC = new Set(["FAILED"]);

/** Paytota: error.code values of a refused or failed payout. */
export const PAYTOTA_REASONS: Record<string, FailureReason> = {
  insufficient_funds: r("The Paytota account did not hold enough money for this payout.", TOP_UP),
  invalid_account: r("The recipient's mobile-money account is not valid at the operator.", ASK_RECIPIENT),
  transaction_failed: r("The mobile-money operator declined the transaction.", "Ask the recipient to check their wallet, then send it again with Copy as new payout."),
  invalid_payout_type: r("Paytota refused how the payout was to be executed (payout type).", "Nothing was paid. Report it to whoever runs the desk, with the payout id."),
  invalid_status: r("Paytota would not execute the payout in the state it was in.", "Nothing was paid by this attempt. Check the payout at Paytota before sending it again."),
};
const PAYTOTA_GENERIC = new Set(["error", "failed", "HTTP_400", "HTTP_401", "HTTP_403", "HTTP_422"]);

/** Praxis: transaction statuses the desk keeps as the code when Praxis gives no error_code. */
export const PRAXIS_REASONS: Record<string, FailureReason> = {
  CANCELLED: r("The payout was cancelled at Praxis, by an agent or in the merchant dashboard; nothing was paid.", "Ask who cancelled it at Praxis; send it again with Copy as new payout if it is still owed."),
};
/** Praxis's error_code is a bare number it does not publish a list for; "rejected"/"declined" without one, and a positive status, say no more. */
const PRAXIS_GENERIC_WORDS = new Set(["REJECTED", "DECLINED"]);

/** PontisGlobe: error codes (upper-cased by the connector) and final statuses. */
export const PONTIS_REASONS: Record<string, FailureReason> = {
  CANCELED: r("The payout was canceled at PontisGlobe; nothing was paid.", "Ask who canceled it at PontisGlobe; send it again with Copy as new payout if it is still owed."),
  REVERSED: r("PontisGlobe paid the payout and then reversed it: the money came back to the wallet.", "Check with the recipient and PontisGlobe why it was reversed before paying again."),
  VALIDATION_ERROR: r("PontisGlobe refused the payout's fields.", `Read PontisGlobe's message below for the field. ${FIX_AND_COPY}`),
  BAD_REQUEST: r("PontisGlobe could not accept the request the desk sent.", `Read PontisGlobe's message below. ${FIX_AND_COPY}`),
  UNAUTHORIZED: r("PontisGlobe refused the connection's session.", CHECK_CREDENTIALS),
  INVALID_SIGNATURE: r("PontisGlobe refused the request's signature.", "An admin checks the connection's HMAC key (Connections → edit); nothing was paid."),
  JWT_EXPIRED: r("PontisGlobe's session expired and signing in again did not help.", CHECK_CREDENTIALS),
  LOGIN_REFUSED: r("PontisGlobe refused to sign the connection in, so the payout was not sent.", CHECK_CREDENTIALS),
  FORBIDDEN: r("PontisGlobe refused the account: KYC may be required.", "Complete KYC with PontisGlobe; nothing was paid."),
  IP_NOT_ALLOWED: r("PontisGlobe refused the desk's IP address.", "Ask PontisGlobe to allow the desk's server address; nothing was paid."),
  ACCOUNT_SUSPENDED: r("The PontisGlobe account is suspended.", "Contact PontisGlobe; nothing was paid."),
  NOT_FOUND: r("PontisGlobe does not know the transaction.", "Nothing was paid by this attempt; send it again with Copy as new payout if it is still owed."),
  QUOTE_USED: r("The exchange-rate quote had already been used.", RETRY_LATER),
  WALLET_FROZEN: r("The PontisGlobe USDT wallet is frozen.", "Contact PontisGlobe; nothing was paid."),
  INSUFFICIENT_FUNDS: r("The PontisGlobe USDT wallet did not hold enough for this payout.", TOP_UP),
  PER_PAYOUT_LIMIT_EXCEEDED: r("The amount is above PontisGlobe's limit for one payout.", LIMITS),
  DAILY_LIMIT_EXCEEDED: r("Today's payouts would pass PontisGlobe's daily limit for the account.", LIMITS),
  MONTHLY_LIMIT_EXCEEDED: r("This month's payouts would pass PontisGlobe's monthly limit for the account.", LIMITS),
  QUOTE_EXPIRED: r("The exchange-rate quote expired before the payout was accepted.", RETRY_LATER),
  RATE_MOVED: r("The exchange rate moved more than 0.5% since the quote, so PontisGlobe did not take the payout.", RETRY_LATER),
  SCREENING_FAILED: r("The recipient failed PontisGlobe's sanctions screening.", "Do not resend. Refer it to compliance."),
  RATE_LIMITED: r("PontisGlobe refused the request: too many requests.", RETRY_LATER),
};
const PONTIS_GENERIC = new Set(["FAILED", "REJECTED", "ERROR"]);

/** Codes the desk sets itself, whatever the provider. */
export const DESK_REASONS: Record<string, FailureReason> = {
  NOT_SENT: r("The desk did not send the payout: its details do not meet the provider's rules (the message says which).", FIX_AND_COPY),
  RESOLVED_BY_DESK: r("Two people on the desk marked this payout failed after the provider confirmed it will not pay.", "Read the note on the resolution below; send it again with Copy as new payout if it is still owed."),
};

/** Every documented code per provider, for tests and for the exports' legend. */
export const DOCUMENTED_CODES: Record<FailureProvider, readonly string[]> = {
  pawapay: [...Object.keys(PAWAPAY_REASONS), "OTHER_ERROR"],
  muda: [...Object.keys(MUDA_REASONS), "FAILED"],
  paytota: Object.keys(PAYTOTA_REASONS),
  praxis: [...Object.keys(PRAXIS_REASONS), "REJECTED", "DECLINED", "1"],
  pontis: [...Object.keys(PONTIS_REASONS), "FAILED", "REJECTED"],
};

function isProvider(value: string): value is FailureProvider {
  return value in PROVIDER_NAMES;
}

function clean(value: string | null | undefined): string | null {
  const v = value?.trim();
  return v ? v : null;
}

/**
 * A failed payout's reason in words, for the payout page, the list and the
 * exports. `provider` is the connection's provider (Connection.provider);
 * `code` and `message` are Payout.failureCode and Payout.failureMessage as
 * stored. Null when the payout carries neither.
 */
export function explainFailure(provider: string, code: string | null | undefined, message: string | null | undefined): FailureExplanation | null {
  const c = clean(code);
  const m = clean(message);
  if (!c && !m) return null;
  const name = isProvider(provider) ? PROVIDER_NAMES[provider] : "The provider";
  const known = (reason: FailureReason, source: "provider" | "desk" = "provider"): FailureExplanation => ({ ...reason, code: c, generic: false, message: m, source });
  const generic = (what: string): FailureExplanation => ({
    sentence: m ? `${what} Its message: “${m}”.` : `${what} It stored no message saying why.`,
    nextStep: m
      ? `Act on the message; if it does not say enough, ask ${name} about the payout (its reference is on this page). Send it again with Copy as new payout if it is still owed.`
      : `Ask ${name} why it failed, giving the payout's reference on this page. Send it again with Copy as new payout if it is still owed.`,
    code: c,
    generic: true,
    message: m,
    source: "provider",
  });

  if (c && DESK_REASONS[c]) return known(DESK_REASONS[c]!, "desk");
  if (!c) return generic(`${name} gave no failure code.`);

  switch (provider) {
    case "pawapay":
      if (PAWAPAY_REASONS[c]) return known(PAWAPAY_REASONS[c]!);
      if (c === "OTHER_ERROR") return generic("pawaPay reports only OTHER_ERROR: the mobile network refused the payout without saying why.");
      if (PAWAPAY_GENERIC.has(c)) return generic(`pawaPay gave only the generic code ${c}, not a reason.`);
      break;
    case "muda":
      if (MUDA_REASONS[c]) return known(MUDA_REASONS[c]!);
      if (MUDA_GENERIC.has(c)) return generic("Muda reports only that the payout FAILED; it publishes no failure reasons.");
      break;
    case "paytota":
      if (PAYTOTA_REASONS[c]) return known(PAYTOTA_REASONS[c]!);
      if (PAYTOTA_REASONS[c.toLowerCase()]) return known(PAYTOTA_REASONS[c.toLowerCase()]!);
      if (PAYTOTA_GENERIC.has(c)) return generic(`Paytota gave only the generic code ${c}, not a reason.`);
      break;
    case "praxis":
      if (PRAXIS_REASONS[c]) return known(PRAXIS_REASONS[c]!);
      if (/^\d+$/.test(c)) return generic(`Praxis gave only its error code ${c}, a number it publishes no list for.`);
      if (/^PRAXIS_\d+$/.test(c)) return generic(`Praxis refused the request with status ${c.slice(7)}, a number it publishes no list for.`);
      if (PRAXIS_GENERIC_WORDS.has(c)) return generic(`Praxis reports the payout ${c.toLowerCase()} without an error code.`);
      break;
    case "pontis":
      if (PONTIS_REASONS[c]) return known(PONTIS_REASONS[c]!);
      if (PONTIS_GENERIC.has(c)) return generic(`PontisGlobe reports only that the payout ${c === "ERROR" ? "failed" : c.toLowerCase()}, without a reason code.`);
      break;
  }
  // A code this desk does not know (a provider added one): never guessed.
  return {
    sentence: m ? `${name} gave the code ${c}, which the desk has no description for. Its message: “${m}”.` : `${name} gave the code ${c}, which the desk has no description for.`,
    nextStep: `Look the code up in ${name}'s documentation or ask ${name}; send it again with Copy as new payout if it is still owed.`,
    code: c,
    generic: true,
    message: m,
    source: "provider",
  };
}

/** One line for a list cell or an export column: "Plain sentence (CODE)". */
export function failureInWords(provider: string, code: string | null | undefined, message: string | null | undefined): string | null {
  const e = explainFailure(provider, code, message);
  if (!e) return null;
  return e.code ? `${e.sentence} (${e.code})` : e.sentence;
}
