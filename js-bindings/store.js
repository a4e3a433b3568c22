// ModelStore: model files downloaded once into IndexedDB, in fixed-size chunks, resumable and verified; read back
// chunk by chunk by the engine's Worker (source kind 'store'), so no JavaScript realm ever holds a whole model.
//
// Database "pocketlm" (or ModelStore.open({ name })), version 1:
//   models  keyPath 'id'  the record: what list() shows, plus the download's private state (chunkSize, running
//                         SHA-256, expected hash, a tag that changes on every restart)
//   chunks  key [id, i]   bytes [i * chunkSize, (i + 1) * chunkSize) of the file, a Blob (or an ArrayBuffer where a
//                         browser cannot store Blobs)
// Each chunk is written in one transaction with its record: whatever cuts a download, the record says which bytes
// are there.
import { PocketLMError } from './errors.js';
import { SHA256, sha256Hex } from './sha256.js';

const VERSION = 1;
export const DEFAULT_CHUNK = 4 << 20;
export const MIN_CHUNK = 64 << 10;
export const MAX_CHUNK = 64 << 20;
const TRIES = 3; // after a failed request: this many more, with back-off, before NETWORK
const BACKOFF_MS = 250;
const PROGRESS_MS = 100;
const WAIT_PROGRESS_MS = 250; // progress while another tab holds the download (read back from IndexedDB)
const ID_RE = /^[0-9a-f]{32}$/;
const PRIVATE = ['chunkSize', 'state', 'expected', 'gen', 'stored'];

const err = (code, message, cause) => new PocketLMError(code, message, cause ? { cause } : undefined);
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

/** Whether a string has the shape of a ModelStore id (a URL never does). */
export const isModelId = (s) => typeof s === 'string' && ID_RE.test(s);

/** The stable id of an absolute URL: the first 128 bits of its SHA-256, as hex. */
export const modelId = (href) => sha256Hex(href).slice(0, 32);

// ---- IndexedDB, promise-shaped ----
const req = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});
const done = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onerror = (e) => reject(e.target.error);
  tx.onabort = () => reject(tx.error || err('ABORTED', 'a store transaction was aborted'));
});
const chunkRange = (id) => IDBKeyRange.bound([id, 0], [id, Infinity]);

const estimate = async () => (typeof navigator === 'object' && navigator.storage && navigator.storage.estimate
  ? navigator.storage.estimate() : {});

// QUOTA_EXCEEDED with the numbers: what the download still needs, what the browser says is left.
async function quotaError(rec, cause) {
  const { usage, quota } = await estimate();
  const need = rec.size ? `${mb(rec.size - rec.bytesStored)} more` : 'more space (its size is not known yet)';
  const left = quota === undefined ? '' : `, the browser allows this site ${mb(Math.max(0, quota - usage))} ` +
    `(quota ${mb(quota)}, used ${mb(usage)})`;
  return err('QUOTA_EXCEEDED', `${rec.url} needs ${need}${left}: ${mb(rec.bytesStored)} are stored and kept; free ` +
    'space (store.delete(), evict()) or ask for more (store.persist()), then download() again', cause);
}

function checkId(id) {
  if (typeof id !== 'string') throw err('BAD_ARG', 'id must be a string (from list() or download())');
}

function storeError(e, what) {
  if (e instanceof PocketLMError) return e;
  if (e && e.name === 'QuotaExceededError') return err('QUOTA_EXCEEDED', `${what}: the browser's storage quota is full`, e);
  return err('IO', `${what}: ${e && e.message ? e.message : e}`, e);
}

/** Opens (and on first use creates) the store's database. Works in pages and Workers. */
export async function openDB(name) {
  if (typeof indexedDB !== 'object' || !indexedDB) {
    throw err('UNSUPPORTED_ENVIRONMENT', 'ModelStore needs IndexedDB, which this environment does not have ' +
      '(Node, or a browser with storage disabled): load models by URL with { cache: false } instead');
  }
  const r = indexedDB.open(name, VERSION);
  r.onupgradeneeded = () => {
    const db = r.result;
    if (!db.objectStoreNames.contains('models')) db.createObjectStore('models', { keyPath: 'id' });
    if (!db.objectStoreNames.contains('chunks')) db.createObjectStore('chunks');
  };
  let db;
  try {
    db = await new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
      r.onblocked = () => reject(new Error('another tab holds an older version of the database open'));
    });
  } catch (e) {
    throw err('UNSUPPORTED_ENVIRONMENT', `cannot open the IndexedDB database "${name}" (${e && e.message}): ` +
      'storage may be disabled (private browsing, site settings)', e);
  }
  db.onversionchange = () => db.close();
  return db;
}

