// The errors a store port may throw. They say what went wrong in the store's terms; lib/http/errors.ts alone
// decides what the caller is answered (adapters never build HTTP errors).

/** The store could not be reached, was too slow or refused to serve now; retrying shortly may succeed. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(
    cause?: unknown,
    /** How long a caller should wait before retrying, in seconds. */
    readonly retryAfterSeconds = 1,
  ) {
    super('The store is unavailable; retry shortly', { cause });
  }
}

/** A page token this store did not give out, or gave out for another listing. Nothing was read. */
export class InvalidPageTokenError extends Error {
  override name = 'InvalidPageTokenError';
  /** The request field at fault. */
  readonly field = 'nextToken';
  constructor() {
    super('nextToken is not a token this API gave out');
  }
}

/** A change kept meeting concurrent writers of the same items and gave up; nothing was changed. */
export class ConcurrentModificationError extends Error {
  override name = 'ConcurrentModificationError';
}

/**
 * The settings document is not stored (the config table was lost, replaced or never initialised). Nothing may be
 * judged or shown as if it were a fresh installation: that would turn certificate authentication and revocations off.
 */
export class SettingsMissingError extends Error {
  override name = 'SettingsMissingError';
  constructor() {
    super('The settings are not stored');
  }
}
