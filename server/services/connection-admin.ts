// The admin's side of connections: add, edit, test, pause and resume.
//
// Credentials are write-only. They arrive from the form, are merged with what
// is stored (a blank secret keeps the stored one), sealed under the desk's key
// bound to the connection id, and never read back to the browser: the edit
// form learns only which secrets are set. Audit entries name the keys that
// changed, never their values. A stored secret is only ever sent where it was
// entered for: pointing a connection somewhere else asks for its secrets
// again (secretsForNewDestination).
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Connection } from "@/server/db/generated/client";
import { PROVIDER_KINDS, type ProviderKind } from "@/server/connectors/types";
import { isProviderSupported, PROVIDER_LABELS, sandboxBaseUrlFor } from "@/server/connectors/registry";
import { checkCredentials, credentialFields, type CredentialField } from "@/server/connectors/credential-fields";
import { BUILTIN_SANDBOX_PREFIX, completeCredentials, openConnector, openCredentials, sealCredentials } from "./connections";
import { sandboxEmulator } from "./sandbox-hosting";
import {
  limitsKey,
  requestsPerMinuteProblem,
  requestsPerMinuteText,
  sendConcurrencyProblem,
  sendConcurrencyText,
  withLimits,
  withRequestsPerMinute,
  withSendConcurrency,
} from "./connection-settings";
import { publishedRequestsPerMinute } from "@/server/connectors/registry";
import { checkLimitDrafts, limitChanges, limitRows, type LimitDraft } from "./payout-limits";
import { audit } from "./audit";
import { Conflict, FieldErrors, NotFound } from "./errors";
import type { Actor, Desk } from "./types";

export interface ConnectionDraft {
  name: string;
  environment: string;
  /** An http(s) URL, or `sandbox://<provider>` for the desk's built-in emulator. */
  baseUrl: string;
  /** Form values by credential key; a blank secret on edit means "keep the stored one". */
  credentials: Record<string, string>;
  /** On edit: the `version` the form was loaded with, so a save over someone else's change is refused. */
  version?: string;
  /** Payouts of this connection each worker process works on at once; blank: the desk's default. */
  sendConcurrency?: string;
  /** Requests a minute the desk makes to the provider; blank: the provider's published limit. */
  requestsPerMinute?: string;
  /**
   * On edit: limits per currency (major units as typed; blank: none of the
   * connection's own). Replaces the stored limits; absent keeps them.
   */
  limits?: Record<string, LimitDraft>;
}

const NAME_MAX = 80;
const CHANGED_MEANWHILE = "Someone changed this connection meanwhile; reopen it and make your change again";

/** The providers the form offers, with their credential fields. */
export async function providerForms(desk: Desk) {
  return Promise.all(
    PROVIDER_KINDS.map(async (provider) => ({
      provider,
      label: PROVIDER_LABELS[provider],
      supported: isProviderSupported(provider),
      builtInEmulator: (await sandboxEmulator(provider, desk)) !== null,
      fields: credentialFields(provider).map((f): CredentialField => ({ ...f })),
    })),
  );
}

/** A connection as the edit form shows it: secrets only as set / not set. */
export async function connectionForEdit(desk: Desk, id: string) {
  const connection = await desk.db.connection.findUnique({ where: { id } });
  if (!connection) throw new NotFound("Connection");
  const provider = connection.provider as ProviderKind;
  const stored = tryOpen(desk, connection);
  const builtIn = connection.baseUrl.startsWith(builtInUrl(provider));
  return {
    id: connection.id,
    provider,
    providerLabel: PROVIDER_LABELS[provider],
    name: connection.name,
    environment: connection.environment,
    enabled: connection.enabled,
    version: connection.updatedAt.toISOString(),
    builtInEmulator: builtIn,
    baseUrl: builtIn ? "" : connection.baseUrl,
    sendConcurrency: sendConcurrencyText(connection.settings),
    defaultSendConcurrency: desk.config.sendConcurrency,
    requestsPerMinute: requestsPerMinuteText(connection.settings),
    publishedRequestsPerMinute: publishedRequestsPerMinute(provider),
    // Per currency; the maximum prefilled from the provider's published limit where the connector knows it.
    limits: limitRows(stored === null ? null : tryConnector(desk, connection), connection.settings),
    // When the desk's key changed, nothing stored can be read: every secret must be entered again.
    credentialsReadable: stored !== null,
    credentials: credentialFields(provider).map((f) => ({
      key: f.key,
      set: Boolean(stored?.[f.key]),
      ...(f.secret ? {} : { value: stored?.[f.key] ?? "" }),
    })),
  };
}

