// pocketlm — a private LLM runtime for the web. The package's main module (dist/pocketlm.js).
//
//   const lm = await PocketLM.load({ model: url | storeId | Blob | ArrayBuffer, cache, threads, contextSize, onProgress });
//   const r = await lm.complete('Once upon a time', { maxTokens: 64, onToken: (t) => out.append(t) });
//   for await (const c of lm.chat.completions.create({ messages, stream: true })) ...
//   await lm.unload();
//
// In browsers the engine runs in a module Worker (the page never blocks); in Node it runs in the calling thread,
// or in a worker thread with { worker: true }. Both speak the protocol of engine.js.
import { PocketLMError, errorFromData, abortError } from './errors.js';
import { isNode, VARIANTS, detectFeatures, chooseVariant } from './runtime.js';
import { createChat } from './chat.js';
import { CHUNK } from './source.js';
import { checkArg, checkOptions, checkMessages, SAMPLING } from './args.js';
import { ModelStore, isModelId } from './store.js';

export { PocketLMError } from './errors.js';
export { ModelStore } from './store.js';

// ---- transports: the same request/response/event messages to a Worker, a worker thread or this thread ----
class Transport {
  constructor() {
    this.pending = new Map(); // id -> { resolve, reject, onEvent }
    this.nextId = 1;
    this.closed = null;
  }

  call(method, args, { onEvent, signal, transfer } = {}) {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, onEvent };
      this.pending.set(id, entry);
      this.busy(true);
      if (signal) {
        const onAbort = () => {
          // The engine may be busy in wasm and deaf to messages: with shared memory, stop it directly (engine.js).
          if (entry.abortWord) Atomics.store(entry.abortWord, entry.abortIndex, id);
          entry.abortRequested = true;
          this.send({ type: 'abort', id });
        };
        if (signal.aborted) queueMicrotask(onAbort);
        else {
          signal.addEventListener('abort', onAbort, { once: true });
          entry.cleanup = () => signal.removeEventListener('abort', onAbort);
        }
      }
      this.send({ type: 'call', id, method, args }, transfer);
    });
  }

  receive(msg) {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'event' && msg.event === 'abortWord') {
      p.abortWord = new Int32Array(msg.data.buffer);
      p.abortIndex = msg.data.index;
      if (p.abortRequested) Atomics.store(p.abortWord, p.abortIndex, msg.id);
      return;
    }
    if (msg.type === 'event') {
      if (p.onEvent) p.onEvent(msg.event, msg.data, msg.id);
      return;
    }
    this.pending.delete(msg.id);
    if (p.cleanup) p.cleanup();
    if (!this.pending.size) this.busy(false);
    if (msg.type === 'result') p.resolve(msg.value);
    else p.reject(errorFromData(msg.error));
  }

  fail(err) {
    this.closed = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  busy() {}
}

class InProcessTransport extends Transport {
  static async create() {
    const { EngineHost } = await import('./engine.js');
    const t = new InProcessTransport();
    // Replies are delivered asynchronously, as from a Worker.
    t.host = new EngineHost((msg) => queueMicrotask(() => t.receive(msg)));
    return t;
  }
  send(msg) { this.host.handle(msg); }
  close() {}
  get inProcess() { return true; }
}

class WorkerTransport extends Transport {
  static async create() {
    const t = new WorkerTransport();
    const url = new URL('./pocketlm-worker.js', import.meta.url);
    if (isNode) {
      const { Worker } = await import('node:worker_threads');
      t.worker = new Worker(url);
      t.worker.on('message', (m) => t.receive(m));
      t.worker.on('error', (e) => t.fail(new PocketLMError('INTERNAL', `the engine's worker thread failed: ${e.message}`)));
      t.worker.unref(); // referenced only while a request is pending (busy)
    } else {
      if (typeof Worker !== 'function') throw new PocketLMError('UNSUPPORTED_ENVIRONMENT', 'this browser has no Web Workers');
      t.worker = new Worker(url, { type: 'module', name: 'pocketlm' });
      t.worker.onmessage = (e) => t.receive(e.data);
      t.worker.onerror = (e) => {
        e.preventDefault();
        t.fail(new PocketLMError('INTERNAL', `the engine's Worker failed: ${e.message || 'could not load ' + url}`));
      };
    }
    return t;
  }
  send(msg, transfer) { this.worker.postMessage(msg, transfer || []); }
  busy(on) { if (isNode) on ? this.worker.ref() : this.worker.unref(); }
  close() { this.worker.terminate(); }
  get inProcess() { return false; }
}

