// The relaxed-SIMD kernel tests in Chromium: build/wasi-kernels/relaxed/test_kernels.wasm (tests/c/test_kernels.c
// for wasm32-wasi with -msimd128 -mrelaxed-simd; `make test-wasm-kernels` builds it) compares the wasm-relaxed
// backend bit-exact against scalar. Node 20's V8 implements a pre-standard relaxed dot product, so it runs here, in
// a module Worker of a page served under the strict CSP, through the small WASI host in tests/browser/wasi-shim.js.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startBrowser } from './server.mjs';
import { ROOT } from '../node/helpers.mjs';

const WASM = 'build/wasi-kernels/relaxed/test_kernels.wasm';
const RUN_TIMEOUT_MS = 240_000; // about a second here; generous for slow machines

let env, server, context;
const logs = [];

test.before(async () => {
  env = await startBrowser(ROOT);
  ({ server, context } = env);
});

test.after(async () => { if (env) await env.close(); });

// Runs a WASI program in a Worker of the test page; resolves with its output and exit status (or the error, or what
// it printed before the timeout).
async function runInWorker(page, url, args, env) {
  return page.evaluate(({ url, args, env, timeoutMs }) => new Promise((resolve) => {
    const out = { 1: '', 2: '' };
    const worker = new Worker('wasi-shim.js', { type: 'module' });
    const done = (r) => {
      clearTimeout(timer);
      worker.terminate();
      resolve({ stdout: out[1], stderr: out[2], ...r });
    };
    const timer = setTimeout(() => done({ type: 'timeout' }), timeoutMs);
    worker.onerror = (e) => done({ type: 'error', message: `worker: ${e.message}` });
    worker.onmessage = ({ data }) => {
      if (data.type === 'out') out[data.fd] += data.text;
      else done(data);
    };
    worker.postMessage({ url, args, env });
  }), { url, args, env, timeoutMs: RUN_TIMEOUT_MS });
}

async function checkKernels(t, env) {
  assert.ok(fs.existsSync(path.join(ROOT, WASM)), `${WASM} is missing: make ${WASM}`);
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' && !/favicon/.test(m.location().url)) logs.push(m.text()); });
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(`${server.url}/tests/browser/page.html`);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');
  assert.equal(await page.evaluate(() => window.features().relaxedSimd), true, 'Chromium validates relaxed SIMD');

  const r = await runInWorker(page, `/${WASM}`, ['test_kernels'], env);
  const report = `${r.type}${r.message ? `: ${r.message}` : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
  assert.equal(r.type, 'exit', report);
  t.diagnostic(`${WASM}: ${r.ms.toFixed(0)} ms in the Worker`);
  for (const line of r.stdout.trim().split('\n').filter((l) => /^(backend|test_kernels:)/.test(l))) t.diagnostic(line);

  assert.deepEqual(r.unsupported, [], 'WASI imports the shim does not implement were called');
  assert.equal(r.code, 0, `exit status ${r.code}\n${report}`);
  assert.doesNotMatch(r.stdout, /^(FAIL|skip backend)/m, report);
  assert.match(r.stdout, /^backend scalar +ok$/m, report);
  assert.match(r.stdout, /^backend wasm-relaxed +ok$/m, 'the wasm-relaxed backend was tested and passed');
  assert.match(r.stdout, /^backend wasm-relaxed-exact +ok$/m, 'its exact sibling was tested and passed');
  const m = /^test_kernels: (\d+) passed, (\d+) failed \((\d+) backends, default ([\w-]+)\)$/m.exec(r.stdout);
  assert.ok(m, `no summary line\n${report}`);
  const [, passed, failed, backends, def] = m;
  assert.equal(failed, '0', report);
  assert.ok(Number(passed) > 1_000_000, `only ${passed} checks passed`);
  assert.ok(Number(backends) >= 2, `${backends} backends tested`);
  assert.equal(def, 'wasm-relaxed');
  assert.equal(r.stderr, '');
  await page.close();
}

// Twice: with the integer dot's form this x86 engine gets (i16 pair sums, pmaddubsw), and with PLM_RDOT=i32, the
// relaxed dot into i32 lanes that ARM phones' engines get (one sdot there; exact on x86 too).
test('relaxed-SIMD kernels equal the scalar reference in Chromium', { timeout: RUN_TIMEOUT_MS + 60_000 },
  (t) => checkKernels(t, {}));
test('relaxed-SIMD kernels equal the scalar reference in Chromium, in the i32 form ARM engines run',
  { timeout: RUN_TIMEOUT_MS + 60_000 }, (t) => checkKernels(t, { PLM_RDOT: 'i32' }));

test('no errors were logged', () => {
  assert.deepEqual(logs.filter((l) => !/Failed to load resource.*404/.test(l)), []);
});
