// The payouts list's filters and order as they live in the address bar
// (/payouts?status=failed,expired&min=10&currency=ZMW&sort=amount…). Read here
// once, for the list page (the browser) and the export route (the server), so
// a download holds exactly what the list shows. Pure: no I/O, safe in the browser.
import { PAYOUT_STATUSES, type PayoutStatus } from "./payout-state";

export const LIST_SORTS = ["created", "amount", "status"] as const;
export type ListSort = (typeof LIST_SORTS)[number];
export type SortDirection = "asc" | "desc";

/** What the list is filtered on; dates are days in `timeZone`, amounts major units as typed. */
export interface PayoutListFilters {
  status?: PayoutStatus[];
  connectionId?: string;
  currency?: string;
  batchId?: string;
  /** Inclusive days (yyyy-mm-dd) in `timeZone` (UTC when none). */
  createdFrom?: string;
  createdTo?: string;
  timeZone?: string;
  /** Inclusive, in major units of `currency` ("150.50"), converted exactly to minor units. */
  amountMin?: string;
  amountMax?: string;
  /** Payout id or its first 8 characters, provider reference, phone, recipient name, description. */
  search?: string;
  /** Only payouts flagged for a person to look at. */
  attention?: boolean;
}

export interface PayoutListOrder {
  sort?: ListSort;
  direction?: SortDirection;
}

/** The address-bar key of each filter (short, stable: bookmarks and shared links hold them). */
export const LIST_URL_KEYS = {
  status: "status",
  connectionId: "connection",
  currency: "currency",
  batchId: "batch",
  createdFrom: "from",
  createdTo: "to",
  timeZone: "tz",
  amountMin: "min",
  amountMax: "max",
  search: "q",
  attention: "attention",
  sort: "sort",
  direction: "dir",
} as const;

export type ListField = keyof typeof LIST_URL_KEYS;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ParsedListQuery {
  filters: PayoutListFilters;
  order: PayoutListOrder;
  /** Problems found in the address bar alone, by filter field (createdFrom, amountMin…); the service checks the rest. */
  errors: Partial<Record<ListField, string>>;
}

/**
 * The filters and order in an address bar's query. Values the list cannot use
 * are named in `errors` (the export refuses them; the page shows them beside
 * the field) and left out of `filters`.
 */
export function listQueryFromUrl(params: URLSearchParams): ParsedListQuery {
  const errors: ParsedListQuery["errors"] = {};
  const get = (field: ListField) => params.get(LIST_URL_KEYS[field])?.trim() || undefined;
  const filters: PayoutListFilters = {};

  const statuses = (get("status") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = statuses.filter((s) => !(PAYOUT_STATUSES as readonly string[]).includes(s));
  if (unknown.length > 0 || statuses.length > PAYOUT_STATUSES.length) {
    errors.status = `Choose statuses from the list; "${(unknown[0] ?? statuses.join(",")).slice(0, 30)}" is not one`;
  } else if (statuses.length) filters.status = [...new Set(statuses as PayoutStatus[])];

  for (const [field, what] of [
    ["connectionId", "Choose a connection, or All connections (a connection id is a UUID)"],
    ["batchId", "Choose a batch (a batch id is a UUID)"],
  ] as const) {
    const value = get(field);
    if (!value) continue;
    if (UUID.test(value)) filters[field] = value.toLowerCase();
    else errors[field] = what;
  }

  const currency = get("currency");
  if (currency) {
    if (/^[A-Za-z]{3,4}$/.test(currency)) filters.currency = currency.toUpperCase();
    else errors.currency = "Choose a currency (ISO 4217 code, e.g. ZMW)";
  }

  for (const field of ["createdFrom", "createdTo"] as const) {
    const value = get(field);
    if (!value) continue;
    if (value.length > 10) errors[field] = "Use a date like 2026-11-21";
    else filters[field] = value;
  }
  const timeZone = get("timeZone");
  if (timeZone) {
    if (timeZone.length > 64) errors.timeZone = "Choose an IANA time zone such as Europe/London";
    else filters.timeZone = timeZone;
  }
  for (const field of ["amountMin", "amountMax"] as const) {
    const value = get(field);
    if (!value) continue;
    if (value.length > 30) errors[field] = "Amount is too long (30 characters at most)";
    else filters[field] = value;
  }

  const search = get("search");
  if (search) {
    if (search.length > 100) errors.search = `100 characters at most; this has ${search.length.toLocaleString("en")}`;
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000\uD800-\uDFFF]/.test(search)) errors.search = "Search text cannot hold NUL bytes or broken characters";
    else filters.search = search;
  }
  if (get("attention") === "1") filters.attention = true;

  const order: PayoutListOrder = {};
  const sort = get("sort");
  if (sort) {
    if ((LIST_SORTS as readonly string[]).includes(sort)) order.sort = sort as ListSort;
    else errors.sort = `Sort by ${LIST_SORTS.join(", ")}`;
  }
  const direction = get("direction");
  if (direction) {
    if (direction === "asc" || direction === "desc") order.direction = direction;
    else errors.direction = "Sort direction is asc or desc";
  }
  return { filters, order, errors };
}

/** The address-bar query of filters and an order (the inverse of listQueryFromUrl). */
export function listQueryToUrl(filters: PayoutListFilters, order: PayoutListOrder = {}): URLSearchParams {
  const query = new URLSearchParams();
  const put = (field: ListField, value: string | undefined) => {
    if (value) query.set(LIST_URL_KEYS[field], value);
  };
  put("status", filters.status?.join(","));
  put("connectionId", filters.connectionId);
  put("currency", filters.currency);
  put("batchId", filters.batchId);
  put("createdFrom", filters.createdFrom);
  put("createdTo", filters.createdTo);
  put("timeZone", filters.timeZone);
  put("amountMin", filters.amountMin);
  put("amountMax", filters.amountMax);
  put("search", filters.search);
  put("attention", filters.attention ? "1" : undefined);
  put("sort", order.sort);
  put("direction", order.direction);
  return query;
}

/** True when any filter narrows the list. */
export function isFiltered(filters: PayoutListFilters): boolean {
  return Boolean(
    filters.status?.length || filters.connectionId || filters.currency || filters.batchId || filters.createdFrom || filters.createdTo || filters.amountMin || filters.amountMax || filters.search || filters.attention,
  );
}

/** Rows a page of the list holds. */
export const LIST_PAGE_SIZE = 50;

/**
 * The list's query input and its totals' filters for an address bar's query,
 * the same on the server (prefetching the first page) and in the browser.
 * Days are the user's days: the zone goes with the dates, and only then, so
 * the query is the same wherever it is asked when no dates are given.
 */
export function listRequest(parsed: Pick<ParsedListQuery, "filters" | "order">, timeZone: string) {
  const f = parsed.filters;
  const filters: PayoutListFilters = { ...f, ...(f.createdFrom || f.createdTo ? { timeZone: f.timeZone ?? timeZone } : {}) };
  const input = { ...filters, sort: parsed.order.sort ?? ("created" as ListSort), direction: parsed.order.direction ?? ("desc" as SortDirection), limit: LIST_PAGE_SIZE };
  return { filters, input };
}
