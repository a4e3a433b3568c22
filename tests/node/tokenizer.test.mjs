// llama.cpp's tokenizations (tests/data/conformance/tokenize-ggml-vocab-*.json) through the JavaScript API, i.e. the
// tokenizer compiled to WebAssembly: the same vectors tests/c/test_tokenizer.c checks natively. The real vocabularies
// are written into build/vocab/ by make (tools/vocab-gguf.mjs).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PocketLM } from '../../dist/pocketlm.js';
import { ROOT } from './helpers.mjs';

const VOCABS = {
  'llama-spm': 'models/vocab/ggml-vocab-llama-spm.gguf',
  'gpt-2': 'models/vocab/ggml-vocab-gpt-2.gguf',
  qwen3: 'build/vocab/ggml-vocab-qwen3.gguf',
  gemma2: 'build/vocab/ggml-vocab-gemma2.gguf',
  gemma3: 'build/vocab/ggml-vocab-gemma3.gguf',
  llama3: 'build/vocab/ggml-vocab-llama3.gguf',
};

for (const [name, file] of Object.entries(VOCABS)) {
  test(`tokenizer vectors: ${name}`, async () => {
    const rec = JSON.parse(fs.readFileSync(path.join(ROOT, `tests/data/conformance/tokenize-ggml-vocab-${name}.json`), 'utf8'));
    const lm = await PocketLM.load({ model: path.join(ROOT, file), threads: 1 });
    try {
      assert.equal(lm.info.nVocab, rec.vocab.n_tokens);
      assert.ok(rec.cases.length > 300);
      const bad = [];
      for (const c of rec.cases) {
        const plain = await lm.tokenize(c.text, { bos: false });
        const special = await lm.tokenize(c.text, { bos: false, special: true });
        if (JSON.stringify(plain) !== JSON.stringify(c.tokens) || JSON.stringify(special) !== JSON.stringify(c.special))
          bad.push(`${JSON.stringify(c.text)}: [${plain}] / [${special}], llama.cpp [${c.tokens}] / [${c.special}]`);
      }
      assert.deepEqual(bad.slice(0, 3), [], `${bad.length} of ${rec.cases.length} strings tokenized unlike llama.cpp`);
      // BOS by default exactly where llama.cpp adds it
      const first = rec.cases[0];
      const withBos = await lm.tokenize(first.text);
      assert.deepEqual(withBos, rec.vocab.add_bos ? [rec.vocab.bos, ...first.tokens] : first.tokens);
    } finally {
      await lm.unload();
    }
  });
}