function publicRecord(r) {
  if (!r) return null;
  const o = { ...r };
  for (const k of PRIVATE) delete o[k];
  return o;
}

// A stored chunk's bytes, read into the reused buffer `into` where possible: Blob.arrayBuffer() makes a new buffer
// per chunk, and tens of them pile up before the garbage collector runs.
async function chunkBytes(v, into) {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (!v || typeof v.arrayBuffer !== 'function') {
    throw err('IO', 'a stored chunk is unreadable: delete the model and download it again');
  }
  let reader;
  try {
    if (v.size > into.byteLength) throw new Error('larger');
    reader = v.stream().getReader({ mode: 'byob' });
  } catch {
    return new Uint8Array(await v.arrayBuffer());
  }
  let buf = into, n = 0;
  while (n < v.size) {
    const { value, done } = await reader.read(new Uint8Array(buf, n, buf.byteLength - n));
    if (value) { buf = value.buffer; n += value.byteLength; }
    if (done) break;
  }
  reader.releaseLock();
  return new Uint8Array(buf, 0, n);
}

/** Chunks of a complete stored model, for the engine (source kind 'store'). Marks the model used. */
export async function readModel({ name, id }) {
  const db = await openDB(name);
  const tx = db.transaction('models', 'readwrite');
  const rec = await req(tx.objectStore('models').get(id));
  if (!rec) { db.close(); throw err('UNKNOWN_MODEL', `no model with id ${id} in the store "${name}": list() shows what is there`); }
  if (!rec.complete) {
    db.close();
    throw err('INCOMPLETE', `the model ${rec.url} is not completely downloaded (${rec.bytesStored} of ` +
      `${rec.size || '?'} bytes): call store.download(url) to finish it`);
  }
  rec.lastUsedAt = Date.now();
  tx.objectStore('models').put(rec);
  await done(tx).catch(() => {});
  const n = Math.ceil(rec.size / rec.chunkSize);
  const get = async (i, into) => {
    const v = await req(db.transaction('chunks').objectStore('chunks').get([id, i]));
    if (v === undefined) throw err('IO', `chunk ${i} of ${rec.url} is missing (deleted while loading?)`);
    return chunkBytes(v, into);
  };
  // Two buffers: the engine copies one into wasm memory while the next chunk is read into the other.
  async function* chunks() {
    try {
      let spare = new ArrayBuffer(rec.chunkSize);
      let next = n ? get(0, new ArrayBuffer(rec.chunkSize)) : null;
      let seen = 0;
      for (let i = 0; i < n; i++) {
        const c = await next;
        next = i + 1 < n ? get(i + 1, spare) : null;
        if (next) next.catch(() => {});
        seen += c.length;
        yield c;
        spare = c.buffer.byteLength === rec.chunkSize ? c.buffer : new ArrayBuffer(rec.chunkSize);
      }
      if (seen !== rec.size) throw err('IO', `the stored ${rec.url} has ${seen} bytes, its record says ${rec.size}`);
    } finally {
      db.close();
    }
  }
  return { size: rec.size, name: rec.name, chunks: chunks() };
}

// One writer per model across tabs and Workers; without Web Locks, writeChunk's record check stops a second one.
function withLock(name, signal, fn) {
  if (typeof navigator !== 'object' || !navigator.locks || typeof navigator.locks.request !== 'function') return fn();
  return navigator.locks.request(name, signal ? { signal } : {}, fn).catch((e) => {
    if (e && e.name === 'AbortError' && signal && signal.aborted) throw err('ABORTED', 'the download was aborted');
    throw e;
  });
}

