// The engine: one wasm instance, one model, its sessions. It runs wherever PocketLM puts it (a Worker in browsers,
// the calling thread or a worker thread in Node) and speaks one message protocol in both places:
//
//   in:  { type: 'call', id, method, args }   { type: 'abort', id }   { type: 'chunk', id, data | error | done }
//   out: { type: 'result', id, value }  { type: 'error', id, error: {code, message} }  { type: 'event', id, event, data }
//
// Requests on one session run one after another; requests on different sessions interleave token by token (the
// generation loop yields to the event loop after every token).
//
// Aborting: every request on a session gets the session's abort word (plmw_gen_begin); the C session polls it before
// every layer (plm_session_set_abort), so a long prefill stops within one layer's work. Who writes the word:
//   - shared memory (threaded builds; the page is cross-origin isolated, or Node): the page itself, with
//     Atomics.store, the moment its signal aborts — the engine's thread is busy in wasm and could not read a message.
//     The prompt is then evaluated in one call.
//   - otherwise the engine, when the 'abort' message arrives: nothing else can reach its memory, so the prompt is
//     evaluated a batch (batchSize tokens) at a time with the event loop given a turn between batches.
// Either way an abort lands within one batch, and within one layer when memory is shared.
import { PocketLMError, statusError, errorToData, abortError } from './errors.js';
import { chooseVariant, instantiate, shutdown, isNode } from './runtime.js';
import { openSource } from './source.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const now = () => performance.now();

// Yields to the event loop without the 4 ms clamp of nested setTimeout.
let yieldNow;
if (isNode) {
  yieldNow = () => new Promise((r) => setImmediate(r));
} else if (typeof MessageChannel === 'function') {
  const ch = new MessageChannel();
  const waiting = [];
  ch.port1.onmessage = () => waiting.shift()();
  yieldNow = () => new Promise((r) => { waiting.push(r); ch.port2.postMessage(0); });
} else {
  yieldNow = () => new Promise((r) => setTimeout(r, 0));
}

function randomSeed() {
  const a = new Uint32Array(2);
  crypto.getRandomValues(a);
  return a;
}

function seedHalves(seed) {
  if (seed === undefined || seed === null || seed < 0) return randomSeed();
  const b = BigInt.asUintN(64, BigInt(seed));
  return [Number(b & 0xffffffffn), Number(b >> 32n)];
}

export class EngineHost {
  /** @param {(msg: object, transfer?: Transferable[]) => void} post sends a message to the PocketLM side */
  constructor(post) {
    this.post = post;
    this.rt = null; // { M, memory, variant, threads }
    this.model = 0;
    this.sessions = new Map(); // id -> { gen, cache: number[], queue: Promise }
    this.nextSession = 1;
    this.calls = new Map(); // call id -> { aborted, onChunk }
    this.u8 = null;
  }

  // ---- protocol ----
  handle(msg) {
    if (msg.type === 'abort') {
      const c = this.calls.get(msg.id);
      if (c) c.aborted = true;
      if (c && c.onAbort) c.onAbort();
      return;
    }
    if (msg.type === 'chunk') {
      const c = this.calls.get(msg.id);
      if (c && c.onChunk) c.onChunk(msg);
      return;
    }
    if (msg.type !== 'call') return;
    const call = { id: msg.id, aborted: false };
    this.calls.set(msg.id, call);
    const fn = this['m_' + msg.method];
    Promise.resolve()
      .then(() => {
        if (!fn) throw new PocketLMError('BAD_ARG', `unknown method ${msg.method}`);
        return fn.call(this, msg.args || {}, call);
      })
      .then(
        (value) => this.post({ type: 'result', id: msg.id, value }),
        (e) => this.post({ type: 'error', id: msg.id, error: errorToData(e) }),
      )
      .finally(() => this.calls.delete(msg.id));
  }

  emit(call, event, data) {
    this.post({ type: 'event', id: call.id, event, data });
  }