// ---- model sources ----
function isBlob(x) { return typeof Blob === 'function' && x instanceof Blob; }
function isStream(x) { return typeof ReadableStream === 'function' && x instanceof ReadableStream; }

/** Chunks of an in-page source for the engine in a Worker, pulled one at a time so the page holds one chunk. */
function pumpFrom(model) {
  if (model instanceof ArrayBuffer || ArrayBuffer.isView(model)) {
    const all = model instanceof ArrayBuffer ? new Uint8Array(model)
      : new Uint8Array(model.buffer, model.byteOffset, model.byteLength);
    let o = 0;
    return { size: all.length, next: async () => {
      if (o >= all.length) return null;
      const c = all.slice(o, o + CHUNK); // a copy the Worker can own
      o += c.length;
      return c;
    } };
  }
  const it = isStream(model) ? model.getReader() : (model[Symbol.asyncIterator] || model[Symbol.iterator]).call(model);
  return { size: 0, next: async () => {
    const r = await (it.read ? it.read() : it.next());
    if (r.done) return null;
    const v = r.value instanceof Uint8Array ? r.value : new Uint8Array(r.value.buffer || r.value);
    // transfer the chunk itself when it owns its buffer, else a copy
    return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v : v.slice();
  } };
}

// The store string models go through: `cache` itself, a fresh ModelStore.open() where caching is on (browsers, by
// default), or null (stream, keep nothing). A URL download fails over to streaming only when there is no IndexedDB.
let defaultStore = null;
const THREAD_START_MS = 10000; // creating a Worker takes milliseconds; see PocketLM.load
async function storeFor(cache, isId) {
  if (cache instanceof ModelStore) return cache;
  if (cache !== undefined && typeof cache !== 'boolean') throw new PocketLMError('BAD_ARG', 'cache must be true, false or a ModelStore');
  if (cache === false) return null;
  try {
    defaultStore = defaultStore || ModelStore.open();
    return await defaultStore;
  } catch (e) {
    defaultStore = null;
    if (cache === true || isId || e.code !== 'UNSUPPORTED_ENVIRONMENT') throw e;
    return null;
  }
}

