// Picks and starts a WebAssembly variant of the engine. Runs in the engine's thread (a Worker in browsers, the
// calling thread or a worker thread in Node).
//
// Variants (one wasm file each, so a browser caches each separately; glue shared per threading model):
//   scalar      single thread, no SIMD: the fallback for engines without SIMD128
//   simd        single thread, SIMD128
//   relaxed     single thread, SIMD128 + relaxed SIMD
//   mt-simd     pthreads (needs SharedArrayBuffer: cross-origin isolation in browsers), SIMD128
//   mt-relaxed  pthreads + relaxed SIMD
import { PocketLMError } from './errors.js';

export const VARIANTS = {
  scalar: { glue: 'st', threads: false },
  simd: { glue: 'st', threads: false },
  relaxed: { glue: 'st', threads: false },
  'mt-simd': { glue: 'mt', threads: true },
  'mt-relaxed': { glue: 'mt', threads: true },
};

export const isNode = typeof process === 'object' && !!(process.versions && process.versions.node) &&
  typeof window === 'undefined';

// ---- feature probes: tiny hand-assembled modules of type () -> i32 exporting "f" ----
function probeModule(body, sharedMemory = false) {
  const code = [0, ...body, 0x0b];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type: () -> i32
    0x03, 0x02, 0x01, 0x00, // one function of that type
    ...(sharedMemory ? [0x05, 0x04, 0x01, 0x03, 0x01, 0x01] : []), // shared memory, 1 page min and max
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export "f"
    0x0a, code.length + 2, 0x01, code.length, ...code,
  ]);
}
const splat8 = (v) => [0x41, v & 0x7f, 0xfd, 0x0f]; // i32.const v (|v| < 64); i8x16.splat
// i8x16.popcnt (among the last SIMD128 opcodes fixed) of a splat, lane 0 as i32.
const SIMD_PROBE = probeModule([...splat8(0), 0xfd, 0x62, 0xfd, 0x1b, 0x00]);
// The relaxed dot products the kernels use, with their final opcodes (0x112, 0x113):
// i32x4.relaxed_dot_i8x16_i7x16_add_s(splat -3, splat 5, splat 10) lane 0 = 4*(-15) + 10 = -50, plus
// i16x8.relaxed_dot_i8x16_i7x16_s(splat -3, splat 5) lane 0 = -30: -80. Checked by running it, so an engine with
// pre-standard semantics for these opcodes is not trusted.
const RELAXED_PROBE = probeModule([
  ...splat8(-3), ...splat8(5), 0x41, 0x0a, 0xfd, 0x11, 0xfd, 0x93, 0x02, 0xfd, 0x1b, 0x00,
  ...splat8(-3), ...splat8(5), 0xfd, 0x92, 0x02, 0xfd, 0x18, 0x00, 0x6a,
]);
// i32.atomic.load from a shared memory.
const THREADS_PROBE = probeModule([0x41, 0x00, 0xfe, 0x10, 0x02, 0x00], true);

function runs(bytes, expect) {
  try {
    if (!WebAssembly.validate(bytes)) return false;
    if (expect === undefined) return true;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    return inst.exports.f() === expect;
  } catch {
    return false;
  }
}

/** What this JavaScript engine can run. */
export function detectFeatures() {
  const sab = typeof SharedArrayBuffer === 'function';
  // Browsers hand out SharedArrayBuffer only to cross-origin isolated pages (COOP + COEP); Node always can.
  const isolated = isNode || globalThis.crossOriginIsolated === true;
  return {
    wasm: typeof WebAssembly === 'object',
    simd: runs(SIMD_PROBE),
    relaxedSimd: runs(SIMD_PROBE) && runs(RELAXED_PROBE, -80),
    threads: sab && isolated && runs(THREADS_PROBE),
    nestedWorkers: isNode || typeof Worker === 'function',
  };
}

