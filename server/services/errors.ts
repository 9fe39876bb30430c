// Errors the services raise, in the finance team's words. The tRPC layer
// maps each to an HTTP-ish code; field errors reach the form next to the field.

/** Bad input: each entry names the field and the rule it broke. */
export class FieldErrors extends Error {
  constructor(readonly fields: Record<string, string>) {
    super(Object.entries(fields).map(([f, m]) => `${f}: ${m}`).join("; "));
    this.name = "FieldErrors";
  }
}

export class NotFound extends Error {
  constructor(what: string) {
    super(`${what} was not found`);
    this.name = "NotFound";
  }
}

/** The action is understood but not allowed for this user or this payout. */
export class Forbidden extends Error {
  constructor(message: string, readonly rule?: string) {
    super(message);
    this.name = "Forbidden";
  }
}

/** Someone else changed the record first, or the record is in the wrong state. */
export class Conflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Conflict";
  }
}

export class TooManyAttempts extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TooManyAttempts";
  }
}
