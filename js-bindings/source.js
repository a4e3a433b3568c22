// Model bytes as a sequence of chunks, read where the engine runs so that no second full copy of a model is ever
// made: the loader copies each chunk into wasm memory and drops it (peak JavaScript memory is about one chunk).
//
// A source descriptor is one of
//   { kind: 'url', url }              fetch with a streaming body reader
//   { kind: 'file', path }            Node: a file read in chunks
//   { kind: 'blob', blob }            Blob / File (IndexedDB hands these out cheaply): read slice by slice
//   { kind: 'buffer', buffer }        ArrayBuffer or a view of one: walked without copying
//   { kind: 'stream', stream, size }  ReadableStream<Uint8Array>
//   { kind: 'iterable', iterable, size }  AsyncIterable or Iterable of Uint8Array (same thread only)
//   { kind: 'store', name, id }       a complete model in the ModelStore (IndexedDB database `name`), chunk by chunk
import { PocketLMError } from './errors.js';
import { readModel } from './store.js';

export const CHUNK = 4 << 20;

function bytes(v) {
  if (v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && v instanceof SharedArrayBuffer)) {
    return new Uint8Array(v);
  }
  throw new PocketLMError('BAD_ARG', 'model chunks must be Uint8Array or ArrayBuffer');
}

async function* readStream(stream) {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield bytes(value);
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * @returns {Promise<{size: number, name: string, chunks: AsyncIterable<Uint8Array>}>} size 0 when unknown
 */
export async function openSource(desc, { signal } = {}) {
  switch (desc.kind) {
    case 'url': {
      let res;
      try {
        res = await fetch(desc.url, { signal, credentials: 'same-origin' });
      } catch (e) {
        if (signal && signal.aborted) throw e;
        throw new PocketLMError('NETWORK', `cannot fetch the model ${desc.url}: ${e.message}`);
      }
      if (!res.ok) throw new PocketLMError('NETWORK', `cannot fetch the model ${desc.url}: HTTP ${res.status}`);
      const enc = res.headers.get('content-encoding');
      const len = Number(res.headers.get('content-length')) || 0;
      return { size: enc && enc !== 'identity' ? 0 : len, name: desc.url, chunks: readStream(res.body) };
    }
    case 'file': {
      const fs = await import('node:fs');
      let st;
      try {
        st = await fs.promises.stat(desc.path);
      } catch (e) {
        throw new PocketLMError('IO', `cannot open the model file ${desc.path}: ${e.message}`);
      }
      const stream = fs.createReadStream(desc.path, { highWaterMark: CHUNK });
      return { size: st.size, name: desc.path, chunks: stream };
    }
    case 'blob': {
      const blob = desc.blob;
      async function* slices() {
        for (let o = 0; o < blob.size; o += CHUNK) {
          yield new Uint8Array(await blob.slice(o, Math.min(o + CHUNK, blob.size)).arrayBuffer());
        }
      }
      return { size: blob.size, name: blob.name || 'blob', chunks: slices() };
    }
    case 'buffer': {
      const all = bytes(desc.buffer);
      function* parts() {
        for (let o = 0; o < all.length; o += CHUNK) yield all.subarray(o, Math.min(o + CHUNK, all.length));
      }
      return { size: all.length, name: 'buffer', chunks: parts() };
    }
    case 'stream':
      return { size: desc.size || 0, name: desc.name || 'stream', chunks: readStream(desc.stream) };
    case 'iterable': {
      const it = desc.iterable;
      async function* each() {
        for await (const c of it) yield bytes(c);
      }
      return { size: desc.size || 0, name: desc.name || 'stream', chunks: each() };
    }
    case 'store':
      return readModel(desc);
    default:
      throw new PocketLMError('BAD_ARG', `unknown model source kind '${desc.kind}'`);
  }
}