async function describeModel(model, { cache, inProcess, onProgress, signal }) {
  if (model instanceof URL) model = model.href;
  if (typeof model === 'string' && (isModelId(model) || !isNode || /^(https?|data|blob):/i.test(model))) {
    if (isModelId(model)) { // an id from ModelStore.download() / list(): read by the engine's Worker, chunk by chunk
      const store = await storeFor(cache === false ? true : cache, true);
      const rec = await store.get(model);
      if (!rec) throw new PocketLMError('UNKNOWN_MODEL', `no model with id ${model} in the store "${store.name}": ` +
        'store.list() shows what is there, store.download(url) adds one');
      if (!rec.complete) throw new PocketLMError('INCOMPLETE', `the model ${rec.url} is not completely downloaded ` +
        `(${rec.bytesStored} of ${rec.size || '?'} bytes, or another tab is downloading it): call store.download(url) first`);
      return { desc: { kind: 'store', name: store.name, id: model } };
    }
    const base = globalThis.location ? globalThis.location.href : undefined;
    let href;
    try {
      href = new URL(model, base).href;
    } catch {
      throw new PocketLMError('BAD_ARG', `model "${model}" is not a URL${isNode ? ', a file path' : ''} or a store id`);
    }
    const store = /^https?:/i.test(href) ? await storeFor(cache, false) : null;
    if (store) { // downloaded into the store first (or found there), then loaded from it
      const rec = await store.download(href, { signal, onProgress });
      return { desc: { kind: 'store', name: store.name, id: rec.id } };
    }
    return { desc: { kind: 'url', url: href } };
  }
  if (typeof model === 'string') { // Node: a file path
    const [{ resolve }, { fileURLToPath }] = await Promise.all([import('node:path'), import('node:url')]);
    return { desc: { kind: 'file', path: model.startsWith('file:') ? fileURLToPath(model) : resolve(model) } };
  }
  if (typeof Response === 'function' && model instanceof Response) {
    const size = Number(model.headers.get('content-length')) || 0;
    model = { stream: model.body, size };
  }
  if (model && isStream(model.stream) && !isBlob(model)) { // { stream, size } from a store or a Response
    return inProcess ? { desc: { kind: 'stream', stream: model.stream, size: model.size } }
      : { desc: { kind: 'pump', size: model.size || 0 }, pump: pumpFrom(model.stream) };
  }
  if (isBlob(model)) return { desc: { kind: 'blob', blob: model } };
  if (model instanceof ArrayBuffer || ArrayBuffer.isView(model)) {
    return inProcess ? { desc: { kind: 'buffer', buffer: model } }
      : { desc: { kind: 'pump', size: model.byteLength }, pump: pumpFrom(model) };
  }
  if (model && (isStream(model) || model[Symbol.asyncIterator] || model[Symbol.iterator])) {
    return inProcess ? { desc: isStream(model) ? { kind: 'stream', stream: model } : { kind: 'iterable', iterable: model } }
      : { desc: { kind: 'pump', size: 0 }, pump: pumpFrom(model) };
  }
  throw new PocketLMError('BAD_ARG', 'model must be a URL, a ModelStore id, a Blob, an ArrayBuffer or a stream of bytes');
}

// ---- options ----
const COMPLETE = { ...SAMPLING, signal: 'signal', onToken: 'function' };

/** The sampling fields of checked options, as the engine takes them (maxTokens null: no limit). */
export function samplingParams(o) {
  const p = {};
  for (const k of Object.keys(SAMPLING)) if (o[k] !== undefined) p[k] = o[k];
  if (typeof p.seed === 'bigint') p.seed = p.seed.toString();
  if (p.maxTokens === Infinity) p.maxTokens = null;
  return p;
}

/** One conversation state (a KV cache) over the loaded model. PocketLM itself uses a default session. */
export class Session {
  constructor(lm, id, contextSize) {
    this.lm = lm;
    this.id = id;
    this.contextSize = contextSize;
    this.chat = createChat({
      model: lm.info.name,
      run: (messages, params, signal, onToken) => this.run({ messages }, params, signal, onToken),
    });
  }

  run(input, params, signal, onToken) {
    let cbError = null;
    let stopped = !!(signal && signal.aborted);
    const ctl = new AbortController();
    ctl.signal.addEventListener('abort', () => { stopped = true; }, { once: true });
    if (signal) {
      if (signal.aborted) ctl.abort();
      else signal.addEventListener('abort', () => ctl.abort(), { once: true });
    }
    // What the caller has seen. The engine may run ahead of the page by the time an abort message takes to reach
    // it; the caller is shown nothing after abort() and the result ends where the stream it saw ended.
    const seen = { text: '', tokens: [] };
    const onEvent = onToken && ((ev, d) => {
      if (ev !== 'token' || stopped) return;
      seen.text += d.text;
      if (d.token !== null) seen.tokens.push(d.token);
      try { onToken(d.text, d.token); } catch (e) { cbError = e; ctl.abort(); }
    });
    return this.lm.t.call('complete', { session: this.id, ...input, params, stream: !!onToken },
      { signal: ctl.signal, onEvent }).then((r) => {
      if (cbError) throw cbError;
      if (stopped && onToken) {
        r.text = seen.text;
        r.tokens = seen.tokens;
        r.finishReason = 'abort';
        r.timings.predictedN = seen.tokens.length;
      }
      return r;
    });
  }

