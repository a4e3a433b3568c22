// Greedy output of dist/pocketlm.js equals llama.cpp's (tests/data/conformance, models/REFERENCE.json), on every
// wasm variant Node can run: single-thread SIMD128 (the Node default for one thread), multi-thread SIMD128 (worker
// threads) and the scalar fallback. Relaxed-SIMD variants run in Chromium (tests/browser): Node 20 does not
// validate them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PocketLM } from '../../dist/pocketlm.js';
import { conformance, reference, expectedTokens, model, caseOptions } from './helpers.mjs';

const VARIANTS = [
  { variant: 'simd', threads: 1 },
  { variant: 'mt-simd', threads: 2 },
  { variant: 'scalar', threads: 1 },
];

for (const v of VARIANTS) {
  test(`llama.cpp greedy conformance, variant ${v.variant}`, async (t) => {
    for (const { model: file, cases } of conformance()) {
      const lm = await PocketLM.load({ model: model(file), ...v });
      assert.equal(lm.info.variant, v.variant);
      assert.equal(lm.info.threads, v.threads);
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

test('models/REFERENCE.json from the default variant (threads: auto)', async () => {
  for (const [file, cases] of Object.entries(reference())) {
    if (!Array.isArray(cases)) continue;
    const lm = await PocketLM.load({ model: model(file) });
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
