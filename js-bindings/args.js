// Argument checks for every public entry point, one way: a wrong argument rejects with PocketLMError('BAD_ARG') whose
// message names the argument, says what it must be and what it got. Only absent (undefined) values are skipped.
import { PocketLMError } from './errors.js';

function shown(v) {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return `a ${(v.constructor && v.constructor.name) || 'object'}`;
  return String(v);
}

function bad(name, want, v) {
  return new PocketLMError('BAD_ARG', `${name} must be ${want}, got ${shown(v)}`);
}

const isInt = (v) => typeof v === 'number' && Number.isInteger(v);

/** Each kind: [test, description]. */
const KINDS = {
  string: [(v) => typeof v === 'string', 'a string'],
  boolean: [(v) => typeof v === 'boolean', 'true or false'],
  function: [(v) => typeof v === 'function', 'a function'],
  // load()'s cache: a ModelStore is told apart by its methods, so this file need not import store.js
  cache: [(v) => typeof v === 'boolean' || (v !== null && typeof v === 'object' && typeof v.get === 'function' &&
    typeof v.download === 'function'), 'true, false or a ModelStore'],
  object: [(v) => v !== null && typeof v === 'object', 'an object'],
  count: [(v) => isInt(v) && v >= 0, 'an integer >= 0'],
  positive: [(v) => isInt(v) && v > 0, 'an integer > 0'],
  maxTokens: [(v) => (isInt(v) && v >= 0) || v === Infinity || v === null, 'an integer >= 0 (or null: no limit)'],
  finite: [(v) => typeof v === 'number' && Number.isFinite(v), 'a finite number'],
  nonNegative: [(v) => typeof v === 'number' && v >= 0 && Number.isFinite(v), 'a finite number >= 0'],
  unit: [(v) => typeof v === 'number' && v >= 0 && v <= 1, 'a number from 0 to 1'],
  penalty: [(v) => typeof v === 'number' && v > 0 && Number.isFinite(v), 'a finite number > 0'],
  seed: [(v) => v === null || (isInt(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER) ||
    (typeof v === 'bigint' && v >= 0n && v < 1n << 64n), 'an integer from 0 to 2^53 (a bigint up to 2^64), or null'],
  stop: [(v) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')) || v === null,
    'a string or an array of strings'],
  signal: [(v) => v !== null && typeof v === 'object' && typeof v.aborted === 'boolean' &&
    typeof v.addEventListener === 'function', 'an AbortSignal'],
  tokens: [(v) => (Array.isArray(v) || v instanceof Int32Array || v instanceof Uint32Array) &&
    Array.prototype.every.call(v, (x) => isInt(x) && x >= 0 && x <= 0x7fffffff), 'an array of token ids (integers >= 0)'],
};
KINDS.prompt = [(v) => typeof v === 'string' || KINDS.tokens[0](v), 'a string or an array of token ids (integers >= 0)'];

/**
 * Checks fields of an options object against { field: kind }: throws BAD_ARG naming `where.field`.
 * @param {string} where e.g. 'complete() options'
 */
export function checkOptions(where, o, spec) {
  if (o === undefined) return {};
  if (!KINDS.object[0](o) || Array.isArray(o)) throw bad(where, 'an object', o);
  for (const [k, kind] of Object.entries(spec)) {
    const v = o[k];
    if (v === undefined) continue;
    const [ok, want] = KINDS[kind];
    if (!ok(v)) throw bad(`${where}.${k}`, want, v);
  }
  return o;
}

/** Checks one positional argument. */
export function checkArg(name, v, kind) {
  const [ok, want] = KINDS[kind];
  if (!ok(v)) throw bad(name, want, v);
  return v;
}

/** The sampling options complete() and chat share. */
export const SAMPLING = {
  maxTokens: 'maxTokens', temperature: 'nonNegative', topK: 'count', topP: 'unit', minP: 'unit',
  repeatPenalty: 'penalty', frequencyPenalty: 'finite', presencePenalty: 'finite', penaltyLastN: 'count',
  seed: 'seed', stop: 'stop', cachePrompt: 'boolean', bos: 'boolean', special: 'boolean',
};

/** Chat messages: a non-empty array of { role: string, content: string | null | [{ type: 'text', text }] }. */
export function checkMessages(name, messages) {
  if (!Array.isArray(messages) || messages.length === 0) throw bad(name, 'a non-empty array of messages', messages);
  messages.forEach((m, i) => {
    const at = `${name}[${i}]`;
    if (m === null || typeof m !== 'object') throw bad(at, 'an object { role, content }', m);
    if (typeof m.role !== 'string' || !m.role) throw bad(`${at}.role`, 'a non-empty string', m.role);
    const c = m.content;
    const parts = Array.isArray(c) && c.every((p) => typeof p === 'string' ||
      (p && typeof p === 'object' && typeof p.text === 'string'));
    if (!(typeof c === 'string' || c === null || c === undefined || parts)) {
      throw bad(`${at}.content`, 'a string, null or an array of { type: "text", text } parts', c);
    }
  });
  return messages;
}
