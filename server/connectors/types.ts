// The one contract every payout provider connector implements.
//
// A connector only translates between the desk's words and one provider's wire
// protocol. It never touches the database and never decides a payout's status:
// it reports what the provider said (a ProviderResult) and the payout service
// applies that through the state machine. Transport trouble (timeout, reset,
// 5xx, garbage) is reported as `unknown`, never thrown as a failure, because
// the provider may have acted on the request.
import type { FetchLike } from "./transport";

export type ProviderKind = "pawapay" | "muda" | "paytota" | "praxis" | "pontis";

export const PROVIDER_KINDS: readonly ProviderKind[] = ["pawapay", "muda", "paytota", "praxis", "pontis"];

/** What a connection knows at run time (credentials already decrypted). */
export interface ConnectionConfig {
  id: string;
  provider: ProviderKind;
  name: string;
  environment: "sandbox" | "live";
  baseUrl: string;
  /** Provider-specific secrets and settings (API token, signing key, …). */
  credentials: Record<string, string>;
  /** Where this provider should post callbacks for this connection. */
  callbackUrl: string;
}

export interface PayoutRequest {
  /** UUIDv4 made by the desk; sent as the provider's idempotency key. */
  payoutId: string;
  amountMinor: bigint;
  currency: string;
  recipient: {
    /** MSISDN digits with country code, no '+', no spaces. Null for bank payouts. */
    phone?: string | null;
    name?: string | null;
    /** ISO 3166-1 alpha-2. */
    country?: string | null;
    /** Bank account number, for bank payouts. */
    accountNumber?: string | null;
    /** Provider-specific recipient fields declared by recipientFields() (bank code, IFSC, email…). */
    details?: Record<string, string> | null;
  };
  /** Provider routing, e.g. pawaPay's correspondent; connectors may predict it. */
  channel?: string | null;
  description: string;
  createdAt: Date;
  /** Known provider reference from an earlier call, if any. */
  providerReference?: string | null;
  /**
   * True on the first send of a payout, which no earlier attempt can have
   * reached: a connector may skip looking for an earlier copy. False or absent
   * on a resend (after the provider said it never saw the payout).
   */
  firstAttempt?: boolean;
}

/**
 * What the provider said about a payout, in the desk's terms.
 * - processing: accepted / in flight, not final.
 * - provider_pending_approval: held by the provider for its own approval.
 * - succeeded / failed: final at the provider.
 * - reversed: it was paid, then the provider took the money back (PontisGlobe).
 * - not_found: the provider positively says it never saw this payout
 *   (only then may the desk resend, with the same id).
 * - unknown: we could not learn the outcome (timeout, 5xx, unverifiable answer).
 */
export type ProviderState =
  | "processing"
  | "provider_pending_approval"
  | "succeeded"
  | "failed"
  | "reversed"
  | "not_found"
  | "unknown";

/** An amount as a provider booked it, in minor units of its currency. */
export interface BookedMoney {
  amountMinor: bigint;
  currency: string;
}

export interface ProviderResult {
  state: ProviderState;
  /** The fee the provider charged for this payout, where its answer says (absent: not reported, never 0). */
  fee?: BookedMoney;
  /** What left the merchant's balance for this payout, where the answer says. */
  debited?: BookedMoney;
  /** What the recipient receives when the provider converts (PontisGlobe), with the rate as the provider wrote it. */
  destination?: BookedMoney & { rate?: string };
  /** The provider's own status word, kept visible as-is (e.g. "SUBMITTED"). */
  providerStatus?: string;
  providerReference?: string;
  failureCode?: string;
  failureMessage?: string;
  /** The raw payload this result was read from (stored on the timeline). */
  raw?: unknown;
}

/** A provider call as recorded on the payout timeline: no secrets. */
export interface ProviderCallRecord {
  operation: string;
  method: string;
  url: string;
  request?: unknown;
  httpStatus?: number;
  response?: unknown;
  error?: string;
  latencyMs: number;
  payoutId?: string;
}

export interface ConnectorDeps {
  /** Injected for tests (a fetch, or any FetchLike); defaults to node:http (transport.ts). */
  fetch?: FetchLike;
  now?: () => Date;
  /** Called once per provider HTTP call, success or not. */
  onCall?: (call: ProviderCallRecord) => void | Promise<void>;
  /** Per-request timeout in milliseconds (default 15 s). */
  timeoutMs?: number;
  /**
   * Records on the payout, durably, the provider's id of a payout the
   * connector has just created, before the connector acts on it (Paytota
   * executes a created payout only after this resolves). Throws when it
   * cannot, or when the payout already holds another id (another attempt got
   * there first). Given this, a connector may rely on it: a payout the desk
   * holds no provider id for was never executed by the desk.
   */
  holdProviderReference?: (payoutId: string, providerReference: string) => Promise<void>;
}

export interface FieldIssue {
  /** Field of the create-payout form: amount, currency, recipientPhone, description, channel, recipientName. */
  field: string;
  message: string;
}

