// Runs a WASI (preview1) program under Node's node:wasi: `node tests/wasi-run.mjs FILE.wasm [args...]`.
// The program sees the repository as its working directory (relative paths like models/x.gguf work) and under its
// absolute path; stdin/stdout/stderr are the process's. Exits with the program's exit status.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';

// node:wasi prints an ExperimentalWarning on Node 20; it says nothing about the program, keep stderr clean.
const emit = process.emitWarning;
process.emitWarning = (w, ...rest) => {
  const msg = typeof w === 'string' ? w : w?.message;
  if (/WASI/.test(msg ?? '')) return;
  emit.call(process, w, ...rest);
};
const { WASI } = await import('node:wasi');

const [file, ...args] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node tests/wasi-run.mjs FILE.wasm [args...]\n');
  process.exit(2);
}
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const preopens = { '.': repo, [repo]: repo };
const cwd = process.cwd();
if (cwd !== repo) preopens[cwd] = cwd;

const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: process.env, preopens, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
const code = wasi.start(instance);
process.exitCode = code ?? 0;
