// Greedy output of dist/pocketlm.js equals llama.cpp's (tests/data/conformance, models/REFERENCE.json), on every
// exact wasm setup Node can run: single-thread and multi-thread SIMD128 loaded with { exact: true }, and the scalar
// fallback. The default SIMD128 kernels are not exact (docs/architecture.md, "The arithmetic contract"): their greedy
// text may leave llama.cpp's after a near-tie, so for them this suite reports agreement (tokens equal before the
// first difference) and the statistical comparison (tests/node/logits.test.mjs) holds them to limits. Relaxed-SIMD
// variants run in Chromium (tests/browser): Node 20 does not validate them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PocketLM } from '../../dist/pocketlm.js';
import { conformance, reference, expectedTokens, model, caseOptions } from './helpers.mjs';

const VARIANTS = [
  { variant: 'simd', threads: 1, exact: true },
  { variant: 'mt-simd', threads: 2, exact: true },
  { variant: 'scalar', threads: 1 },
];

for (const v of VARIANTS) {
  test(`llama.cpp greedy conformance, variant ${v.variant}${v.exact ? ' (exact)' : ''}`, async (t) => {
    for (const { model: file, cases } of conformance()) {
      const lm = await PocketLM.load({ model: model(file), ...v });
      assert.equal(lm.info.variant, v.variant);
      assert.equal(lm.info.threads, v.threads);
      assert.equal(lm.info.backend, v.variant === 'scalar' ? 'scalar' : 'wasm128-exact');
      try {
        for (const c of cases) {
          const witness = caseOptions(model(file), c, v.variant === 'scalar' ? 'scalar' : undefined);
          await t.test(`${file}: ${JSON.stringify(c.prompt).slice(0, 40)}`, witness, async () => {
            assert.deepEqual(await lm.tokenize(c.prompt), c.prompt_tokens, 'prompt tokens');
            const want = expectedTokens(c);
            const pieces = [];
            const r = await lm.complete(c.prompt, { temperature: 0, maxTokens: c.greedy_tokens.length,
              onToken: (text) => pieces.push(text) });
            assert.deepEqual(r.tokens, want, 'greedy tokens');
            assert.equal(r.text, c.text);
            // streamed pieces are whole UTF-8 characters and add up to the text
            assert.equal(pieces.join(''), r.text);
            assert.ok(pieces.every((x) => !x.includes('\uFFFD') || c.text.includes('\uFFFD')));
            assert.equal(r.finishReason, c.stop === 'eog' ? 'stop' : 'length');
            assert.ok(r.timings.promptN >= 1 && r.timings.promptN <= c.prompt_tokens.length);
            assert.equal(r.timings.predictedN, want.length);
          });
        }
      } finally {
        await lm.unload();
      }
    }
  });
}

test('fast SIMD128 (the default): greedy agreement with llama.cpp, reported', async (t) => {
  let same = 0, all = 0, identical = 0, n = 0;
  for (const { model: file, cases } of conformance()) {
    const lm = await PocketLM.load({ model: model(file), variant: 'simd', threads: 1 });
    assert.equal(lm.info.backend, 'wasm128');
    assert.equal(lm.info.exact, false);
    try {
      for (const c of cases) {
        assert.deepEqual(await lm.tokenize(c.prompt), c.prompt_tokens, 'prompt tokens');
        const want = expectedTokens(c);
        const r = await lm.complete(c.prompt, { temperature: 0, maxTokens: c.greedy_tokens.length });
        let k = 0;
        while (k < want.length && r.tokens[k] === want[k]) k++;
        same += k, all += want.length, n++;
        if (k === want.length && r.tokens.length === want.length) {
          identical++;
          assert.equal(r.text, c.text);
        } else {
          t.diagnostic(`${file} ${JSON.stringify(c.prompt).slice(0, 30)}: first difference at token ${k} of ${want.length}`);
        }
      }
    } finally {
      await lm.unload();
    }
  }
  t.diagnostic(`wasm128 greedy agreement: ${identical} of ${n} cases identical, ${same} of ${all} tokens before the ` +
    'first difference');
});

test('models/REFERENCE.json from the default variant (threads: auto), exact', async () => {
  for (const [file, cases] of Object.entries(reference())) {
    if (!Array.isArray(cases)) continue;
    const lm = await PocketLM.load({ model: model(file), exact: true });
    try {
      for (const c of cases) {
        const r = await lm.complete(c.prompt, { temperature: 0, maxTokens: c.greedy_tokens.length, cachePrompt: false });
        const want = c.greedy_tokens.at(-1) === lm.info.eos ? c.greedy_tokens.slice(0, -1) : c.greedy_tokens;
        assert.deepEqual(r.tokens, want, `${file} greedy tokens`);
        assert.equal(r.text, c.text);
      }
    } finally {
      await lm.unload();
    }
  }
});