  // ---- wasm memory helpers ----
  heap() {
    const buf = this.rt.memory.buffer;
    if (!this.u8 || this.u8.buffer !== buf) this.u8 = new Uint8Array(buf);
    return this.u8;
  }
  i32() { return new Int32Array(this.heap().buffer); }
  alloc(n) {
    const p = this.rt.M._malloc(Math.max(1, n));
    if (!p) throw new PocketLMError('OUT_OF_MEMORY', `out of wasm memory allocating ${n} bytes`);
    return p;
  }
  /** Bytes out of wasm memory as a string (copied first: TextDecoder refuses views of shared memory). */
  str(ptr, n) {
    if (!ptr) return '';
    const h = this.heap();
    if (n === undefined) { n = 0; while (h[ptr + n]) n++; }
    return decoder.decode(h.slice(ptr, ptr + n));
  }
  /** A NUL-terminated copy of a string in wasm memory; free it with M._free. */
  cstr(s) {
    const b = encoder.encode(s);
    const p = this.alloc(b.length + 1);
    const h = this.heap();
    h.set(b, p);
    h[p + b.length] = 0;
    return [p, b.length];
  }

  /** The PocketLMError for a C status: its code is the core's own name for it (plm_status_name). */
  fail(status, message) {
    return statusError(this.str(this.rt.M._plm_status_name(status)), message);
  }

  needModel() {
    if (!this.model) throw new PocketLMError('UNLOADED', 'no model is loaded (it was unloaded, or loading failed)');
    return this.rt.M;
  }

  session(id) {
    this.needModel();
    const s = this.sessions.get(id);
    if (!s) throw new PocketLMError('BAD_ARG', `session ${id} does not exist (disposed?)`);
    return s;
  }

  // ---- methods ----
  async m_load(a, call) {
    if (this.rt) throw new PocketLMError('BAD_ARG', 'this engine already holds a model');
    const choice = await chooseVariant({ variant: a.variant, threads: a.threads });
    try {
      this.rt = await instantiate({ variant: choice.variant, threads: choice.threads, base: a.base,
        onThreads: (phase) => this.emit(call, 'threads', phase) });
    } catch (e) {
      // A browser may refuse a 4 GiB shared memory (address space on phones): run single-threaded instead.
      if (a.variant || !choice.variant.startsWith('mt-') || e.code !== 'UNSUPPORTED_ENVIRONMENT') throw e;
      choice.variant = choice.variant.slice(3);
      choice.threads = 1;
      this.rt = await instantiate({ variant: choice.variant, threads: 1, base: a.base });
    }
    try {
      return await this.loadModel(a, call, choice);
    } catch (e) {
      this.m_unload(); // frees what was made and ends the pthread workers
      throw e;
    }
  }