  /**
   * Completes a prompt (text, or an array of token ids). Resolves with finishReason 'abort' and the partial text
   * when options.signal aborts.
   */
  async complete(prompt, options = {}) {
    checkArg('prompt', prompt, 'prompt');
    const input = typeof prompt === 'string' ? { prompt } : { tokens: Array.from(prompt) };
    checkOptions('options', options, COMPLETE);
    return this.run(input, samplingParams(options), options.signal, options.onToken);
  }

  /** Forgets the cached conversation. */
  reset() { return this.lm.t.call('sessionReset', { session: this.id }); }

  /** Frees the session's KV cache. */
  dispose() { return this.lm.t.call('sessionFree', { session: this.id }); }
}

export class PocketLM {
  /**
   * Loads a model. See pocketlm.d.ts for every option.
   * @returns {Promise<PocketLM>}
   */
  static async load(options = {}) {
    checkOptions('options', options, { contextSize: 'positive', batchSize: 'positive', kvF32: 'boolean',
      onProgress: 'function', signal: 'signal', worker: 'boolean', cache: 'cache', exact: 'boolean' });
    const { model, threads, contextSize, onProgress, variant, signal, batchSize, kvF32, wasmBase, cache, exact } = options;
    if (model === undefined || model === null) throw new PocketLMError('BAD_ARG', 'PocketLM.load needs { model }');
    if (signal && signal.aborted) throw abortError('loading the model');
    const inProcess = isNode && !options.worker;
    const progress = (p) => { try { if (onProgress) onProgress(p); } catch { /* the caller's bug */ } };
    const { desc, pump } = await describeModel(model, { cache, inProcess, signal, onProgress: onProgress && progress });
    let t = null;
    const t0 = performance.now();
    let lastProgress = -Infinity;
    const onEvent = (ev, data, id) => {
      if (ev === 'progress' && onProgress) { // at most ~10 a second, and the last one
        const now = performance.now();
        if (now - lastProgress < 100 && data.loaded !== data.total) return;
        lastProgress = now;
        progress({ ...data, fraction: data.total ? Math.min(1, data.loaded / data.total) : null, phase: 'load',
          bytesPerSecond: now > t0 ? data.loaded / ((now - t0) / 1000) : 0 });
      } else if (ev === 'pull' && pump) {
        pump.next().then(
          (c) => t.send(c ? { type: 'chunk', id, data: c } : { type: 'chunk', id, done: true }, c ? [c.buffer] : []),
          (e) => t.send({ type: 'chunk', id, error: { code: 'IO', message: `reading the model failed: ${e.message}` } }),
        );
      }
    };
    if (desc.kind === 'pump') desc.size = desc.size || 0;
    const args = {
      source: desc, threads, contextSize, variant, batchSize, kvF32, exact: !!exact,
      base: wasmBase ? new URL(wasmBase, globalThis.location ? location.href : undefined).href : undefined,
    };
    // Firefox ESR now and then never returns from `new Worker()` when the engine's Worker creates its pthread
    // Workers (measured: about 1 threaded load in 200 in a loop of loads; the engine's thread is then stuck inside
    // the constructor and answers nothing). The engine says when that step starts and ends ('threads' events); a
    // step that has not ended after THREAD_START_MS is abandoned with its Worker and tried once more in a fresh one.
    // Stalls come in runs within a page, so after a second one a load that did not name its variant runs
    // single-threaded (info.threads says 1) rather than fail. Nothing of the model has been read by then (the
    // source is opened after the threads start), so each try reads it from the start.
    for (let attempt = 1; ; attempt++) {
      t = inProcess ? await InProcessTransport.create() : await WorkerTransport.create();
      let timer = null, stuck, stall = null;
      const stalled = new Promise((_, reject) => { stuck = reject; });
      stalled.catch(() => {});
      const events = (ev, data, id) => {
        if (ev !== 'threads') return onEvent(ev, data, id);
        clearTimeout(timer);
        if (data === 'starting') {
          timer = setTimeout(() => stuck(stall = new PocketLMError('UNSUPPORTED_ENVIRONMENT', `the browser did not ` +
            `start the engine's threads within ${THREAD_START_MS / 1000} s, twice: load with { threads: 1 }`)), THREAD_START_MS);
        }
      };
      try {
        const info = await Promise.race([t.call('load', args, { onEvent: events, signal }), stalled]);
        return new PocketLM(t, info);
      } catch (e) {
        t.close();
        if (e !== stall || attempt === 3 || (attempt === 2 && variant)) throw e;
        if (attempt === 2) args.threads = 1;
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /**
   * What a model is and whether this browser can run it, from its GGUF header alone (see pocketlm.d.ts): a URL is
   * read with Range requests, anything else only as far as its header goes.
   * @returns {Promise<object>}
   */
  static async inspect(model, options = {}) {
    checkOptions('options', options, { contextSize: 'positive', batchSize: 'positive', kvF32: 'boolean',
      signal: 'signal', cache: 'cache', memoryLimit: 'positive' });
    if (model === undefined || model === null) throw new PocketLMError('BAD_ARG', 'PocketLM.inspect needs a model');
    const { signal, wasmBase } = options;
    if (signal && signal.aborted) throw abortError('inspecting the model');
    // never a download into the store: only a store id reads from it
    const { desc } = await describeModel(model, { cache: isModelId(model) ? options.cache : false, inProcess: true });
    const { inspectSource } = await import('./inspect.js');
    return inspectSource(desc, { ...options,
      base: wasmBase ? new URL(wasmBase, globalThis.location ? location.href : undefined).href : undefined });
  }

  /** What this JavaScript engine supports: { wasm, simd, relaxedSimd, threads, nestedWorkers }. */
  static features() { return detectFeatures(); }

  /** The variant and thread count load() would pick here for these options. */
  static chooseVariant(options = {}) { return chooseVariant(options); }

  /** @private use PocketLM.load */
  constructor(t, info) {
    this.t = t;
    this.info = info;
    this.defaultSession = info.hasWeights ? new Session(this, 1, info.contextSize) : null;
    this.chat = createChat({
      model: info.name,
      run: (messages, params, signal, onToken) => this.need().run({ messages }, params, signal, onToken),
    });
  }

  need() {
    if (!this.defaultSession) {
      throw new PocketLMError('BAD_ARG', 'this GGUF holds only a vocabulary: it can tokenize but not generate');
    }
    return this.defaultSession;
  }

  /** Completes a prompt on the default session: { text, tokens, finishReason, timings }. */
  async complete(prompt, options) { return this.need().complete(prompt, options); }

  /** A new independent session (its own KV cache) over the same model. */
  async createSession(options = {}) {
    const { contextSize, batchSize, kvF32 } = checkOptions('options', options,
      { contextSize: 'positive', batchSize: 'positive', kvF32: 'boolean' });
    this.need();
    const r = await this.t.call('session', { contextSize, batchSize, kvF32 });
    return new Session(this, r.id, r.contextSize);
  }

  /** Token ids of a text. bos: add the BOS token (default: as the model says); special: parse control-token text. */
  async tokenize(text, options = {}) {
    checkArg('text', text, 'string');
    const { bos, special } = checkOptions('options', options, { bos: 'boolean', special: 'boolean' });
    return this.t.call('tokenize', { text, bos, special });
  }

  /** Text of token ids. */
  async detokenize(ids) {
    return this.t.call('detokenize', { ids: Array.from(checkArg('ids', ids, 'tokens')) });
  }

  /** Renders chat messages with the model's template: { text, family }. */
  async applyChatTemplate(messages) {
    return this.t.call('chatTemplate', { messages: checkMessages('messages', messages) });
  }

  /** The model's metadata and tensor table (as the CLI's `pocketlm info`). */
  modelInfo() { return this.t.call('modelInfoJSON', {}); }

  /** Frees the model and ends the engine; every later call rejects with UNLOADED. */
  async unload() {
    if (this.t.closed) return;
    try {
      await this.t.call('unload', {});
    } finally {
      this.t.fail(new PocketLMError('UNLOADED', 'the model was unloaded'));
      this.t.close();
    }
  }
}

/** This package's version: package.json's, and the wasm core's plm_version() (lm.info.version); a test holds all
 * three equal. */
PocketLM.version = '0.1.0';
PocketLM.variants = Object.keys(VARIANTS);

export default PocketLM;
