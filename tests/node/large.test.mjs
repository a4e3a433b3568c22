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
  for (const [variant, threads] of [['simd', 1], ['mt-simd', 2]]) {
    let last = null;
    const lm = await PocketLM.load({ model: file, variant, threads, contextSize: 256, onProgress: (p) => { last = p; } });
    try {
      assert.equal(lm.info.nVocab, 32000);
      assert.equal(last.loaded, fs.statSync(file).size);
      const r = await lm.complete(PROMPT, { temperature: 0, maxTokens: N });
      assert.deepEqual(r.tokens, want.slice(0, r.tokens.length), variant);
      assert.ok(r.tokens.length === N || r.finishReason === 'stop');
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