async function heldLocks() {
  try {
    const q = await navigator.locks.query();
    return new Set([...q.held, ...q.pending].map((l) => l.name));
  } catch {
    return new Set();
  }
}

function absoluteURL(url) {
  if (url instanceof URL) url = url.href;
  if (typeof url !== 'string' || !url) throw err('BAD_ARG', `url must be a non-empty string or URL, got ${typeof url}`);
  let u;
  try {
    u = new URL(url, globalThis.location ? globalThis.location.href : undefined);
  } catch {
    throw err('BAD_ARG', `"${url}" is not a URL: give the address of a .gguf file`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw err('BAD_ARG', `"${url}" is not an http(s) URL: the store downloads http(s) files only`);
  }
  u.hash = '';
  return u.href;
}

function checkOptions(o) {
  if (o === null || typeof o !== 'object') throw err('BAD_ARG', 'download options must be an object');
  const { sha256, onProgress, signal, chunkSize } = o;
  if (sha256 !== undefined && sha256 !== null && !(typeof sha256 === 'string' && /^[0-9a-fA-F]{64}$/.test(sha256))) {
    throw err('BAD_ARG', 'sha256 must be the file\'s SHA-256 as 64 hex digits');
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') throw err('BAD_ARG', 'onProgress must be a function');
  if (signal !== undefined && !(signal && typeof signal.aborted === 'boolean' && typeof signal.addEventListener === 'function')) {
    throw err('BAD_ARG', 'signal must be an AbortSignal');
  }
  if (chunkSize !== undefined && !(Number.isInteger(chunkSize) && chunkSize >= MIN_CHUNK && chunkSize <= MAX_CHUNK)) {
    throw err('BAD_ARG', `chunkSize must be a whole number of bytes from ${MIN_CHUNK} (64 KiB) to ${MAX_CHUNK} (64 MiB), ` +
      `got ${chunkSize}`);
  }
}

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  if (signal) signal.addEventListener('abort', () => { clearTimeout(t); reject(err('ABORTED', 'the download was aborted')); }, { once: true });
});

// A reason to drop what is stored and fetch the file from its start.
class Restart extends Error {}

export class ModelStore {
  /** @private use ModelStore.open */
  constructor(db, name) {
    this.db = db;
    this.name = name;
    this.blobsFail = false; // then chunks are stored as ArrayBuffers (set by writeChunk, and by the bench)
  }

  static async open(options = {}) {
    if (options === null || typeof options !== 'object') throw err('BAD_ARG', 'ModelStore.open takes { name }');
    const name = options.name === undefined ? 'pocketlm' : options.name;
    if (typeof name !== 'string' || !name) throw err('BAD_ARG', 'name must be a non-empty string');
    return new ModelStore(await openDB(name), name);
  }

  static id(url) { return modelId(absoluteURL(url)); }

  async raw(id) {
    return req(this.db.transaction('models').objectStore('models').get(id));
  }

  async list() {
    const all = await req(this.db.transaction('models').objectStore('models').getAll());
    return all.sort((a, b) => a.createdAt - b.createdAt).map(publicRecord);
  }

  async get(id) {
    checkId(id);
    return publicRecord(await this.raw(id)) || null;
  }

  async delete(id) {
    checkId(id);
    const tx = this.db.transaction(['models', 'chunks'], 'readwrite');
    const had = await req(tx.objectStore('models').getKey(id));
    tx.objectStore('models').delete(id);
    tx.objectStore('chunks').delete(chunkRange(id));
    await done(tx);
    return had !== undefined;
  }

  async estimate() {
    const e = await estimate();
    const models = (await this.list()).reduce((s, r) => s + r.bytesStored, 0);
    return { usage: e.usage ?? null, quota: e.quota ?? null, models };
  }

  async persist() {
    if (typeof navigator !== 'object' || !navigator.storage || !navigator.storage.persist) return false;
    try { return await navigator.storage.persist(); } catch { return false; }
  }