  async loadModel(a, call, choice) {
    const M = this.rt.M;
    let onAbort;
    const aborted = new Promise((_, reject) => { onAbort = () => reject(abortError('loading the model')); });
    aborted.catch(() => {});
    const ctl = typeof AbortController === 'function' ? new AbortController() : null;
    call.onAbort = () => { if (ctl) ctl.abort(); onAbort(); };
    if (call.aborted) call.onAbort();

    const desc = a.source.kind === 'pump' ? this.pumpSource(a.source, call) : a.source;
    const src = await Promise.race([openSource(desc, { signal: ctl && ctl.signal }), aborted]);
    const it = src.chunks[Symbol.asyncIterator] ? src.chunks[Symbol.asyncIterator]() : src.chunks[Symbol.iterator]();
    const ld = M._plmw_loader_new();
    if (ld && a.exact) M._plmw_loader_set_exact(ld, 1);
    let buf = 0, cap = 0, loaded = 0, lastProgress = 0, done = false;
    const t0 = now();
    try {
      if (!ld) throw new PocketLMError('OUT_OF_MEMORY', 'out of memory creating the loader');
      // The model and the session made below must fit in what wasm32 leaves: refused from the header, with the
      // numbers, before the weights are copied (plm_loader_set_memory_limit).
      M._plmw_loader_set_memory_limit(ld, 0, a.contextSize || 0, a.batchSize || 0, a.kvF32 ? 1 : 0);
      for (;;) {
        const r = await Promise.race([it.next(), aborted]);
        if (r.done) { done = true; break; }
        const chunk = r.value;
        if (chunk.length > cap) { // one buffer, reused: the JavaScript side holds one chunk at a time
          if (buf) M._free(buf);
          buf = 0;
          buf = this.alloc(cap = chunk.length);
        }
        this.heap().set(chunk, buf);
        const st = M._plmw_loader_feed(ld, buf, chunk.length);
        if (st) throw this.fail(st, this.str(M._plmw_loader_errmsg(ld)));
        loaded += chunk.length;
        const t = now();
        if (t - lastProgress > 50) {
          lastProgress = t;
          this.emit(call, 'progress', { loaded, total: src.size || M._plmw_loader_expected_size(ld) });
        }
      }
      if (call.aborted) throw abortError('loading the model');
      if (buf) { M._free(buf); buf = 0; }
      const st = M._plmw_loader_finish(ld);
      if (st) throw this.fail(st, this.str(M._plmw_loader_errmsg(ld)));
      this.model = M._plmw_loader_take_model(ld);
      this.emit(call, 'progress', { loaded, total: loaded });
    } finally {
      if (buf) M._free(buf);
      if (ld) M._plmw_loader_free(ld);
      if (!done && it.return) Promise.resolve().then(() => it.return()).catch(() => {}); // stop a download or a read
    }
    const loadMs = now() - t0;
    const info = this.modelInfo();
    if (info.hasWeights) {
      const s = await this.m_session({ contextSize: a.contextSize, batchSize: a.batchSize, kvF32: a.kvF32 });
      info.contextSize = s.contextSize;
    }
    return {
      ...info, name: src.name, size: loaded, loadMs, variant: this.rt.variant, threads: this.rt.threads,
      backend: this.str(M._plmw_model_backend(this.model)), exact: !!a.exact, features: choice.features,
    };
  }

  // Chunks of a source that lives on the PocketLM side (a stream or iterable in the page), pulled one at a time.
  pumpSource(desc, call) {
    const host = this;
    async function* pull() {
      for (;;) {
        const msg = await new Promise((resolve) => {
          call.onChunk = resolve;
          host.emit(call, 'pull', null);
        });
        if (msg.error) throw new PocketLMError(msg.error.code || 'IO', msg.error.message);
        if (msg.done) return;
        yield new Uint8Array(msg.data);
      }
    }
    return { kind: 'iterable', iterable: pull(), size: desc.size, name: desc.name };
  }

  modelInfo() {
    const M = this.rt.M;
    const p = this.alloc(40);
    M._plmw_model_info(this.model, p);
    const v = this.i32().slice(p >>> 2, (p >>> 2) + 10);
    M._free(p);
    let family = null;
    const fp = this.alloc(4);
    this.i32()[fp >>> 2] = 0;
    const txt = M._plmw_chat_apply(this.model, 0, 0, 0, 1, fp);
    if (txt) {
      family = this.str(this.i32()[fp >>> 2] >>> 0) || null;
      M._free(txt);
    }
    M._free(fp);
    return {
      arch: this.str(M._plmw_model_arch(this.model)), nVocab: v[0], nCtxTrain: v[1], nEmbd: v[2], nLayer: v[3],
      nHead: v[4], nHeadKv: v[5], nFf: v[6], hasWeights: !!v[7], bos: v[8], eos: v[9],
      weightBytes: M._plmw_model_weight_bytes(this.model), chatTemplate: family, version: this.str(M._plmw_version()),
    };
  }

  m_modelInfoJSON() {
    const M = this.needModel();
    const p = M._plm_model_info_json(this.model);
    if (!p) throw new PocketLMError('OUT_OF_MEMORY', 'out of memory describing the model');
    const s = this.str(p);
    M._free(p);
    return JSON.parse(s);
  }

  m_unload() {
    if (!this.rt) return;
    const M = this.rt.M;
    for (const s of this.sessions.values()) M._plmw_gen_free(s.gen);
    this.sessions.clear();
    if (this.model) M._plm_model_free(this.model);
    this.model = 0;
    shutdown(this.rt);
  }

