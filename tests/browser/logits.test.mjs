// Statistical conformance of the fast relaxed-SIMD variant in Chromium (tools/logits-compare.mjs; Node 20 cannot
// run relaxed SIMD): teacher-forced on every conformance model's recorded sequences and on a generated 110M model,
// each position's logits against the exact native backend's, computed here in Node and fetched by the page; top-1
// agreement >= 99.5% and mean KL <= 1e-5 over >= 1000 positions. The same limits hold the SIMD128 variant in Node
// (tests/node/logits.test.mjs).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startBrowser } from './server.mjs';
import { ROOT, conformance, model } from '../node/helpers.mjs';
import { merge, summary, withinLimits, sequences, nativeLogits, gen110M, LIMITS } from '../../tools/logits-compare.mjs';

let env;
test.after(async () => { if (env) await env.close(); });

test('fast relaxed-SIMD logits agree with the exact backend in Chromium (top-1, KL divergence)', { timeout: 900_000 },
  async (t) => {
    env = await startBrowser(ROOT);
    const page = await env.context.newPage();
    await page.goto(`${env.server.url}/tests/browser/page.html`);
    await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');
    const dir = path.join(ROOT, 'build', 'logits-ref');
    fs.mkdirSync(dir, { recursive: true });
    const runs = conformance().map(({ model: file, cases }) => ({ file: model(file), cases: sequences(cases) }));
    runs.push({ file: await gen110M(ROOT, 'Q8_0'), cases: sequences(null) });
    let total = { positions: 0, top1: 0, klSum: 0, maxKL: 0, maxAbs: 0 };
    try {
      for (const { file, cases } of runs) {
        const ref = path.join(dir, `${path.basename(file)}.f32`);
        const r = await nativeLogits(ROOT, file, cases);
        fs.writeFileSync(ref, new Uint8Array(r.buffer, r.byteOffset, r.byteLength));
        const rel = (p) => '/' + path.relative(ROOT, p).split(path.sep).join('/');
        const s = await page.evaluate(async ({ modelURL, refURL, cases }) => {
          const lib = await import('/tools/logits-compare.mjs');
          const { instantiate, shutdown } = await import('/js-bindings/runtime.js');
          const rt = await instantiate({ variant: 'relaxed', threads: 1, base: '/dist/' });
          try {
            const bytes = new Uint8Array(await (await fetch(modelURL)).arrayBuffer());
            const got = lib.teacherForce(rt, bytes, cases);
            const want = new Float32Array(await (await fetch(refURL)).arrayBuffer());
            return { backend: got.backend, ...lib.compareLogits(want, got.logits, got.nVocab) };
          } finally {
            shutdown(rt);
          }
        }, { modelURL: rel(file), refURL: rel(ref), cases });
        fs.rmSync(ref);
        assert.equal(s.backend, 'wasm-relaxed', 'the fast table runs by default');
        t.diagnostic(`${path.basename(file)}: ${summary(s)}`);
        total = merge(total, s);
      }
    } finally {
      await page.close();
    }
    t.diagnostic(`wasm-relaxed total: ${summary(total)}`);
    assert.ok(total.positions >= LIMITS.minPositions);
    assert.ok(withinLimits(total), `outside the limits: ${summary(total)}`);
  });