  async evict({ keepBytes } = {}) {
    if (!(Number.isFinite(keepBytes) && keepBytes >= 0)) throw err('BAD_ARG', 'evict needs { keepBytes: a number >= 0 }');
    const all = await this.list();
    let total = all.reduce((s, r) => s + r.bytesStored, 0);
    const busy = typeof navigator === 'object' && navigator.locks ? await heldLocks() : new Set();
    const used = (r) => r.lastUsedAt || r.createdAt;
    const order = [...all.filter((r) => r.complete).sort((a, b) => used(a) - used(b)),
      ...all.filter((r) => !r.complete).sort((a, b) => used(a) - used(b))];
    const gone = [];
    for (const r of order) {
      if (total <= keepBytes) break;
      if (busy.has(this.lockName(r.id))) continue;
      await this.delete(r.id);
      total -= r.bytesStored;
      gone.push(r.id);
    }
    return gone;
  }

  lockName(id) { return `pocketlm:${this.name}:${id}`; }

  async download(url, options = {}) {
    checkOptions(options);
    const href = absoluteURL(url);
    const { signal } = options;
    if (signal && signal.aborted) throw err('ABORTED', 'the download was aborted');
    const id = modelId(href);
    const stop = this.watchOther(id, options.onProgress);
    return withLock(this.lockName(id), signal, () => {
      stop();
      return this.fetchInto(href, id, options);
    }).finally(stop);
  }

  // While another tab or Worker holds the model's lock (downloading it), its stored bytes as progress, phase
  // 'waiting', so that a page that asked for the same model is not silent until the lock comes free. Returns the stop.
  watchOther(id, cb) {
    if (!cb || typeof navigator !== 'object' || !navigator.locks) return () => {};
    let stopped = false, t0 = 0, from = 0;
    const tick = async () => {
      const rec = await this.raw(id).catch(() => null);
      if (stopped || !rec) return;
      const t = performance.now();
      if (!t0) t0 = t, from = rec.bytesStored;
      const s = (t - t0) / 1000, total = rec.size || 0;
      try {
        cb({ loaded: rec.bytesStored, total, bytesPerSecond: s > 0 ? Math.max(0, rec.bytesStored - from) / s : 0,
          fraction: total ? Math.min(1, rec.bytesStored / total) : null, phase: 'waiting' });
      } catch { /* the caller's bug must not break the download */ }
    };
    const timer = setInterval(tick, WAIT_PROGRESS_MS);
    return () => { stopped = true; clearInterval(timer); };
  }

  async fetchInto(href, id, o) {
    const expected = o.sha256 ? o.sha256.toLowerCase() : null;
    let rec = await this.raw(id);
    if (rec && rec.complete) {
      if (!expected || rec.sha256 === expected) return publicRecord(rec);
      rec = await this.restart({ ...rec, stored: true }); // the stored file is not the one asked for
    }
    if (rec) rec.stored = true;
    else rec = this.fresh(href, id, o);
    if (expected) rec.expected = rec.sha256 = expected;
    // job.rec: the record as last written (or to be written with the first chunk)
    const job = { rec, o, progress: this.progress(o.onProgress) };
    job.progress.job = job;
    let tries = 0, restarts = 0;
    try {
      for (;;) {
        const before = job.rec.bytesStored;
        try {
          await this.transfer(job);
          break;
        } catch (e) {
          if (e instanceof Restart) {
            if (++restarts > 2) throw err('NETWORK', `the server keeps answering ${href} inconsistently (sizes or ranges)`);
            job.rec = await this.restart(job.rec);
            continue;
          }
          if (!(e && e.retry) || (o.signal && o.signal.aborted)) throw e;
          if (job.rec.bytesStored > before) tries = 0; // progress was made: the next cut gets its full tries again
          if (++tries > TRIES) throw err('NETWORK', `${e.message}: gave up after ${TRIES + 1} tries; ` +
            `${job.rec.bytesStored} bytes are stored, call download() again to continue`, e);
          await sleep(BACKOFF_MS * 2 ** (tries - 1), o.signal);
        }
      }
    } catch (e) {
      rec = job.rec;
      if ((rec.bytesStored === 0 && rec.stored && !(e && e.code === 'INTEGRITY')) || (e && e.drop)) {
        await this.delete(id).catch(() => {});
      }
      if (o.signal && o.signal.aborted) {
        throw err('ABORTED', `the download of ${href} was aborted; ${rec.bytesStored} bytes are kept for a later download()`);
      }
      throw e instanceof PocketLMError ? e : storeError(e, `downloading ${href}`);
    }
    return publicRecord(job.rec);
  }