async function defaultThreads() {
  if (isNode) {
    const os = await import('node:os');
    return Math.min(4, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
  }
  // Phones have 4 fast cores at most; more threads than fast cores slow every thread down.
  return Math.min(4, (globalThis.navigator && navigator.hardwareConcurrency) || 1);
}

/**
 * Chooses the variant and thread count: an explicit `variant` wins; otherwise threads when asked for (more than
 * one) and available, relaxed SIMD when it validates, SIMD128 when it validates, scalar last.
 * @returns {Promise<{variant: string, threads: number, features: object}>}
 */
export async function chooseVariant({ variant, threads } = {}) {
  const f = detectFeatures();
  if (!f.wasm) throw new PocketLMError('UNSUPPORTED_ENVIRONMENT', 'this JavaScript engine has no WebAssembly');
  let n = threads === undefined || threads === 'auto' ? await defaultThreads() : Math.floor(Number(threads));
  if (!(n >= 1 && n <= 256)) throw new PocketLMError('BAD_ARG', `threads must be 'auto' or 1..256, not ${threads}`);
  if (variant) {
    if (!VARIANTS[variant]) {
      throw new PocketLMError('BAD_ARG', `unknown variant '${variant}': one of ${Object.keys(VARIANTS).join(', ')}`);
    }
    if (VARIANTS[variant].threads && !f.threads) {
      throw new PocketLMError('UNSUPPORTED_ENVIRONMENT', `variant '${variant}' needs threads: SharedArrayBuffer and ` +
        'a cross-origin isolated page (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp)');
    }
    const isa = /relaxed/.test(variant) ? 'relaxedSimd' : /simd/.test(variant) && 'simd';
    if (isa && !f[isa]) throw new PocketLMError('UNSUPPORTED_ENVIRONMENT', `variant '${variant}' needs ${isa}: see features()`);
    return { variant, threads: VARIANTS[variant].threads ? Math.max(n, 1) : 1, features: f };
  }
  const useThreads = n > 1 && f.threads && f.simd && f.nestedWorkers;
  const simd = f.relaxedSimd ? 'relaxed' : f.simd ? 'simd' : 'scalar';
  if (useThreads) return { variant: `mt-${simd}`, threads: n, features: f };
  return { variant: simd, threads: 1, features: f };
}

// ---- instantiation ----
const compiled = new Map(); // url -> Promise<WebAssembly.Module>: a second load in this thread compiles nothing

async function compileWasm(url) {
  if (url.protocol === 'file:') {
    const [{ readFile }, { fileURLToPath }] = await Promise.all([import('node:fs/promises'), import('node:url')]);
    return WebAssembly.compile(await readFile(fileURLToPath(url)));
  }
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw new PocketLMError('NETWORK', `cannot fetch ${url.href}: HTTP ${res.status}`);
  if (WebAssembly.compileStreaming && (res.headers.get('content-type') || '').startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer()); // a server that does not know the wasm MIME type
}

function findMemory(imports, instance) {
  for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory) return v;
  for (const mod of Object.values(imports)) {
    for (const v of Object.values(mod)) if (v instanceof WebAssembly.Memory) return v;
  }
  return null;
}

/**
 * Starts one instance of a variant. `base` is the URL of the directory holding the wasm files and glue (dist/);
 * `onThreads(phase)`, if given, is told 'starting' and 'started' around the creation of the pthread Workers.
 * @returns {Promise<{M: object, memory: WebAssembly.Memory, variant: string, threads: number}>}
 */
