// Errors with a stable `code`: the C core's status names (plm_status_name(), read from the wasm by the engine:
// BAD_MODEL, UNSUPPORTED, OUT_OF_MEMORY, IO, BAD_ARG, CONTEXT_FULL, ABORTED) plus JavaScript-side ones.

export class PocketLMError extends Error {
  /**
   * @param {string} code stable machine-readable code: BAD_MODEL, UNSUPPORTED, OUT_OF_MEMORY, IO, BAD_ARG,
   *   CONTEXT_FULL, ABORTED, NETWORK, UNSUPPORTED_ENVIRONMENT, UNLOADED, INTERNAL; the ModelStore's: NOT_FOUND (HTTP
   *   404/410), INTEGRITY (SHA-256 mismatch), QUOTA_EXCEEDED (storage full), INCOMPLETE (not completely downloaded),
   *   UNKNOWN_MODEL (no such id in the store)
   * @param {string} message what happened and, where possible, what to do about it
   */
  constructor(code, message, options) {
    super(message, options);
    this.name = 'PocketLMError';
    this.code = code;
  }
}

/** The error for a C status, named by the core's plm_status_name(), with the message the C object gave. */
export function statusError(name, message) {
  const code = name && name !== 'OK' && name !== 'UNKNOWN' ? name : 'INTERNAL';
  return new PocketLMError(code, message || code);
}

/** Plain data for postMessage (Error subclasses do not survive structured cloning with their fields everywhere). */
export function errorToData(e) {
  if (e instanceof PocketLMError) return { code: e.code, message: e.message };
  if (e && e.name === 'AbortError') return { code: 'ABORTED', message: e.message || 'aborted' };
  if (e instanceof RangeError && /memory|allocat/i.test(e.message)) return { code: 'OUT_OF_MEMORY', message: e.message };
  return { code: 'INTERNAL', message: String((e && (e.stack || e.message)) || e) };
}

export function errorFromData(d) {
  return new PocketLMError(d.code, d.message);
}

export const abortError = (what = 'the operation') => new PocketLMError('ABORTED', `${what} was aborted`);