export async function createConnection(desk: Desk, actor: Actor, provider: ProviderKind, draft: ConnectionDraft, ip?: string) {
  const id = randomUUID();
  const errors: Record<string, string> = {};
  const base = await checkBasics(desk, provider, draft, null, errors);
  const merged = mergeCredentials(provider, {}, draft.credentials, errors);
  const credentials = completeIfValid(provider, merged, errors);
  const concurrencyProblem = sendConcurrencyProblem(draft.sendConcurrency ?? "");
  if (concurrencyProblem) errors.sendConcurrency = concurrencyProblem;
  const rateProblem = requestsPerMinuteProblem(draft.requestsPerMinute ?? "");
  if (rateProblem) errors.requestsPerMinute = rateProblem;
  if (Object.keys(errors).length > 0) throw new FieldErrors(errors);
  const settings = withRequestsPerMinute(withSendConcurrency({}, draft.sendConcurrency ?? ""), draft.requestsPerMinute ?? "");

  await withUniqueName(() =>
    desk.db.$transaction(async (tx) => {
      await tx.connection.create({
        data: { id, provider, ...base, settings: settings as object, credentials: sealCredentials(desk, id, credentials), enabled: true },
      });
      await audit(tx, {
        actorId: actor.id,
        action: "connection.create",
        entityType: "connection",
        entityId: id,
        details: { provider, ...base, settings: settings as object, credentialKeysSet: Object.keys(credentials).sort() },
        ip,
      });
    }),
  );
  return { id };
}

