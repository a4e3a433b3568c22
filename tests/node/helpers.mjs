// Shared by the Node and browser tests: project paths, llama.cpp's recorded greedy output, and a minimal GGUF
// header reader used to craft broken and oversized models.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(ROOT, 'dist', 'pocketlm.js');
/** A model file: the bundled ones live in models/, generated test models (quantized copies) in tests/data/models/. */
export function model(name) {
  const generated = path.join(ROOT, 'tests', 'data', 'models', name);
  return fs.existsSync(generated) ? generated : path.join(ROOT, 'models', name);
}

/** models/REFERENCE.json: { model file: [{ prompt, prompt_tokens, greedy_tokens, text }] } */
export function reference() {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'REFERENCE.json'), 'utf8'));
}

/** tests/data/conformance/<model>.json cases for every model that has them. */
export function conformance() {
  const dir = path.join(ROOT, 'tests', 'data', 'conformance');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.gguf.json')).sort().map((f) => {
    const d = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    return { model: d.model, cases: d.cases };
  });
}

/** Generated tokens without the end-of-generation token llama.cpp records as the last entry when it stopped on one. */
export function expectedTokens(c) {
  return c.stop === 'eog' ? c.greedy_tokens.slice(0, -1) : c.greedy_tokens;
}

// ---- GGUF header ----
const SCALAR = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** Parses the header of a GGUF file: key/value byte positions and tensor infos (with the position of each offset). */
export function parseGGUF(buf) {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 0;
  const u32 = () => { const v = dv.getUint32(p, true); p += 4; return v; };
  const u64 = () => { const v = dv.getBigUint64(p, true); p += 8; return Number(v); };
  const str = () => { const n = u64(); const s = new TextDecoder().decode(buf.subarray(p, p + n)); const at = p; p += n; return { s, at, n }; };
  const skip = (t) => {
    if (t === 8) return str();
    if (t === 9) { const et = u32(); const n = u64(); for (let i = 0; i < n; i++) skip(et); return null; }
    const w = SCALAR[t];
    if (!w) throw new Error(`bad GGUF type ${t}`);
    const at = p;
    p += w;
    return { at };
  };
  if (u32() !== 0x46554747) throw new Error('not GGUF');
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const kv = {};
  for (let i = 0; i < nKv; i++) {
    const key = str().s;
    const type = u32();
    const valueAt = p;
    const v = skip(type);
    kv[key] = { type, valueAt, valueEnd: p, value: v && type === 8 ? v.s : undefined, strAt: v && v.at, strLen: v && v.n };
  }
  const tensors = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str().s;
    const nd = u32();
    const dims = [];
    for (let d = 0; d < nd; d++) dims.push(u64());
    const type = u32();
    const offsetAt = p;
    const offset = u64();
    tensors.push({ name, dims, type, offset, offsetAt });
  }
  return { version, kv, tensors, headerEnd: p };
}

// ---- the native build as a witness ----
import { execFileSync } from 'node:child_process';

const NATIVE = path.join(ROOT, 'build', 'native', 'pocketlm');
const nativeCache = new Map();

/**
 * Greedy token ids from the native CLI (build/native/pocketlm), or null when it is not built. A case the native
 * build does not reproduce either is a divergence of the C core (tracked by its own conformance suite), not of the
 * WebAssembly build: the wasm tests report such cases as todo instead of failing on them.
 */
export function nativeGreedy(modelFile, prompt, n, backend) {
  if (!fs.existsSync(NATIVE)) return null;
  const key = `${modelFile}\0${prompt}\0${n}\0${backend}`;
  if (!nativeCache.has(key)) {
    let ids = null;
    try {
      ids = JSON.parse(execFileSync(NATIVE, ['run', '-m', modelFile, '-p', prompt, '-n', String(n), '--print-ids'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
          env: backend ? { ...process.env, PLM_BACKEND: backend } : process.env }));
    } catch { /* a native failure: no witness */ }
    nativeCache.set(key, ids);
  }
  return nativeCache.get(key);
}

/**
 * node:test options for a conformance case (wasm runners): todo when the native build diverges from llama.cpp as
 * well.
 * backend 'scalar' asks the native build for its scalar kernels: the witness for the wasm scalar variant.
 */
export function caseOptions(modelFile, c, backend) {
  const native = nativeGreedy(modelFile, c.prompt, c.greedy_tokens.length, backend);
  const want = expectedTokens(c);
  if (native && JSON.stringify(native) !== JSON.stringify(want)) {
    return { todo: 'the native build diverges from llama.cpp here too: a C core/kernel divergence' };
  }
  return {};
}
