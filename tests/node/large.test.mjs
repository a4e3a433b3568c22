// A model of a real shape (110M parameters, Q4_0, 73 MiB, random weights from build/native/gen-bench-model): wasm
// memory grows by hundreds of MiB while it loads, single-thread and with pthreads (shared memory), and under WASI.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PocketLM } from '../../dist/pocketlm.js';
import { ROOT } from './helpers.mjs';

const GEN = path.join(ROOT, 'build', 'native', 'gen-bench-model');
const NATIVE = path.join(ROOT, 'build', 'native', 'pocketlm');
const have = fs.existsSync(GEN) && fs.existsSync(NATIVE);
let dir, file;

test.before(() => {
  if (!have) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pocketlm-large-'));
  file = path.join(dir, '110M-Q4_0.gguf');
  execFileSync(GEN, ['--shape', '110M', '--type', 'Q4_0', '-o', file, '--threads', '2'], { stdio: 'ignore' });
});
test.after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

const skip = have ? false : 'needs build/native/gen-bench-model and build/native/pocketlm (make native)';
const PROMPT = 'Once upon a time';
const N = 4;

function native() {
  return JSON.parse(execFileSync(NATIVE, ['run', '-m', file, '-p', PROMPT, '-n', String(N), '--print-ids'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
}

test('110M model through the JavaScript API: single thread and pthreads agree with native', { skip }, async () => {
  const want = native();
  assert.ok(want.length > 0, 'native generates something to compare with');
  for (const [variant, threads] of [['simd', 1], ['mt-simd', 2]]) {
    let last = null;
    const lm = await PocketLM.load({ model: file, variant, threads, contextSize: 256, onProgress: (p) => { last = p; } });
    try {
      assert.equal(lm.info.nVocab, 32000);
      assert.equal(last.loaded, fs.statSync(file).size);
      const r = await lm.complete(PROMPT, { temperature: 0, maxTokens: N });
      // exactly native's tokens, and native's reason to stop (it prints fewer than N only at end of generation)
      assert.deepEqual(r.tokens, want, variant);
      assert.equal(r.finishReason, want.length === N ? 'length' : 'stop', variant);
    } finally {
      await lm.unload();
    }
  }
});

test('110M model under WASI (node tools/pocketlm.mjs)', { skip }, () => {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'tools', 'pocketlm.mjs'), 'run', '-m', file, '-p', PROMPT,
    '-n', String(N), '--print-ids'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.deepEqual(JSON.parse(out), native());
});

// A long prefill stops promptly when its signal aborts. With shared memory (mt variant) the page writes the request's
// abort word while the engine is busy in wasm, so one 256-token batch stops within a layer; without (single
// thread), the engine sees the abort between batches (32 tokens here). Either way the session stays exact.
test('110M model: abort during a long prefill lands within a layer (shared memory) or a batch', { skip }, async () => {
  const want = native();
  for (const [variant, threads, batchSize] of [['mt-simd', 2, 256], ['simd', 1, 32]]) {
    const lm = await PocketLM.load({ model: file, variant, threads, worker: true, contextSize: 300, batchSize });
    try {
      const ids = Array.from({ length: 256 }, (_, i) => 1 + ((i * 7919) % 31000));
      let t = performance.now();
      const full = await lm.complete(ids, { temperature: 0, maxTokens: 1, cachePrompt: false });
      const fullMs = performance.now() - t;
      assert.equal(full.timings.promptN, 256);
      const ctl = new AbortController();
      const wait = Math.max(20, fullMs / 4);
      setTimeout(() => { t = performance.now(); ctl.abort(); }, wait);
      const r = await lm.complete(ids, { temperature: 0, maxTokens: 1, cachePrompt: false, signal: ctl.signal });
      const latency = performance.now() - t;
      assert.equal(r.finishReason, 'abort', variant);
      assert.equal(r.tokens.length, 0);
      assert.equal(r.timings.promptN % batchSize, 0, 'whole batches stay in the cache');
      assert.ok(r.timings.promptN < 256, `${variant}: the prompt was not cut (${r.timings.promptN} tokens)`);
      // a layer of one batch is 1/12 of it for mt-simd; a batch is 1/8 of the prompt for simd
      const bound = fullMs / (variant === 'mt-simd' ? 4 : 3);
      console.log(`# ${variant}: prefill of 256 tokens ${fullMs.toFixed(0)} ms, abort landed after ` +
        `${latency.toFixed(0)} ms (bound ${bound.toFixed(0)} ms), ${r.timings.promptN} tokens kept`);
      assert.ok(latency < bound, `${variant}: abort took ${latency.toFixed(0)} ms, bound ${bound.toFixed(0)} ms`);
      // the session is usable and exact afterwards
      const again = await lm.complete(PROMPT, { temperature: 0, maxTokens: N });
      assert.deepEqual(again.tokens, want, variant);
    } finally {
      await lm.unload();
    }
  }
});