export async function updateConnection(desk: Desk, actor: Actor, id: string, draft: ConnectionDraft, ip?: string) {
  const existing = await desk.db.connection.findUnique({ where: { id } });
  if (!existing) throw new NotFound("Connection");
  if (draft.version && draft.version !== existing.updatedAt.toISOString()) throw new Conflict(CHANGED_MEANWHILE);
  const provider = existing.provider as ProviderKind;
  const errors: Record<string, string> = {};
  const base = await checkBasics(desk, provider, draft, id, errors);
  const previous = tryOpen(desk, existing) ?? {};
  const merged = mergeCredentials(provider, previous, draft.credentials, errors);
  secretsForNewDestination(provider, { baseUrl: existing.baseUrl, credentials: previous }, { baseUrl: base.baseUrl, credentials: merged }, draft.credentials, errors);
  const credentials = completeIfValid(provider, merged, errors);
  const concurrencyProblem = draft.sendConcurrency === undefined ? null : sendConcurrencyProblem(draft.sendConcurrency);
  if (concurrencyProblem) errors.sendConcurrency = concurrencyProblem;
  const rateProblem = draft.requestsPerMinute === undefined ? null : requestsPerMinuteProblem(draft.requestsPerMinute);
  if (rateProblem) errors.requestsPerMinute = rateProblem;
  const limits = draft.limits === undefined ? undefined : checkLimitDrafts(tryConnector(desk, existing), draft.limits, errors);
  if (Object.keys(errors).length > 0) throw new FieldErrors(errors);

  const changed: string[] = (Object.keys(base) as (keyof typeof base)[]).filter((k) => base[k] !== existing[k]);
  let settings = draft.sendConcurrency === undefined ? existing.settings : withSendConcurrency(existing.settings, draft.sendConcurrency);
  if (limits !== undefined) settings = withLimits(settings, limits);
  if (draft.requestsPerMinute !== undefined) settings = withRequestsPerMinute(settings, draft.requestsPerMinute);
  const concurrencyChanged = sendConcurrencyText(settings) !== sendConcurrencyText(existing.settings);
  if (concurrencyChanged) changed.push("sendConcurrency");
  const rateChanged = requestsPerMinuteText(settings) !== requestsPerMinuteText(existing.settings);
  if (rateChanged) changed.push("requestsPerMinute");
  const limitsChanged = limitsKey(settings) !== limitsKey(existing.settings);
  if (limitsChanged) changed.push("limits");
  const settingsChanged = concurrencyChanged || limitsChanged || rateChanged;
  const credentialKeysChanged = [...new Set([...Object.keys(previous), ...Object.keys(credentials)])]
    .filter((k) => previous[k] !== credentials[k])
    .sort();
  if (changed.length === 0 && credentialKeysChanged.length === 0) return { id, changed: [] as string[] };

  await withUniqueName(() =>
    desk.db.$transaction(async (tx) => {
      // Only over the version this edit started from: another admin's save in between would otherwise be lost.
      const { count } = await tx.connection.updateMany({
        where: { id, updatedAt: existing.updatedAt },
        data: {
          ...base,
          ...(settingsChanged ? { settings: settings as object } : {}),
          ...(credentialKeysChanged.length > 0 ? { credentials: sealCredentials(desk, id, credentials) } : {}),
        },
      });
      if (count === 0) throw new Conflict(CHANGED_MEANWHILE);
      await audit(tx, {
        actorId: actor.id,
        action: "connection.update",
        entityType: "connection",
        entityId: id,
        details: {
          changed,
          credentialKeysChanged,
          ...Object.fromEntries((Object.keys(base) as (keyof typeof base)[]).filter((k) => changed.includes(k)).map((k) => [k, base[k]])),
          ...(concurrencyChanged ? { sendConcurrency: { before: sendConcurrencyText(existing.settings) || "default", after: sendConcurrencyText(settings) || "default" } } : {}),
          ...(rateChanged ? { requestsPerMinute: { before: requestsPerMinuteText(existing.settings) || "provider's", after: requestsPerMinuteText(settings) || "provider's" } } : {}),
          // Per currency, each changed limit before → after ("default"/"none" where the connection set none).
          ...(limitsChanged ? { limits: limitChanges(existing.settings, settings) } : {}),
        },
        ip,
      });
    }),
  );
  return { id, changed: [...changed, ...credentialKeysChanged.map((k) => `credentials.${k}`)] };
}

/** Pause (no new payouts; those already created carry on) or resume. */
export async function setConnectionEnabled(desk: Desk, actor: Actor, id: string, enabled: boolean, ip?: string) {
  return desk.db.$transaction(async (tx) => {
    const connection = await tx.connection.findUnique({ where: { id }, select: { id: true, enabled: true, name: true } });
    if (!connection) throw new NotFound("Connection");
    if (connection.enabled === enabled) return { id, enabled };
    await tx.connection.update({ where: { id }, data: { enabled } });
    await audit(tx, {
      actorId: actor.id,
      action: enabled ? "connection.resume" : "connection.pause",
      entityType: "connection",
      entityId: id,
      details: { name: connection.name },
      ip,
    });
    return { id, enabled };
  });
}

export interface ConnectionTestResult {
  ok: boolean;
  message: string;
  latencyMs: number;
  /** Which call proved it: the provider's own test call, a balance read, or none available. */
  via: "test" | "balances" | "none";
}

/**
 * Proves the stored credentials against the provider. A provider refusing
 * them is the answer, not an error of the desk: it is returned, and audited.
 */
export async function testConnection(desk: Desk, actor: Actor, id: string, ip?: string): Promise<ConnectionTestResult> {
  const connection = await desk.db.connection.findUnique({ where: { id } });
  if (!connection) throw new NotFound("Connection");
  const result = await runTest(desk, connection);
  await audit(desk.db, {
    actorId: actor.id,
    action: "connection.test",
    entityType: "connection",
    entityId: id,
    details: { ok: result.ok, via: result.via, latencyMs: result.latencyMs, message: result.message },
    ip,
  });
  return result;
}

