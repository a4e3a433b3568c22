// Decode and prefill speed of dist/pocketlm.js in Node, measured like `pocketlm bench` (tools/pocketlm.c): a prompt
// of 128 pseudo-random tokens (the CLI's generator), then 64 decode steps. Here every decode step also samples
// (greedy argmax over the vocabulary), which the CLI's bench does not: a difference far below a forward pass.
//
//   node js-bindings/bench-node.mjs MODEL.gguf [variant[:threads]]...     (default: simd mt-simd:2)
// Prints one JSON line per variant, in the CLI bench's shape.
import { PocketLM } from '../dist/pocketlm.js';

const [model, ...specs] = process.argv.slice(2);
if (!model) {
  console.error('usage: node js-bindings/bench-node.mjs MODEL.gguf [variant[:threads]]...');
  process.exit(1);
}
const NP = 128, ND = 64;

for (const spec of specs.length ? specs : ['simd', 'mt-simd:2']) {
  const [variant, t] = spec.split(':');
  const threads = Number(t || 1);
  const lm = await PocketLM.load({ model, variant, threads, contextSize: NP + ND + 1 });
  // the CLI's prompt: x = x * 6364136223846793005 + 1442695040888963407, id = (x >> 33) % n_vocab
  let x = 42n;
  const ids = [];
  for (let i = 0; i < NP; i++) {
    x = BigInt.asUintN(64, x * 6364136223846793005n + 1442695040888963407n);
    ids.push(Number((x >> 33n) % BigInt(lm.info.nVocab)));
  }
  await lm.complete(ids.slice(0, 8), { temperature: 0, maxTokens: 4, cachePrompt: false }); // warm up
  const r = await lm.complete(ids, { temperature: 0, maxTokens: ND, cachePrompt: false, stop: [] });
  const tm = r.timings;
  console.log(JSON.stringify({
    model, runtime: 'node', variant: lm.info.variant, backend: lm.info.backend, threads: lm.info.threads,
    n_prompt: tm.promptN, n_decode: tm.predictedN,
    prefill_tok_s: +(tm.promptN / (tm.promptMs / 1000)).toFixed(2),
    // the first token comes from the prompt's logits: predictedN - 1 forward passes
    decode_tok_s: +((tm.predictedN - 1) / (tm.predictedMs / 1000)).toFixed(2),
  }));
  await lm.unload();
}
