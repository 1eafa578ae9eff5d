// Errors of the domain and the use cases, each with the status and public code it is answered with; lib/http/errors.ts
// turns them (and the ports' errors) into responses, in one place.

export interface FieldProblem {
  field: string;
  message: string;
}

/** An error whose status, public code and message may be shown to the caller as they are. */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly statusCode: number;
  readonly code: string;
  readonly field?: string;
  readonly details?: FieldProblem[];
  readonly headers?: Record<string, string>;

  constructor(
    statusCode: number,
    code: string,
    message: string,
    options: { field?: string; details?: FieldProblem[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.statusCode = statusCode;
    this.code = code;
    this.field = options.field;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** Bad input: 400 with the given code (INVALID_CHECKIN, INVALID_SETTINGS, …) and the offending field. */
export class ValidationError extends HttpError {
  override name = 'ValidationError';
  constructor(code: string, message: string, field?: string, statusCode = 400) {
    super(statusCode, code, message, { field });
  }
}

/** Input that is well formed but breaks a rule: 422 with one entry per broken rule. */
export class RuleViolationError extends HttpError {
  override name = 'RuleViolationError';
  constructor(code: string, message: string, details: FieldProblem[] = []) {
    super(422, code, message, { details: details.length > 0 ? details : undefined });
  }
}

export class NotFoundError extends HttpError {
  override name = 'NotFoundError';
  constructor(message = 'Nothing is stored here') {
    super(404, 'NOT_FOUND', message);
  }
}

export class ConflictError extends HttpError {
  override name = 'ConflictError';
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

/** A change's precondition (If-Match) does not hold: 412, nothing changed. */
export class PreconditionFailedError extends HttpError {
  override name = 'PreconditionFailedError';
  constructor(message: string) {
    super(412, 'PRECONDITION_FAILED', message);
  }
}

/** A violation or warning found while evaluating a check-in: a code, a sentence, and its details. */
export interface Finding {
  code: string;
  message: string;
  [detail: string]: unknown;
}