async function runTest(desk: Desk, connection: Connection): Promise<ConnectionTestResult> {
  const label = PROVIDER_LABELS[connection.provider as ProviderKind];
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let via: ConnectionTestResult["via"] = "none";
  try {
    const connector = openConnector(desk, connection);
    if (connector.testConnection) {
      via = "test";
      const answer = await connector.testConnection();
      return { ok: answer.ok, message: clip(answer.message), latencyMs: elapsed(), via };
    }
    if (connector.capabilities.balances && connector.balances) {
      via = "balances";
      const balances = await connector.balances();
      const currencies = [...new Set(balances.map((b) => b.currency))].sort();
      return {
        ok: true,
        message: `${label} accepted the credentials and reported ${balances.length} balance${balances.length === 1 ? "" : "s"}${currencies.length ? ` (${currencies.join(", ")})` : ""}`,
        latencyMs: elapsed(),
        via,
      };
    }
    return { ok: false, message: `${label} offers no call to test credentials with; a small payout is the test`, latencyMs: 0, via };
  } catch (error) {
    return { ok: false, message: clip(error instanceof Error ? error.message : String(error)), latencyMs: elapsed(), via };
  }
}

// ---------------------------------------------------------------- rules

/** The form's word for "the built-in emulator"; stored as sandboxBaseUrlFor(provider). */
function builtInUrl(provider: ProviderKind): string {
  return `${BUILTIN_SANDBOX_PREFIX}${provider}`;
}

async function checkBasics(desk: Desk, provider: ProviderKind, draft: ConnectionDraft, selfId: string | null, errors: Record<string, string>) {
  const name = draft.name.trim();
  if (name.length === 0) errors.name = "Give the connection a name";
  else if (name.length > NAME_MAX) errors.name = `Keep the name to ${NAME_MAX} characters at most`;
  else {
    // Case-insensitive, so "pawaPay live" and "Pawapay Live" cannot both appear in the payout form.
    const clash = await desk.db.connection.findFirst({
      where: { name: { equals: name, mode: "insensitive" }, ...(selfId ? { NOT: { id: selfId } } : {}) },
      select: { id: true },
    });
    if (clash) errors.name = `Another connection is already named "${name}"`;
  }

  const environment = draft.environment === "live" || draft.environment === "sandbox" ? draft.environment : null;
  if (!environment) errors.environment = "Choose sandbox or live";

  let baseUrl = draft.baseUrl.trim().replace(/\/+$/, "");
  if (baseUrl.startsWith(BUILTIN_SANDBOX_PREFIX)) {
    const builtIn = [builtInUrl(provider), sandboxBaseUrlFor(provider)].includes(baseUrl);
    // Stored the way the built-in sandbox connection is (some emulators serve below a path).
    if (builtIn) baseUrl = sandboxBaseUrlFor(provider);
    if (!builtIn || !(await sandboxEmulator(provider, desk))) {
      errors.baseUrl = `The desk has no built-in ${PROVIDER_LABELS[provider]} emulator; give the provider's URL`;
    } else if (environment === "live") {
      errors.environment = "The built-in emulator is a sandbox; choose sandbox or give the provider's live URL";
    }
  } else {
    const problem = urlProblem(baseUrl, environment);
    if (problem) errors.baseUrl = problem;
  }
  return { name, environment: environment ?? "sandbox", baseUrl } as const;
}

function urlProblem(value: string, environment: string | null): string | null {
  if (value === "") return "Give the provider's API base URL, e.g. https://api.sandbox.pawapay.io";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "Base URL must be a full http(s) URL, e.g. https://api.sandbox.pawapay.io";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "Base URL must start with https:// or http://";
  if (url.username || url.password) return "Put credentials in their own fields, not in the base URL";
  if (url.search || url.hash) return "Base URL must not carry a query or fragment";
  if (environment === "live" && url.protocol !== "https:") return "A live connection must use https://";
  return null;
}

/**
 * The credentials to store: the stored ones with the form's entries applied.
 * Secrets: blank keeps, filled replaces. Other values: what the form shows is
 * what is stored, so a blank clears an optional one. Keys the form does not
 * know (set from configuration, e.g. correspondents) are kept as they are.
 */
