// PocketLM.inspect: a GGUF header, read by growing Range requests (or a body cancelled once the header is in) and
// judged by the C core itself (wasm plmw_inspect: the loader's reader and checks), so inspect and load agree.
import { PocketLMError as E, abortError } from './errors.js';
import { instantiate } from './runtime.js';
import { openSource } from './source.js';

const MAX_HEADER = 256 << 20; // loader.c MAX_HEADER_BYTES
const mib = (n) => (n / 1048576).toFixed(1);
let engine = null; // the scalar build, one per thread: a header needs no SIMD
const scalar = (base) => engine || (engine = instantiate({ variant: 'scalar', threads: 1, base })
  .catch((e) => { engine = null; throw e; }));

const join = (a, b) => { const o = new Uint8Array(a.length + b.length); o.set(a); o.set(b, a.length); return o; };

// read(n): at least the first n bytes, fewer only where the file ends
function urlReader(url, signal) {
  let bytes = new Uint8Array(0), size = 0, ended = false, body = null;
  const pull = async (n) => {
    while (bytes.length < n) {
      const r = await body.read();
      if (r.done) { ended = true; break; }
      bytes = join(bytes, r.value);
    }
    return bytes;
  };
  return {
    get size() { return size; },
    async read(n) {
      if (ended || bytes.length >= n) return bytes;
      if (body) return pull(n);
      let res;
      try {
        res = await fetch(url, { headers: { Range: `bytes=${bytes.length}-${n - 1}` }, signal, credentials: 'same-origin' });
      } catch (e) {
        if (signal && signal.aborted) throw abortError('inspecting the model');
        throw new E('NETWORK', `cannot inspect ${url}: ${e.message}`);
      }
      if (res.status === 416) { ended = true; return bytes; }
      if (!res.ok) throw new E(res.status === 404 || res.status === 410 ? 'NOT_FOUND' : 'NETWORK', `cannot inspect ${url}: HTTP ${res.status}`);
      if (res.status !== 206) { // Range ignored: the whole file is coming, read as far as needed and cancelled
        bytes = new Uint8Array(0);
        if (!res.headers.get('content-encoding')) size = Number(res.headers.get('content-length')) || 0;
        body = res.body.getReader();
        return pull(n);
      }
      const m = /(\d+)-\d+\/(\d+)/.exec(res.headers.get('content-range') || ''); // unreadable across origins
      if (m) size = Number(m[2]);
      const part = new Uint8Array(await res.arrayBuffer());
      if (m && Number(m[1]) !== bytes.length) throw new E('NETWORK', `cannot inspect ${url}: the server sent another range`);
      bytes = join(bytes, part);
      if (bytes.length < n) ended = true;
      return bytes;
    },
    close() { if (body) body.cancel().catch(() => {}); },
  };
}

async function chunkReader(desc, signal) {
  const src = await openSource(desc, { signal });
  const it = src.chunks[Symbol.asyncIterator] ? src.chunks[Symbol.asyncIterator]() : src.chunks[Symbol.iterator]();
  let bytes = new Uint8Array(0), ended = false;
  return {
    size: src.size || 0,
    async read(n) {
      while (!ended && bytes.length < n) {
        if (signal && signal.aborted) throw abortError('inspecting the model');
        const r = await it.next();
        if (r.done) ended = true;
        else bytes = join(bytes, r.value);
      }
      return bytes;
    },
    close() { if (it.return) Promise.resolve().then(() => it.return()).catch(() => {}); },
  };
}

// { need } while the header is incomplete, else the facts (see pocketlm.d.ts ModelFacts)
function judge(rt, bytes, o) {
  const M = rt.M, p = M._malloc(bytes.length + 8);
  if (!p) throw new E('OUT_OF_MEMORY', `out of memory reading a ${bytes.length}-byte header`);
  try {
    new Uint8Array(rt.memory.buffer).set(bytes, p + 8);
    const js = M._plmw_inspect(p + 8, bytes.length, o.contextSize || 0, o.batchSize || 0, o.kvF32 ? 1 : 0,
      Math.min(o.memoryLimit || Infinity, 2 ** 32 - rt.memory.buffer.byteLength), p);
    const need = new Float64Array(rt.memory.buffer, p, 1)[0];
    if (!js) {
      if (!need) throw new E('OUT_OF_MEMORY', 'out of memory reading the header');
      return { need };
    }
    const h = new Uint8Array(rt.memory.buffer);
    let end = js;
    while (h[end]) end++;
    const f = JSON.parse(new TextDecoder().decode(h.slice(js, end)));
    M._free(js);
    const m = f.memory;
    const r = {
      supported: f.supported, status: f.status, reason: f.supported ? null : f.message, architecture: f.architecture,
      name: f.name, parameters: f.parameters, tensors: f.tensors, types: f.types, contextLength: f.context_length,
      chatTemplate: f.chat_template, headerBytes: f.header_bytes, fileBytes: f.file_bytes,
      memory: m && { contextSize: m.n_ctx, weights: m.weights, model: m.model, kvCache: m.kv_cache, scratch: m.scratch,
        total: m.total },
      bytesRead: bytes.length,
    };
    // wasm32's 4 GiB is the most; a phone's browser may refuse a memory far smaller (tried, then dropped: the
    // store skips this, so that a download leaves no model-sized memory for the collector)
    if (r.supported && m && o.probe && !grows(m.total + rt.memory.buffer.byteLength)) {
      Object.assign(r, { supported: false, status: 'OUT_OF_MEMORY', reason: `this browser would not grow a ` +
        `WebAssembly memory to the ${mib(m.total)} MiB the model needs (weights ${mib(m.weights)}, KV cache ` +
        `${mib(m.kv_cache)} for ${m.n_ctx} tokens): try a smaller context or quantization` });
    }
    return r;
  } finally {
    M._free(p);
  }
}

function grows(bytes) {
  const pages = Math.ceil(bytes / 65536);
  try {
    return pages <= 65536 && !!new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch {
    return false;
  }
}

/** The store's check of a new download's first bytes: { need }, { skip } (no engine here: the load judges), facts.
 * An instance of its own, dropped after: a download leaves no engine memory in the page. */
export async function headerVerdict(bytes) {
  let rt;
  try { rt = await instantiate({ variant: 'scalar', threads: 1 }); } catch { return { skip: true }; }
  return judge(rt, bytes, {});
}

/** desc: a source descriptor (source.js); o: InspectOptions plus base (the wasm directory). */
export async function inspectSource(desc, o = {}) {
  const rt = await scalar(o.base);
  const rd = desc.kind === 'url' ? urlReader(desc.url, o.signal) : await chunkReader(desc, o.signal);
  try {
    for (let want = 256 << 10; ;) {
      const bytes = await rd.read(want);
      const r = judge(rt, bytes, { ...o, probe: true });
      if (r.status === 'BAD_MODEL') throw new E('BAD_MODEL', r.reason);
      if (r.status) return Object.assign(r, { fileBytes: rd.size || r.fileBytes });
      if (bytes.length < want || (rd.size && bytes.length >= rd.size)) {
        throw new E('BAD_MODEL', `not a complete GGUF header: the file ends after ${bytes.length} bytes`);
      }
      if (r.need > MAX_HEADER) throw new E('BAD_MODEL', 'the GGUF header would exceed 256 MiB: the file is corrupt');
      want = rd.size ? Math.min(r.need, rd.size) : r.need;
    }
  } finally {
    rd.close();
  }
}