export async function instantiate({ variant, threads, base, onThreads }) {
  const v = VARIANTS[variant];
  const baseURL = new URL(base || './', import.meta.url);
  const wasmURL = new URL(`pocketlm-${variant}.wasm`, baseURL);
  const glueURL = new URL(`pocketlm-${v.glue}.js`, baseURL);
  if (!compiled.has(wasmURL.href)) {
    const p = compileWasm(wasmURL);
    compiled.set(wasmURL.href, p);
    p.catch(() => compiled.delete(wasmURL.href));
  }
  let nodeRequire, fileURLToPath;
  if (isNode) {
    const [mod, url] = await Promise.all([import('node:module'), import('node:url')]);
    nodeRequire = mod.createRequire(import.meta.url);
    fileURLToPath = url.fileURLToPath;
  }
  const [factory, module] = await Promise.all([import(glueURL.href).then((m) => m.default), compiled.get(wasmURL.href)]);

  let memory = null;
  let failInstantiate;
  const failed = new Promise((_, reject) => { failInstantiate = reject; });
  const opts = {
    plmRequire: nodeRequire,
    plmPoolSize: v.threads ? threads - 1 : 0,
    mainScriptUrlOrBlob: glueURL.href,
    locateFile(path) {
      const url = new URL(path, baseURL);
      // Node runs the pthread worker script as CommonJS, which needs the .cjs twin inside a "type": "module" package.
      if (isNode) return fileURLToPath(path.endsWith('.worker.js') ? new URL(path.replace(/\.js$/, '.cjs'), baseURL) : url);
      return url.href;
    },
    instantiateWasm(imports, receive) {
      WebAssembly.instantiate(module, imports).then((instance) => {
        memory = memory || findMemory(imports, instance);
        receive(instance, module);
      }, failInstantiate);
      return {};
    },
    print: (s) => console.log(s),
    printErr: (s) => console.warn(s),
  };
  if (v.threads) {
    // Made here so it can be told apart from a memory the engine cannot share; the glue uses what it is given.
    try {
      memory = opts.wasmMemory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
    } catch (e) {
      throw new PocketLMError('UNSUPPORTED_ENVIRONMENT', `cannot create a shared WebAssembly memory: ${e.message}`);
    }
  }
  let M;
  try {
    // The glue creates its pthread Workers synchronously inside factory(): onThreads('starting') and ('started')
    // bracket it, so that PocketLM can tell an engine stuck in a Worker constructor (Firefox, see pocketlm.js).
    if (v.threads && onThreads) onThreads('starting');
    const ready = factory(opts);
    if (v.threads && onThreads) onThreads('started');
    M = await Promise.race([ready, failed]);
  } catch (e) {
    if (e instanceof PocketLMError) throw e;
    const oom = e instanceof RangeError || /memory/i.test(String(e && e.message));
    throw new PocketLMError(oom ? 'OUT_OF_MEMORY' : 'INTERNAL', `cannot start the ${variant} engine: ${e && e.message || e}`);
  }
  if (!memory) throw new PocketLMError('INTERNAL', 'the wasm module exports no memory');
  unsignedPointers(M);
  if (isNode && v.threads) {
    // Idle pthread workers must not keep Node running: PocketLM ends them in unload(), a script may just return.
    for (const w of [...M.PThread.unusedWorkers, ...M.PThread.runningWorkers]) if (w.unref) w.unref();
  }
  return { M, memory, variant, threads: v.threads ? threads : 1 };
}

// Exports that return an address in wasm memory or a handle. wasm32 returns them as signed i32, negative past 2 GiB,
// where a model over 2 GB puts nearly every later allocation: read as unsigned (a handle passed back to C is the same
// 32 bits either way).
const POINTER_EXPORTS = ['_malloc', '_plm_status_name', '_plm_backend_name', '_plm_model_info_json', '_plmw_inspect',
  '_plmw_loader_new', '_plmw_loader_take_model', '_plmw_loader_errmsg', '_plmw_version', '_plmw_model_arch',
  '_plmw_model_backend', '_plmw_gen_new', '_plmw_gen_errmsg', '_plmw_gen_abort_word', '_plmw_gen_logits',
  '_plmw_gen_text', '_plmw_chat_apply'];
function unsignedPointers(M) {
  for (const name of POINTER_EXPORTS) {
    const f = M[name];
    if (typeof f === 'function') M[name] = (...args) => f(...args) >>> 0;
  }
}

/** Ends the pthread workers of an instance (the wasm memory goes with the last reference). */
export function shutdown(rt) {
  if (rt && VARIANTS[rt.variant].threads && rt.M.PThread) {
    try { rt.M.PThread.terminateAllThreads(); } catch { /* already gone */ }
  }
}