function mergeCredentials(
  provider: ProviderKind,
  previous: Record<string, string>,
  input: Record<string, string>,
  errors: Record<string, string>,
): Record<string, string> {
  const fields = credentialFields(provider);
  const known = new Set(fields.map((f) => f.key));
  for (const key of Object.keys(input)) {
    if (!known.has(key)) errors[`credentials.${key}`] = `${key} is not a ${PROVIDER_LABELS[provider]} setting`;
  }
  const merged = { ...previous };
  for (const field of fields) {
    if (!(field.key in input)) continue;
    const value = input[field.key]!.trim();
    if (value !== "") merged[field.key] = value;
    else if (!field.secret) delete merged[field.key];
  }
  for (const field of fields) {
    // pawaPay's signing key is generated when absent, so "required" is checked on the stored result.
    if (field.required && !merged[field.key]) {
      errors[`credentials.${field.key}`] = `${field.label} is required`;
    }
  }
  return merged;
}

/**
 * A connection pointed somewhere new (its base URL, or another URL the desk
 * sends requests to) must be given its secrets again: otherwise an admin, or
 * whoever holds an admin's session, could aim a connection at any host, keep
 * the stored secret, press Test, and have the desk send that secret there
 * (`Authorization: Bearer …`). Typing the secret again proves it is meant for
 * the new place. The built-in emulator is the desk itself, so moving to it
 * asks for nothing.
 */
function secretsForNewDestination(
  provider: ProviderKind,
  before: { baseUrl: string; credentials: Record<string, string> },
  after: { baseUrl: string; credentials: Record<string, string> },
  input: Record<string, string>,
  errors: Record<string, string>,
): void {
  const fields = credentialFields(provider);
  const changed: string[] = [];
  if (after.baseUrl !== before.baseUrl && !after.baseUrl.startsWith(BUILTIN_SANDBOX_PREFIX)) changed.push("the base URL");
  for (const field of fields) {
    if (field.endpoint && (after.credentials[field.key] ?? "") !== (before.credentials[field.key] ?? "") && after.credentials[field.key]) {
      changed.push(`the ${lowerFirst(field.label)}`);
    }
  }
  if (changed.length === 0) return;
  const why = `${changed.join(" and ")} changed`;
  for (const field of fields) {
    if (!field.secret || field.reenterForNewUrl === false) continue;
    if (!field.required && !before.credentials[field.key]) continue; // an optional secret never set has nothing to leak
    if ((input[field.key] ?? "").trim() === "") errors[`credentials.${field.key}`] ??= `Enter the ${lowerFirst(field.label)} again: ${why}`;
  }
}

/** "Secret key" → "secret key", "API token" stays "API token". */
function lowerFirst(label: string): string {
  return /^[A-Z][a-z]/.test(label) ? label[0]!.toLowerCase() + label.slice(1) : label;
}

/** Checks the credentials as they will be stored, then fills in what the desk makes itself (a pawaPay signing key). */
function completeIfValid(provider: ProviderKind, merged: Record<string, string>, errors: Record<string, string>): Record<string, string> {
  for (const [key, message] of Object.entries(checkCredentials(provider, merged))) {
    errors[`credentials.${key}`] ??= message;
  }
  return Object.keys(errors).length === 0 ? completeCredentials(provider, merged) : merged;
}

/** The connection's connector for its published limits; null when its credentials cannot be read (the desk's default applies). */
function tryConnector(desk: Desk, connection: Connection) {
  try {
    return openConnector(desk, connection);
  } catch {
    return null;
  }
}

function tryOpen(desk: Desk, connection: Connection): Record<string, string> | null {
  try {
    return openCredentials(desk, connection);
  } catch {
    return null;
  }
}

async function withUniqueName<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    // Two admins saving the same name at once: the database's unique index decides.
    if ((error as { code?: string }).code === "P2002") throw new FieldErrors({ name: "Another connection has just been given this name" });
    throw error;
  }
}

function clip(message: string): string {
  return message.length > 500 ? `${message.slice(0, 500)}…` : message;
}
