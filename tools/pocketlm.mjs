#!/usr/bin/env node
// pocketlm CLI under WASI: the same program as the native build (tools/pocketlm.c), compiled to
// build/wasi/pocketlm.wasm by `make wasi` and run here with node:wasi. Usage as `pocketlm --help` (docs/architecture.md, "Tools").
//
// The host's root is visible to the program as '/'; relative paths in -m / -f are made absolute here, because
// wasi-libc resolves them against its own working directory '/'.
import { readFile } from 'node:fs/promises';
import v8 from 'node:v8';
import { resolve } from 'node:path';
import process from 'node:process';


// Node 20's V8 crashes (SIGTRAP "unreachable code" in MarkCompactCollector::ProcessEphemerons during a memory.grow,
// or SIGSEGV at exit) once a WASI module's memory grows by hundreds of MiB with incremental marking on: loading a
// 110M model is enough. This program keeps almost nothing on the JavaScript heap, so marking in one go costs nothing.
v8.setFlagsFromString('--no-incremental-marking');

const wasmURL = new URL('../build/wasi/pocketlm.wasm', import.meta.url);
const PATH_OPTS = new Set(['-m', '-f']);

const args = process.argv.slice(2);
for (let i = 0; i + 1 < args.length; i++) {
  if (PATH_OPTS.has(args[i])) args[i + 1] = resolve(args[i + 1]).replace(/\\/g, '/').replace(/^[A-Za-z]:/, '');
}

// node:wasi prints an ExperimentalWarning on first use; it is not the program's output.
const emit = process.emitWarning;
process.emitWarning = (w, ...rest) => {
  if (String(w && w.message || w).includes('WASI')) return;
  emit.call(process, w, ...rest);
};
const { WASI } = await import('node:wasi');

let bytes;
try {
  bytes = await readFile(wasmURL);
} catch {
  process.stderr.write(`error: ${wasmURL.pathname} is missing: build it with \`make wasi\`\n`);
  process.exit(1);
}
const root = resolve('/');
const wasi = new WASI({
  version: 'preview1',
  args: ['pocketlm', ...args],
  env: { LANG: process.env.LANG || 'C.UTF-8' },
  preopens: { '/': root },
  returnOnExit: true,
});
const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), wasi.getImportObject());
let code;
try {
  code = wasi.start(instance);
} catch (e) {
  // A trap is a bug in pocketlm, never the user's input: say so and exit 1 rather than dying on a signal.
  process.stderr.write(`error: the WebAssembly program trapped: ${e.message}\n`);
  code = 1;
}
process.exitCode = code;