  fresh(href, id, o) {
    let name = new URL(href).pathname;
    name = name.slice(name.lastIndexOf('/') + 1);
    try { name = decodeURIComponent(name); } catch { /* a stray '%': keep it as it is */ }
    return {
      id, url: href, name: name || href,
      size: 0, complete: false, bytesStored: 0, sha256: null, etag: null, lastModified: null,
      createdAt: Date.now(), lastUsedAt: null,
      chunkSize: o.chunkSize || DEFAULT_CHUNK, state: new SHA256().save(), expected: null,
      gen: Math.random().toString(36).slice(2),
    };
  }

  async checkQuota(rec) {
    const { usage, quota } = await estimate();
    if (rec.size && Number.isFinite(quota) && quota - usage < rec.size - rec.bytesStored) throw await quotaError(rec);
  }

  // Drops the stored chunks and starts the record over (a changed file, a server that ignores Range).
  async restart(rec) {
    const next = { ...this.fresh(rec.url, rec.id, rec), name: rec.name, createdAt: rec.createdAt,
      expected: rec.expected, sha256: rec.expected, chunkSize: rec.chunkSize, stored: rec.stored };
    if (rec.stored) {
      const tx = this.db.transaction(['models', 'chunks'], 'readwrite');
      tx.objectStore('chunks').delete(chunkRange(rec.id));
      tx.objectStore('models').put(next);
      await done(tx);
    }
    return next;
  }

  progress(cb) {
    let last = 0, t0 = 0, from = 0;
    const self = {
      start() { t0 = performance.now(); from = self.job.rec.bytesStored; },
      report(loaded, force, phase = 'download') {
        const t = performance.now();
        if (!cb || (!force && t - last < PROGRESS_MS)) return;
        last = t;
        const total = self.job.rec.size || 0;
        const s = (t - t0) / 1000;
        try {
          cb({ loaded, total, bytesPerSecond: s > 0 ? Math.max(0, loaded - from) / s : 0,
            fraction: total ? Math.min(1, loaded / total) : null, phase });
        } catch { /* the caller's bug must not break the download */ }
      },
    };
    return self;
  }