  async m_session(a) {
    const M = this.needModel();
    const gen = M._plmw_gen_new(this.model, a.contextSize || 0, a.batchSize || 0, this.rt.threads, a.kvF32 ? 1 : 0);
    if (!gen) throw new PocketLMError('OUT_OF_MEMORY', 'out of memory creating a session');
    const st = M._plmw_gen_status(gen);
    if (st) {
      const e = this.fail(st, this.str(M._plmw_gen_errmsg(gen)));
      M._plmw_gen_free(gen);
      throw e;
    }
    const id = this.nextSession++;
    this.sessions.set(id, { gen, cache: [], queue: Promise.resolve(), batch: a.batchSize || 64 });
    return { id, contextSize: M._plmw_gen_n_ctx(gen) };
  }

  m_sessionFree(a) {
    const s = this.sessions.get(a.session);
    if (!s) return;
    this.sessions.delete(a.session);
    s.queue.then(() => this.rt.M._plmw_gen_free(s.gen));
  }

  m_sessionReset(a) {
    const s = this.session(a.session);
    return this.enqueue(s, async () => {
      this.rt.M._plmw_gen_truncate(s.gen, 0);
      s.cache = [];
    });
  }

  enqueue(s, fn) {
    const run = s.queue.then(fn);
    s.queue = run.catch(() => {});
    return run;
  }

  tokenizeRaw(text, bos, special) {
    const M = this.needModel();
    const [tp, tn] = this.cstr(text);
    let cap = tn + 4;
    let ids = this.alloc(cap * 4);
    try {
      let n = M._plm_tokenize(this.model, tp, tn, ids, cap, bos, special ? 1 : 0);
      if (n > cap) {
        M._free(ids);
        ids = 0;
        cap = n;
        ids = this.alloc(cap * 4);
        n = M._plm_tokenize(this.model, tp, tn, ids, cap, bos, special ? 1 : 0);
      }
      if (n < 0) throw new PocketLMError('BAD_ARG', 'the text could not be tokenized');
      return Array.from(this.i32().subarray(ids >>> 2, (ids >>> 2) + n));
    } finally {
      M._free(tp);
      if (ids) M._free(ids);
    }
  }

  m_tokenize(a) {
    return this.tokenizeRaw(String(a.text), a.bos === undefined || a.bos === null ? -1 : a.bos ? 1 : 0, !!a.special);
  }

  m_detokenize(a) {
    const M = this.needModel();
    let cap = 256;
    let buf = this.alloc(cap);
    const parts = [];
    let total = 0;
    try {
      for (const id of a.ids) {
        let n = M._plm_token_to_piece(this.model, id, buf, cap);
        if (n < 0) throw new PocketLMError('BAD_ARG', `invalid token id ${id}: the vocabulary has ids 0..${this.modelInfo().nVocab - 1}`);
        if (n > cap) { // written only when it fits (snprintf's contract): retry with room for it
          M._free(buf);
          buf = 0;
          buf = this.alloc(cap = n);
          n = M._plm_token_to_piece(this.model, id, buf, cap);
        }
        const b = this.heap().slice(buf, buf + n);
        parts.push(b);
        total += b.length;
      }
    } finally {
      if (buf) M._free(buf);
    }
    const all = new Uint8Array(total);
    let o = 0;
    for (const p of parts) { all.set(p, o); o += p.length; }
    return decoder.decode(all);
  }

  // Renders chat messages with the model's template (C: plm_chat_apply).
  applyTemplate(messages) {
    const M = this.needModel();
    const n = messages.length;
    const ptrs = [];
    const arr = this.alloc(n * 8 + 4);
    try {
      for (let i = 0; i < n; i++) {
        const m = messages[i];
        let content = m.content;
        if (Array.isArray(content)) content = content.map((p) => (typeof p === 'string' ? p : p.text || '')).join('');
        const [r] = this.cstr(String(m.role || 'user'));
        const [c] = this.cstr(content === null || content === undefined ? '' : String(content));
        ptrs.push(r, c);
        const h = this.i32();
        h[(arr >>> 2) + i] = r;
        h[(arr >>> 2) + n + i] = c;
      }
      const fam = arr + n * 8;
      this.i32()[fam >>> 2] = 0;
      const out = M._plmw_chat_apply(this.model, arr, arr + n * 4, n, 1, fam);
      if (!out) throw new PocketLMError('BAD_ARG', 'the chat template could not render these messages');
      const text = this.str(out);
      const family = this.str(this.i32()[fam >>> 2] >>> 0) || null;
      M._free(out);
      return { text, family };
    } finally {
      for (const p of ptrs) M._free(p);
      M._free(arr);
    }
  }

