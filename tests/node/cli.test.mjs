// The WASI build of the CLI (build/wasi/pocketlm.wasm) through `node tools/pocketlm.mjs`: the same program and the
// same greedy output as llama.cpp.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, conformance, reference, expectedTokens, model as modelPath, caseOptions } from './helpers.mjs';

const run = promisify(execFile);
const CLI = path.join(ROOT, 'tools', 'pocketlm.mjs');

function pocketlm(args, opts = {}) {
  return run(process.execPath, [CLI, ...args], { cwd: ROOT, maxBuffer: 16 << 20, ...opts })
    .then((r) => ({ code: 0, ...r }), (e) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));
}

test('run: greedy text equals llama.cpp (models/REFERENCE.json)', async () => {
  for (const [file, cases] of Object.entries(reference())) {
    if (!Array.isArray(cases)) continue;
    for (const c of cases) {
      const r = await pocketlm(['run', '-m', `models/${file}`, '-p', c.prompt, '-n', String(c.greedy_tokens.length)]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, c.text);
      assert.match(r.stderr, /decode: \d+ tokens/);
    }
  }
});

test('run --print-ids: greedy tokens of every conformance case', async (t) => {
  for (const { model, cases } of conformance()) {
    for (const c of cases) await t.test(`${model}: ${JSON.stringify(c.prompt).slice(0, 40)}`, caseOptions(modelPath(model), c), async () => {
      const r = await pocketlm(['run', '-m', path.relative(ROOT, modelPath(model)), '-p', c.prompt, '-n', String(c.greedy_tokens.length),
        '--print-ids', '--exact']); // the WASI build's default kernels are the fast ones (tests/node/logits.test.mjs)
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /\(backend wasm128-exact\)/);
      assert.deepEqual(JSON.parse(r.stdout), expectedTokens(c), `${model}: ${c.prompt}`);
    });
  }
});

test('tokenize, info, absolute paths, errors exit 1 with a message', async () => {
  const t = await pocketlm(['tokenize', '-m', 'models/vocab/ggml-vocab-llama-spm.gguf', '-p', 'Hello world']);
  assert.equal(t.code, 0, t.stderr);
  assert.deepEqual(JSON.parse(t.stdout), [1, 15043, 3186]);

  const i = await pocketlm(['info', '-m', path.join(ROOT, 'models', 'stories260K.gguf')]);
  assert.equal(i.code, 0, i.stderr);
  assert.equal(typeof JSON.parse(i.stdout), 'object');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pocketlm-cli-'));
  const bad = path.join(tmp, 'bad.gguf');
  fs.writeFileSync(bad, Buffer.alloc(5000, 7));
  const b = await pocketlm(['run', '-m', bad, '-p', 'x']);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /BAD_MODEL/);
  fs.rmSync(tmp, { recursive: true });

  const m = await pocketlm(['run', '-m', 'models/nope.gguf', '-p', 'x']);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /IO/);

  const u = await pocketlm(['frobnicate']);
  assert.equal(u.code, 1);
  assert.match(u.stderr, /usage/);
});