  // One request: from the first missing byte to the end, written chunk by chunk into job.rec.
  async transfer(job) {
    const { o } = job;
    let rec = job.rec;
    const headers = {};
    const resuming = rec.bytesStored > 0;
    if (resuming) {
      headers.Range = `bytes=${rec.bytesStored}-`;
      // If-Range is not CORS-safelisted (its preflight fails on some CDNs): same origin only
      const validator = rec.etag && !rec.etag.startsWith('W/') ? rec.etag : rec.lastModified;
      const sameOrigin = globalThis.location && new URL(rec.url).origin === location.origin;
      if (validator && sameOrigin) headers['If-Range'] = validator;
    }
    let res;
    try {
      res = await fetch(rec.url, { headers, signal: o.signal, cache: 'no-store', credentials: 'same-origin' });
    } catch (e) {
      if (o.signal && o.signal.aborted) throw err('ABORTED', 'the download was aborted');
      throw Object.assign(err('NETWORK', `cannot fetch ${rec.url} (${e.message}): check the connection`, e), { retry: true });
    }
    const h = (k) => res.headers.get(k);
    const drop = () => { if (res.body) res.body.cancel().catch(() => {}); };
    if (res.status === 404 || res.status === 410) {
      drop();
      throw err('NOT_FOUND', `${rec.url} does not exist on the server (HTTP ${res.status}): check the URL`);
    }
    if (resuming && res.status === 416) { drop(); throw new Restart(); }
    if (!res.ok) {
      drop();
      throw Object.assign(err('NETWORK', `the server answered HTTP ${res.status} for ${rec.url}`), { retry: res.status >= 500 });
    }
    const encoded = h('content-encoding') && h('content-encoding') !== 'identity';
    const etag = h('etag'), lastModified = h('last-modified');
    let size;
    if (res.status === 206) {
      // Across origins Content-Range and ETag may be unreadable (not exposed), Content-Length never is
      const range = h('content-range');
      const m = range && /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range);
      const len = Number(h('content-length')) || 0;
      size = m && m[3] !== '*' ? Number(m[3]) : rec.size;
      const changed = (range ? !m || Number(m[1]) !== rec.bytesStored : len && rec.size && rec.bytesStored + len !== rec.size) ||
        (rec.size && size !== rec.size) ||
        (rec.etag && etag && etag !== rec.etag) || (rec.lastModified && lastModified && lastModified !== rec.lastModified);
      if (!resuming || changed) { drop(); throw new Restart(); }
    } else {
      if (resuming) rec = job.rec = await this.restart(rec); // Range ignored, or the file changed (If-Range)
      size = encoded ? 0 : Number(h('content-length')) || 0;
      rec.etag = etag;
      rec.lastModified = lastModified;
    }
    if (size) rec.size = size;
    try {
      await this.checkQuota(rec);
    } catch (e) {
      drop();
      throw e;
    }
    if (!res.body) throw err('NETWORK', `${rec.url} has an empty body`);
    job.progress.start();
    await this.readBody(job, res.body.getReader());
  }

  async readBody(job, reader) {
    const { o, progress } = job;
    const url = job.rec.url;
    const cs = job.rec.chunkSize;
    const hash = SHA256.restore(job.rec.state);
    let buf = new Uint8Array(cs), spare = new Uint8Array(cs), fill = 0;
    let writing = null; // the chunk write in flight: the next chunk is read meanwhile
    let received = job.rec.bytesStored;
    const fresh = received === 0;
    // A model this browser cannot run (architecture, weight type, memory) is refused from its header, the engine's
    // own verdict (inspect.js), judged beside the transfer so as not to slow it: by the time the verdict is in, a
    // chunk or two may be stored, and they are dropped with the refusal. early: the bytes so far, until the verdict.
    let early = fresh ? [] : null, earlyBytes = 0, earlyNeed = 0, judging = null, refusal = null;
    const judge = () => {
      const all = new Uint8Array(earlyBytes);
      let at = 0;
      for (const p of early) { all.set(p, at); at += p.length; }
      early = [all];
      judging = import('./inspect.js').then((m) => m.headerVerdict(all)).then((v) => {
        if (v.need) { // not the whole header yet; past 32 MiB the load judges it instead (a header that big is odd)
          earlyNeed = v.need;
          if (v.need > (32 << 20)) early = null;
        } else {
          early = null;
          if (!v.skip && !v.supported && v.status !== 'BAD_MODEL') {
            refusal = Object.assign(err(v.status, `${url} was not downloaded: ${v.reason}`), { drop: true });
          }
        }
      }, () => { early = null; }).finally(() => { judging = null; });
    };
    const settle = async () => {
      if (!writing) return;
      const w = writing;
      writing = null;
      job.rec = await w;
    };
    const flush = async (last) => {
      if (last && early && !judging) judge();
      if (last) await judging;
      if (refusal) throw refusal;
      const data = buf.subarray(0, fill); // already hashed, piece by piece as it came
      await settle();
      writing = this.writeChunk(job.rec, data, hash, last); // copies data before it returns
      writing.catch(() => {});
      [buf, spare] = [spare, buf];
      fill = 0;
      if (last) await settle();
    };
    try {
      for (;;) {
        let r;
        try {
          r = await reader.read();
        } catch (e) {
          if (o.signal && o.signal.aborted) throw err('ABORTED', 'the download was aborted');
          throw Object.assign(err('NETWORK', `the connection broke while downloading ${url} (${e.message})`, e),
            { retry: true });
        }
        if (r.done) break;
        const v = r.value;
        if (fresh && received < 4 && received + v.length >= 4) { // before anything is stored: is it a GGUF at all?
          const head = new Uint8Array(4);
          head.set(buf.subarray(0, received));
          head.set(v.subarray(0, 4 - received), received);
          if (String.fromCharCode(...head) !== 'GGUF') {
            throw err('BAD_MODEL', `${url} is not a GGUF file (it starts with ${JSON.stringify(
              new TextDecoder().decode(head))}; an error page?): check the URL`);
          }
        }
        received += v.length;
        if (early) { // the first 256 KiB, then as much as the header wants (few copies: the page's heap stays flat)
          early.push(v);
          earlyBytes += v.length;
          if (!judging && earlyBytes >= Math.max(earlyNeed, 256 << 10)) judge();
        }
        // hashed as it comes: a whole chunk at once (4 MiB by default) was a main-thread task of 50-140 ms here,
        // 4x that on a slow phone
        for (let at = 0; at < v.length;) {
          const n = Math.min(cs - fill, v.length - at);
          hash.update(v.subarray(at, at + n));
          buf.set(v.subarray(at, at + n), fill);
          fill += n;
          at += n;
          if (fill === cs) await flush(false);
        }
        progress.report(received);
      }
      if (fresh && received < 4) throw err('BAD_MODEL', `${url} is ${received} bytes long: not a GGUF file`);
      await settle();
      const rec = job.rec;
      if (rec.size && received < rec.size) {
        throw Object.assign(err('NETWORK', `the download of ${url} stopped at byte ${received} of ${rec.size}`),
          { retry: true });
      }
      if (rec.size && received > rec.size) throw new Restart();
      rec.size = received;
      progress.report(received, true, 'verify');
      await flush(true);
    } finally {
      await settle().catch(() => {}); // a failed write is reported by the one that awaited it first
      reader.cancel().catch(() => {});
    }
  }

  // One chunk and its record in one transaction that first checks the record is still this download's (not deleted
  // or restarted). The last chunk also verifies the hash.
  async writeChunk(rec, data, hash, last) {
    const next = { ...rec, bytesStored: rec.bytesStored + data.length, state: hash.save(), stored: true };
    const value = this.blobsFail ? data.slice().buffer : new Blob([data]); // a copy: the caller reuses data
    const index = rec.bytesStored / rec.chunkSize;
    if (last) {
      const sum = hash.hex();
      if (rec.expected && sum !== rec.expected) {
        await this.restart({ ...rec, stored: true }); // kept, empty and incomplete, so that list() shows what failed
        throw err('INTEGRITY', `${rec.url} has SHA-256 ${sum}, expected ${rec.expected}: the file on the server is ` +
          'not the one asked for (or was corrupted on the way); the download was discarded');
      }
      Object.assign(next, { complete: true, sha256: sum, size: next.bytesStored });
    }
    const put = async (v) => {
      const tx = this.db.transaction(['models', 'chunks'], 'readwrite');
      const models = tx.objectStore('models');
      const cur = await req(models.get(rec.id));
      if (rec.stored ? !cur || cur.gen !== rec.gen || cur.bytesStored !== rec.bytesStored : cur && cur.gen !== rec.gen) {
        tx.abort();
        throw err('ABORTED', `${rec.url} was deleted or restarted elsewhere while this download wrote it`);
      }
      tx.objectStore('chunks').put(v, [rec.id, index]);
      models.put(next);
      await done(tx);
    };
    try {
      try {
        await put(value);
      } catch (e) {
        // Safari has refused Blobs in IndexedDB at times ("Error preparing Blob/File data"): store bytes instead.
        if (!(value instanceof Blob) || !e || e.name === 'QuotaExceededError' || e instanceof PocketLMError) throw e;
        this.blobsFail = true;
        await put(await value.arrayBuffer());
      }
    } catch (e) {
      throw e && e.name === 'QuotaExceededError' ? await quotaError(rec, e) : storeError(e, `storing ${rec.url}`);
    }
    return next;
  }

  // ---- import: a File or Blob from the device, copied in chunk by chunk ----

  async import(file, options = {}) {
    if (!isBlob(file)) throw err('BAD_ARG', 'import takes a File or Blob (from <input type=file> or a drop)');
    checkOptions(options);
    const { signal } = options;
    if (signal && signal.aborted) throw err('ABORTED', 'the import was aborted');
    const head = await readSlice(file, 0, Math.min(file.size, ID_BYTES));
    const label = file.name || 'a file';
    if (file.size < 4 || String.fromCharCode(...head.subarray(0, 4)) !== 'GGUF') {
      throw err('BAD_MODEL', `${label} is not a GGUF file (it starts with ${JSON.stringify(
        new TextDecoder().decode(head.subarray(0, 4)))}): choose a .gguf model file`);
    }
    const id = fileId(file, head);
    return withLock(this.lockName(id), signal, () => this.copyInto(file, id, options));
  }

  async copyInto(file, id, o) {
    const expected = o.sha256 ? o.sha256.toLowerCase() : null;
    const old = await this.raw(id);
    if (old && old.complete && (!expected || old.sha256 === expected)) return publicRecord(old);
    if (old) await this.delete(id); // a partial copy (another tab's, interrupted) or the wrong hash: start over
    const name = file.name || 'imported.gguf';
    let rec = { ...this.fresh('file:', id, o), url: `file:${encodeURIComponent(name)}`, name, size: file.size,
      lastModified: file.lastModified ? new Date(file.lastModified).toUTCString() : null, expected };
    const progress = this.progress(o.onProgress);
    progress.job = { rec };
    const what = `importing ${name}`;
    try {
      await this.checkQuota(rec);
      progress.start();
      const hash = new SHA256();
      const cs = rec.chunkSize;
      let next = readSlice(file, 0, Math.min(cs, file.size)); // the next chunk is read while this one is written
      for (let at = 0; at < file.size; at += cs) {
        if (o.signal && o.signal.aborted) throw err('ABORTED', 'aborted');
        const data = await next;
        if (data.length !== Math.min(cs, file.size - at)) throw err('IO', `${name} changed while it was read`);
        const end = at + data.length;
        next = end < file.size ? readSlice(file, end, Math.min(end + cs, file.size)) : null;
        if (next) next.catch(() => {});
        await hashGently(hash, data);
        const last = end === file.size;
        if (last) progress.report(end, true, 'verify');
        rec = progress.job.rec = await this.writeChunk(rec, data, hash, last);
        progress.report(end, last);
      }
    } catch (e) {
      // Nothing partial is kept: continuing needs the file picked again, and then a fresh copy is as quick.
      await this.delete(id).catch(() => {});
      if (o.signal && o.signal.aborted) throw err('ABORTED', `the import of ${name} was aborted; nothing of it is kept`);
      if (e && e.code === 'INTEGRITY') throw err('INTEGRITY', e.message.replace(/the file on the server/, 'the file') + '; nothing of it is kept');
      throw e instanceof PocketLMError ? e : storeError(e, what);
    }
    return publicRecord(rec);
  }
}