  m_chatTemplate(a) {
    return this.applyTemplate(a.messages);
  }

  m_complete(a, call) {
    const s = this.session(a.session || 1);
    return this.enqueue(s, () => this.generate(s, a, call));
  }

  async generate(s, a, call) {
    const M = this.needModel();
    const p = a.params || {};
    let prompt, template = null;
    if (a.messages) {
      const r = this.applyTemplate(a.messages);
      template = r.family;
      prompt = this.tokenizeRaw(r.text, -1, true);
    } else if (a.tokens) {
      prompt = Array.from(a.tokens, Number);
    } else {
      prompt = this.tokenizeRaw(String(a.prompt), p.bos === undefined ? -1 : p.bos ? 1 : 0, !!p.special);
    }
    const g = s.gen;
    const nCtx = M._plmw_gen_n_ctx(g);
    if (!prompt.length) throw new PocketLMError('BAD_ARG', 'the prompt is empty (no tokens)');
    if (prompt.length >= nCtx) {
      throw new PocketLMError('CONTEXT_FULL', `the prompt is ${prompt.length} tokens; the context holds ${nCtx}: ` +
        'shorten it or load with a larger contextSize');
    }
    // Reuse the cached prefix (at least the last prompt token is evaluated again, for its logits).
    let keep = 0;
    if (p.cachePrompt !== false) {
      const c = s.cache;
      while (keep < c.length && keep < prompt.length - 1 && c[keep] === prompt[keep]) keep++;
    }
    M._plmw_gen_truncate(g, keep);
    s.cache.length = keep;

    const [lo, hi] = seedHalves(p.seed);
    const st0 = M._plmw_gen_sampler(g, p.temperature ?? 0.8, p.topK ?? 40, p.topP ?? 0.95, p.minP ?? 0.05,
      p.repeatPenalty ?? 1, p.frequencyPenalty ?? 0, p.presencePenalty ?? 0, p.penaltyLastN ?? 64, lo, hi);
    if (st0) throw this.fail(-st0, this.str(M._plmw_gen_errmsg(g)));
    const maxTokens = p.maxTokens === undefined || p.maxTokens === null ? Infinity : p.maxTokens;
    const stops = (Array.isArray(p.stop) ? p.stop : p.stop ? [p.stop] : []).filter((x) => typeof x === 'string' && x);
    const maxStop = stops.reduce((m, x) => Math.max(m, x.length), 0);
    const stream = !!a.stream;

    // The abort word (see the top of this file).
    M._plmw_gen_begin(g, call.id);
    const word = M._plmw_gen_abort_word(g) >>> 2;
    const shared = typeof SharedArrayBuffer === 'function' && this.rt.memory.buffer instanceof SharedArrayBuffer;
    call.onAbort = () => Atomics.store(this.i32(), word, call.id);
    if (shared) this.emit(call, 'abortWord', { buffer: this.rt.memory.buffer, index: word });
    if (call.aborted) call.onAbort();
    const isAbort = (st) => this.str(M._plm_status_name(st)) === 'ABORTED';

    const result = {
      text: '', tokens: [], finishReason: 'length', template,
      timings: { promptN: 0, promptMs: 0, predictedN: 0, predictedMs: 0 },
      promptTokens: prompt.length,
    };
    const idsBuf = this.alloc(Math.max(prompt.length, 1) * 4);
    let text = '', emitted = 0, cutAtStop = false;
    const t0 = now();
    let t1 = t0;
    try {
      // penalties see the prompt, as in llama.cpp
      this.i32().set(prompt, idsBuf >>> 2);
      M._plmw_gen_accept(g, idsBuf, prompt.length);
      const B = shared ? prompt.length : s.batch;
      for (let i = keep; i < prompt.length; i += B) {
        const n = Math.min(B, prompt.length - i);
        const st = call.aborted ? -1 : M._plmw_gen_eval(g, idsBuf + i * 4, n);
        if (st < 0 || (st && isAbort(st))) {
          // whole batches stay cached: the session knows how many
          s.cache = prompt.slice(0, M._plmw_gen_n_past(g));
          result.timings.promptN = s.cache.length - keep;
          result.timings.promptMs = now() - t0;
          result.finishReason = 'abort';
          return result;
        }
        if (st) throw this.fail(st, this.str(M._plmw_gen_errmsg(g)));
        for (let j = i; j < i + n; j++) s.cache.push(prompt[j]);
        if (i + B < prompt.length) await yieldNow();
      }
      result.timings.promptN = prompt.length - keep;
      t1 = now();
      result.timings.promptMs = t1 - t0;

      let id = maxTokens > 0 ? M._plmw_gen_sample(g) : 0;
      for (; maxTokens > 0;) {
        if (id < 0 && isAbort(-id)) { result.finishReason = 'abort'; break; }
        if (id < 0) throw this.fail(-id, this.str(M._plmw_gen_errmsg(g)));
        if (M._plmw_gen_is_eog(g, id)) { result.finishReason = 'stop'; break; }
        result.tokens.push(id);
        const nb = M._plmw_gen_piece(g, id);
        if (nb < 0) throw new PocketLMError('OUT_OF_MEMORY', `out of wasm memory for the text of token ${id}`);
        if (nb > 0) text += this.str(M._plmw_gen_text(g), nb); // the buffer may move: ask each time
        // Stop strings: cut at the first one; hold back a tail that may still become one.
        let delta;
        if (maxStop) {
          let cut = -1;
          const from = Math.max(0, emitted - maxStop);
          for (const x of stops) {
            const k = text.indexOf(x, from);
            if (k >= 0 && (cut < 0 || k < cut)) cut = k;
          }
          if (cut >= 0) {
            text = text.slice(0, cut);
            cutAtStop = true;
            delta = text.slice(emitted);
          } else {
            let hold = 0;
            for (const x of stops) {
              for (let l = Math.min(x.length - 1, text.length - emitted); l > hold; l--) {
                if (text.endsWith(x.slice(0, l))) { hold = l; break; }
              }
            }
            delta = text.slice(emitted, text.length - hold);
          }
        } else {
          delta = text.slice(emitted);
        }
        emitted += delta.length;
        if (stream) this.emit(call, 'token', { text: delta, token: id });
        if (cutAtStop) { result.finishReason = 'stop'; break; }
        if (result.tokens.length >= maxTokens) break;
        if (M._plmw_gen_n_past(g) >= nCtx) break; // context full: 'length'
        await yieldNow();
        if (call.aborted) { result.finishReason = 'abort'; break; }
        const next = M._plmw_gen_step(g, id);
        if (next < 0 && this.str(M._plm_status_name(-next)) === 'CONTEXT_FULL') break; // 'length'
        if (next >= 0) s.cache.push(id);
        id = next;
      }
      if (!cutAtStop) { // bytes of a character left incomplete at the end are shown as they are
        const nb = M._plmw_gen_flush(g);
        if (nb > 0) text += this.str(M._plmw_gen_text(g), nb);
      }
      if (emitted < text.length) {
        const delta = text.slice(emitted);
        emitted = text.length;
        if (stream) this.emit(call, 'token', { text: delta, token: null });
      }
      result.text = text;
      return result;
    } finally {
      M._free(idsBuf);
      call.onAbort = null;
      result.timings.predictedN = result.tokens.length;
      result.timings.predictedMs = result.tokens.length ? now() - t1 : 0;
      // wasm memory only grows: its size now is the peak so far (weights + KV cache + scratch)
      result.timings.wasmMemoryBytes = this.rt.memory.buffer.byteLength;
    }
  }
}