export interface ProviderBalance {
  currency: string;
  amountMinor: bigint;
  /** Where the balance lives (country / network / wallet), if the provider splits it. */
  label?: string;
  raw?: unknown;
}

export interface CallbackInput {
  headers: Headers;
  rawBody: string;
  /** Full URL the callback was posted to. */
  url: string;
  method: string;
}

export type CallbackResult =
  | {
      verified: true;
      /**
       * Our payout id. A provider whose callbacks carry only its own
       * transaction id sets providerReference instead, and the desk finds the
       * payout by it.
       */
      payoutId?: string;
      providerReference?: string;
      /** Stable id of this callback for de-duplication. */
      dedupeKey: string;
      result: ProviderResult;
    }
  | {
      verified: false;
      /** Why it was refused (bad signature, stale, unparsable…). */
      reason: string;
      /**
       * True for a callback that is unsigned by design (Muda) or by the account (pawaPay without signing):
       * the callback is acknowledged, never applied, and confirmed by a status query.
       */
      hint?: boolean;
      /** If a payout id could still be read, the desk queries its status instead. */
      payoutId?: string;
      dedupeKey?: string;
    };

export interface ChannelOption {
  code: string;
  label: string;
  country: string;
  currency: string;
}

/** A provider-specific recipient field the create form must ask for. */
export interface RecipientField {
  /** Key in PayoutRequest.recipient.details (or "accountNumber" / "name"). */
  key: string;
  label: string;
  required: boolean;
  hint?: string;
  /** Channel codes that use this field; absent means every channel. */
  channels?: string[];
  /** Channel codes for which it is required (besides `required` for all). */
  requiredFor?: string[];
}

/** What the desk answers a provider's callback, when the provider prescribes it (Praxis wants a signed reply). */
export interface CallbackReply {
  httpStatus: number;
  contentType: string;
  body: string;
}

export interface StatementRequest {
  from?: Date;
  to?: Date;
  format: "csv";
}

export interface StatementStatus {
  id: string;
  state: "pending" | "ready" | "failed";
  downloadUrl?: string;
  raw?: unknown;
}

/** Provider-side statements: request, poll, download. */
export interface StatementApi {
  request(input: StatementRequest): Promise<StatementStatus>;
  status(id: string): Promise<StatementStatus>;
  download(status: StatementStatus): Promise<{ contentType: string; body: Uint8Array }>;
}

export interface ConnectorCapabilities {
  statusQuery: boolean;
  /** signed: callbacks carry a verifiable signature; hint: unsigned, confirm by status query. */
  callbacks: "signed" | "hint" | "none";
  balances: boolean;
  statements: boolean;
}

export interface PayoutConnector {
  readonly provider: ProviderKind;
  readonly capabilities: ConnectorCapabilities;
  /** Channels (networks / payment methods) this connection can pay to; empty when the provider routes itself. */
  channels(): ChannelOption[];
  /**
   * What the recipient is: a mobile-money number, or a bank account. Optional
   * extra fields go in recipient.details. Absent means: MSISDN, no extras.
   */
  recipientKind?: "msisdn" | "bank_account";
  /**
   * Currencies the payout amount is given in, when they differ from the
   * channels' (PontisGlobe pays PHP or INR out of a USDT amount). Absent: the
   * channels' currencies.
   */
  payoutCurrencies?(): string[];
  recipientFields?(): RecipientField[];
  /** Provider rules checked before a payout is created, so the maker sees them at once. */
  validate(request: PayoutRequest): FieldIssue[];
  /**
   * The provider's published maximum for one payout, in minor units of
   * `currency`, or null where its documentation names none (the desk's own
   * default applies then). Absent: none published. Never a guess.
   */
  payoutMaximum?(currency: string, channel: string | null): bigint | null;
  /** Sends the payout. Never throws for transport faults: returns state "unknown". */
  submit(request: PayoutRequest): Promise<ProviderResult>;
  /** Asks the provider for the payout's status by our payout id. */
  status(request: Pick<PayoutRequest, "payoutId" | "providerReference">): Promise<ProviderResult>;
  /** Verifies and reads a callback. Present when capabilities.callbacks !== "none". */
  parseCallback?(input: CallbackInput): Promise<CallbackResult>;
  /**
   * The body the provider expects in answer to its callback. Called after the
   * desk has stored the callback (accepted) or refused it. Absent: the desk
   * answers its own JSON with 200 / 401.
   */
  callbackReply?(accepted: boolean, callback: CallbackInput): CallbackReply;
  /** Reads balances. Present when capabilities.balances. */
  balances?(): Promise<ProviderBalance[]>;
  /** Provider statements. Present when capabilities.statements. */
  statements?: StatementApi;
  /** A cheap authenticated call that proves the credentials work (the admin's "Test" button). */
  testConnection?(): Promise<{ ok: boolean; message: string }>;
}

export type ConnectorFactory = (config: ConnectionConfig, deps?: ConnectorDeps) => PayoutConnector;