// A whole chunk hashed at once (4 MiB by default) is a main-thread task of 50-140 ms here, 4x that on a slow phone:
// hashed in slices, with the event loop let in between (scheduler.yield where there is one; a message otherwise,
// which unlike setTimeout is not clamped to 4 ms).
const HASH_SLICE = 256 << 10;
const nextTask = () => (typeof scheduler === 'object' && scheduler.yield ? scheduler.yield()
  : new Promise((resolve) => {
    const c = new MessageChannel();
    c.port1.onmessage = () => { c.port1.close(); resolve(); };
    c.port2.postMessage(0);
  }));
async function hashGently(hash, data) {
  for (let at = 0; at < data.length; at += HASH_SLICE) {
    if (at) await nextTask();
    hash.update(data.subarray(at, at + HASH_SLICE));
  }
}

// An imported file's id: the first 128 bits of the SHA-256 of its name, size, modification time and first 64 KiB.
// Stable across visits and tabs without reading the whole file, so importing the same file again finds the copy;
// a file edited in place changes its time. The "file\n" prefix keeps these apart from URL ids.
const ID_BYTES = 64 << 10;
const isBlob = (f) => typeof Blob === 'function' && f instanceof Blob;
function fileId(file, head) {
  const h = new SHA256();
  h.update(new TextEncoder().encode(`file\n${file.name || ''}\n${file.size}\n${file.lastModified || 0}\n`));
  h.update(head);
  return h.hex().slice(0, 32);
}

async function readSlice(file, from, to) {
  try {
    return new Uint8Array(await file.slice(from, to).arrayBuffer());
  } catch (e) {
    throw err('IO', `cannot read ${file.name || 'the file'} (${e && e.message}): was it moved or deleted?`, e);
  }
}
