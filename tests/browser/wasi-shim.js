// A minimal WASI preview1 host for the browser tests: runs a command-line wasm program (clang-19 + wasi-libc) with
// stdout/stderr captured, no files (no preopens), an explicit argv and environment. Enough for
// tests/c/test_kernels.c built for wasm32-wasi (build/wasi-kernels/*/test_kernels.wasm).
//
// Used as a module Worker: post { url, args, env } and get back { type: 'out', fd, text } messages as the program
// writes, then { type: 'exit', code, ms, unsupported } (or { type: 'error', message } if it could not run or
// trapped). Any import this shim lacks answers ENOSYS and is listed in `unsupported`.
// Also importable as a module: runWasi(bytes, { args, env, onOutput }).

const ERRNO = { SUCCESS: 0, BADF: 8, INVAL: 28, NOSYS: 52, SPIPE: 70 };
const FILETYPE_CHARACTER_DEVICE = 2;
const RIGHT_FD_WRITE = 1n << 6n;

class ProcExit extends Error {
  constructor(code) {
    super(`proc_exit(${code})`);
    this.code = code;
  }
}

export async function runWasi(bytes, { args = ['program'], env = {}, onOutput = () => {} } = {}) {
  const module = await WebAssembly.compile(bytes);
  const enc = new TextEncoder();
  const argv = args.map((a) => enc.encode(`${a}\0`));
  const envp = Object.entries(env).map(([k, v]) => enc.encode(`${k}=${v}\0`));
  const decoders = { 1: new TextDecoder(), 2: new TextDecoder() };
  const unsupported = new Set();
  let memory;
  const view = () => new DataView(memory.buffer);
  const bytesAt = (ptr, len) => new Uint8Array(memory.buffer, ptr, len);

  // argv / environ: an array of pointers at `ptrs`, the NUL-terminated strings packed at `buf`
  const putStrings = (list, ptrs, buf) => {
    const v = view();
    for (const s of list) {
      v.setUint32(ptrs, buf, true);
      bytesAt(buf, s.length).set(s);
      ptrs += 4;
      buf += s.length;
    }
    return ERRNO.SUCCESS;
  };
  const putSizes = (list, countPtr, sizePtr) => {
    const v = view();
    v.setUint32(countPtr, list.length, true);
    v.setUint32(sizePtr, list.reduce((n, s) => n + s.length, 0), true);
    return ERRNO.SUCCESS;
  };

  const wasi = {
    args_get: (ptrs, buf) => putStrings(argv, ptrs, buf),
    args_sizes_get: (count, size) => putSizes(argv, count, size),
    environ_get: (ptrs, buf) => putStrings(envp, ptrs, buf),
    environ_sizes_get: (count, size) => putSizes(envp, count, size),
    fd_write(fd, iovs, iovsLen, nwritten) {
      if (fd !== 1 && fd !== 2) return ERRNO.BADF;
      const v = view();
      let n = 0, text = '';
      for (let i = 0; i < iovsLen; i++) {
        const ptr = v.getUint32(iovs + 8 * i, true), len = v.getUint32(iovs + 8 * i + 4, true);
        text += decoders[fd].decode(bytesAt(ptr, len), { stream: true });
        n += len;
      }
      v.setUint32(nwritten, n, true);
      if (text) onOutput(fd, text);
      return ERRNO.SUCCESS;
    },
    fd_fdstat_get(fd, buf) {
      if (fd < 0 || fd > 2) return ERRNO.BADF;
      const v = view();
      bytesAt(buf, 24).fill(0);
      v.setUint8(buf, FILETYPE_CHARACTER_DEVICE); // a terminal: wasi-libc's isatty() is true, stdout line-buffered
      v.setBigUint64(buf + 8, fd === 0 ? 0n : RIGHT_FD_WRITE, true);
      return ERRNO.SUCCESS;
    },
    fd_prestat_get: () => ERRNO.BADF, // no preopened directories
    fd_prestat_dir_name: () => ERRNO.BADF,
    fd_close: (fd) => (fd >= 0 && fd <= 2 ? ERRNO.SUCCESS : ERRNO.BADF),
    fd_seek: (fd) => (fd >= 0 && fd <= 2 ? ERRNO.SPIPE : ERRNO.BADF),
    clock_time_get(id, precision, out) {
      const ns = id === 0 ? BigInt(Date.now()) * 1000000n : BigInt(Math.round(performance.now() * 1e6));
      view().setBigUint64(out, ns, true);
      return ERRNO.SUCCESS;
    },
    random_get(buf, len) {
      for (let off = 0; off < len; off += 65536) crypto.getRandomValues(bytesAt(buf + off, Math.min(65536, len - off)));
      return ERRNO.SUCCESS;
    },
    proc_exit(code) {
      throw new ProcExit(code);
    },
  };

  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function') throw new Error(`unsupported import ${imp.module}.${imp.name} (${imp.kind})`);
    const ns = (imports[imp.module] ??= {});
    const fn = imp.module === 'wasi_snapshot_preview1' ? wasi[imp.name] : undefined;
    ns[imp.name] = fn ?? (() => {
      unsupported.add(`${imp.module}.${imp.name}`);
      return ERRNO.NOSYS;
    });
  }
  const instance = await WebAssembly.instantiate(module, imports);
  memory = instance.exports.memory;
  const t0 = performance.now();
  let code = 0;
  try {
    instance.exports._start();
  } catch (e) {
    if (!(e instanceof ProcExit)) throw e;
    code = e.code;
  }
  for (const fd of [1, 2]) {
    const rest = decoders[fd].decode();
    if (rest) onOutput(fd, rest);
  }
  return { code, ms: performance.now() - t0, unsupported: [...unsupported] };
}

// As a Worker: one run per message.
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  globalThis.onmessage = async ({ data: { url, args, env } }) => {
    try {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      const bytes = await res.arrayBuffer();
      const r = await runWasi(bytes, { args, env, onOutput: (fd, text) => postMessage({ type: 'out', fd, text }) });
      postMessage({ type: 'exit', ...r });
    } catch (e) {
      postMessage({ type: 'error', message: `${e.name}: ${e.message}` });
    }
  };
}
