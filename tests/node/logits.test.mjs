// Statistical conformance of the fast SIMD128 variant (tools/logits-compare.mjs): teacher-forced on every
// conformance model's recorded sequences and on a generated 110M model, each position's logits against the exact
// native backend's; top-1 agreement >= 99.5% and mean KL <= 1e-5 over >= 1000 positions. The relaxed variants run
// the same comparison in Chromium (tests/browser/logits.test.mjs).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, conformance, model } from './helpers.mjs';
import { teacherForce, compareLogits, merge, summary, withinLimits, sequences, nativeLogits, gen110M, LIMITS }
  from '../../tools/logits-compare.mjs';
import { instantiate, shutdown } from '../../js-bindings/runtime.js';

test('fast SIMD128 logits agree with the exact backend (top-1, KL divergence)', { timeout: 900_000 }, async (t) => {
  const rt = await instantiate({ variant: 'simd', threads: 1, base: pathToFileURL(path.join(ROOT, 'dist') + '/').href });
  try {
    const runs = conformance().map(({ model: file, cases }) => ({ file: model(file), cases: sequences(cases) }));
    runs.push({ file: await gen110M(ROOT, "Q4_0"), cases: sequences(null) });
    let total = { positions: 0, top1: 0, klSum: 0, maxKL: 0, maxAbs: 0 };
    for (const { file, cases } of runs) {
          const got = teacherForce(rt, fs.readFileSync(file), cases);
      assert.equal(got.backend, 'wasm128', 'the fast table runs by default');
      const s = compareLogits(await nativeLogits(ROOT, file, cases), got.logits, got.nVocab);
      t.diagnostic(`${path.basename(file)}: ${summary(s)}`);
      assert.ok(s.maxAbs < 1, `${path.basename(file)}: a logit moved by ${s.maxAbs}`);
      total = merge(total, s);
    }
    t.diagnostic(`wasm128 total: ${summary(total)}`);
    assert.ok(total.positions >= LIMITS.minPositions);
    assert.ok(withinLimits(total), `outside the limits (top-1 >= ${LIMITS.top1}, mean KL <= ${LIMITS.meanKL}): ${summary(total)}`);
  } finally {
    shutdown(rt);
  }
});
