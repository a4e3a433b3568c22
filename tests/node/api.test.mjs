// The JavaScript API of dist/pocketlm.js in Node: streaming, chat, abort, sessions, sources, errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { PocketLM, PocketLMError } from '../../dist/pocketlm.js';
import { reference, model, parseGGUF, ROOT } from './helpers.mjs';
import path from 'node:path';

const STORIES = model('stories260K.gguf');
const REF = reference()['stories260K.gguf'][0];
const GREEDY = { temperature: 0, maxTokens: 100 };

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error, 'an Error');
    assert.ok(e instanceof PocketLMError, `a PocketLMError, got ${e && e.name}: ${e && e.message}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.length > 0);
    return true;
  });
}

test('engine in-process (single thread)', async (t) => {
  const lm = await PocketLM.load({ model: STORIES, threads: 1 });
  t.after(() => lm.unload());

  await t.test('info', async () => {
    // the variant load() picks here (relaxed SIMD where the probe validates it, else SIMD, else scalar)
    assert.equal(lm.info.variant, (await PocketLM.chooseVariant({ threads: 1 })).variant);
    assert.ok(PocketLM.variants.includes(lm.info.variant));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.equal(PocketLM.version, pkg.version);
    assert.equal(lm.info.version, pkg.version, 'the wasm core\'s plm_version()');
    assert.equal((await lm.modelInfo()).pocketlm_version, pkg.version);
    assert.equal(lm.info.arch, 'llama');
    assert.equal(lm.info.nVocab, 512);
    assert.equal(lm.info.hasWeights, true);
    assert.ok(lm.info.contextSize > 0);
    assert.equal(typeof lm.info.backend, 'string');
  });

  await t.test('streaming tokens concatenate to the text', async () => {
    const pieces = [];
    const ids = [];
    const r = await lm.complete(REF.prompt, { ...GREEDY, onToken: (text, id) => { pieces.push(text); ids.push(id); } });
    assert.equal(pieces.join(''), r.text);
    assert.equal(r.text, REF.text);
    assert.deepEqual(ids.filter((x) => x !== null), r.tokens);
    assert.deepEqual(r.tokens, REF.greedy_tokens);
  });

  await t.test('tokenize / detokenize', async () => {
    const ids = await lm.tokenize(REF.prompt);
    assert.deepEqual(ids, REF.prompt_tokens);
    assert.deepEqual(await lm.tokenize(REF.prompt, { bos: false }), REF.prompt_tokens.slice(1));
    assert.equal(await lm.detokenize(REF.greedy_tokens), REF.text);
  });

  await t.test('prompt as token ids', async () => {
    const r = await lm.complete(REF.prompt_tokens, GREEDY);
    assert.deepEqual(r.tokens, REF.greedy_tokens);
  });

  await t.test('stop strings end the text before them', async () => {
    const r = await lm.complete(REF.prompt, { ...GREEDY, stop: ['Lily'] });
    assert.equal(r.finishReason, 'stop');
    assert.equal(r.text, REF.text.slice(0, REF.text.indexOf('Lily')));
    const streamed = [];
    const r2 = await lm.complete(REF.prompt, { ...GREEDY, stop: ['park.'], onToken: (s) => streamed.push(s) });
    assert.equal(r2.text, REF.text.slice(0, REF.text.indexOf('park.')));
    assert.equal(streamed.join(''), r2.text);
  });

  await t.test('maxTokens', async () => {
    const r = await lm.complete(REF.prompt, { temperature: 0, maxTokens: 7 });
    assert.deepEqual(r.tokens, REF.greedy_tokens.slice(0, 7));
    assert.equal(r.finishReason, 'length');
  });

  await t.test('sampling is reproducible with a seed', async () => {
    const opts = { temperature: 0.9, topK: 40, topP: 0.95, minP: 0.05, seed: 1234, maxTokens: 40 };
    const a = await lm.complete(REF.prompt, opts);
    const b = await lm.complete(REF.prompt, opts);
    const c = await lm.complete(REF.prompt, { ...opts, seed: 99 });
    assert.deepEqual(a.tokens, b.tokens);
    assert.notDeepEqual(a.tokens, c.tokens);
  });

  await t.test('abort stops within one token', async () => {
    const ctl = new AbortController();
    let n = 0;
    const r = await lm.complete(REF.prompt, {
      temperature: 0, maxTokens: 1000, signal: ctl.signal,
      onToken: () => { if (++n === 5) ctl.abort(); },
    });
    assert.equal(r.finishReason, 'abort');
    assert.equal(r.tokens.length, 5);
    assert.deepEqual(r.tokens, REF.greedy_tokens.slice(0, 5));
    // an already aborted signal: nothing is generated
    const r2 = await lm.complete(REF.prompt, { ...GREEDY, signal: AbortSignal.abort() });
    assert.equal(r2.finishReason, 'abort');
    assert.equal(r2.tokens.length, 0);
    // the session is still usable, and still exact
    const r3 = await lm.complete(REF.prompt, GREEDY);
    assert.deepEqual(r3.tokens, REF.greedy_tokens);
  });

  await t.test('an error thrown by onToken rejects the call and stops generation', async () => {
    let calls = 0;
    await assert.rejects(lm.complete(REF.prompt, { temperature: 0, maxTokens: 400, cachePrompt: false,
      onToken: () => { calls++; throw new Error('boom'); } }), /boom/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls, 1, 'no token is shown after the throw');
    // the engine (in this thread) stopped within a token: its session holds the prompt and at most 2 more tokens
    const cached = lm.t.host.sessions.get(1).cache.length;
    assert.ok(cached <= REF.prompt_tokens.length + 2, `${cached} tokens cached: generation went on`);
    assert.deepEqual((await lm.complete(REF.prompt, GREEDY)).tokens, REF.greedy_tokens);
  });

  await t.test('bad arguments reject with BAD_ARG naming the argument', async () => {
    const cases = [
      [() => lm.complete(42), 'prompt'],
      [() => lm.complete(null), 'prompt'],
      [() => lm.complete([1, -2]), 'prompt'],
      [() => lm.complete('x', { maxTokens: -5 }), 'maxTokens'],
      [() => lm.complete('x', { maxTokens: 1.5 }), 'maxTokens'],
      [() => lm.complete('x', { temperature: NaN }), 'temperature'],
      [() => lm.complete('x', { temperature: -1 }), 'temperature'],
      [() => lm.complete('x', { topK: -1 }), 'topK'],
      [() => lm.complete('x', { topP: 2 }), 'topP'],
      [() => lm.complete('x', { minP: '0.1' }), 'minP'],
      [() => lm.complete('x', { repeatPenalty: 0 }), 'repeatPenalty'],
      [() => lm.complete('x', { seed: -3 }), 'seed'],
      [() => lm.complete('x', { seed: 1.5 }), 'seed'],
      [() => lm.complete('x', { stop: 5 }), 'stop'],
      [() => lm.complete('x', { stop: ['a', 3] }), 'stop'],
      [() => lm.complete('x', { signal: {} }), 'signal'],
      [() => lm.complete('x', { onToken: 'print' }), 'onToken'],
      [() => lm.complete('x', 'fast'), 'options'],
      [() => lm.tokenize(7), 'text'],
      [() => lm.tokenize('x', { bos: 1 }), 'bos'],
      [() => lm.detokenize('abc'), 'ids'],
      [() => lm.detokenize([1, 2.5]), 'ids'],
      [() => lm.createSession({ contextSize: 0 }), 'contextSize'],
      [() => lm.createSession({ batchSize: -1 }), 'batchSize'],
      [() => lm.applyChatTemplate([]), 'messages'],
      [() => lm.applyChatTemplate([{ content: 'hi' }]), 'messages[0].role'],
      [() => lm.chat.completions.create({ messages: 'hi' }), 'messages'],
      [() => lm.chat.completions.create({ messages: [{ role: 'user', content: 5 }] }), 'messages[0].content'],
      [() => lm.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], max_tokens: -5 }), 'max_tokens'],
      [() => lm.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], top_p: 7 }), 'top_p'],
      [() => lm.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], n: 2 }), 'n'],
      [async () => { for await (const c of lm.chat.completions.create({ messages: 3, stream: true })) void c; }, 'messages'],
      [() => PocketLM.load({ model: STORIES, contextSize: -1 }), 'contextSize'],
      [() => PocketLM.load({ model: STORIES, onProgress: true }), 'onProgress'],
    ];
    for (const [call, name] of cases) {
      await rejectsWith(call(), 'BAD_ARG');
      await assert.rejects(call(), (e) => e.message.includes(name), `the message names ${name}`);
    }
    // a token id outside the vocabulary: the core says so
    await rejectsWith(lm.detokenize([lm.info.nVocab]), 'BAD_ARG');
    await rejectsWith(lm.complete([1, lm.info.nVocab]), 'BAD_ARG');
  });

  await t.test('complete() and chat agree: the same default length, timings in their result\'s case', async () => {
    const small = await lm.createSession({ contextSize: 96 });
    const messages = [{ role: 'user', content: 'Tell me a story.' }];
    const { text: rendered } = await lm.applyChatTemplate(messages);
    const r = await small.complete(rendered, { temperature: 0, special: true }); // no maxTokens
    const c = await small.chat.completions.create({ messages, temperature: 0 }); // no max_tokens
    assert.equal(c.choices[0].message.content, r.text);
    assert.equal(c.usage.completion_tokens, r.tokens.length);
    assert.ok(r.tokens.length > 0);
    assert.equal(r.finishReason, c.choices[0].finish_reason);
    if (r.finishReason === 'length') assert.equal(r.promptTokens + r.tokens.length, 97); // ran to the full context (+ the last token, sampled)
    assert.deepEqual(Object.keys(r.timings).sort(), ['predictedMs', 'predictedN', 'promptMs', 'promptN', 'wasmMemoryBytes']);
    // the engine's whole memory: at least the weights, and a whole number of 64 KiB wasm pages
    assert.ok(r.timings.wasmMemoryBytes >= lm.info.weightBytes && r.timings.wasmMemoryBytes % 65536 === 0);
    assert.equal(r.timings.predictedN, r.tokens.length);
    assert.deepEqual(Object.keys(c.timings).sort(), ['predicted_ms', 'predicted_n', 'prompt_ms', 'prompt_n']);
    assert.equal(c.timings.predicted_n, r.tokens.length);
    await small.dispose();
  });

  await t.test('chat.completions: stream chunks concatenate to the non-streamed message', async () => {
    const messages = [{ role: 'system', content: 'You tell stories.' }, { role: 'user', content: 'Tell me a story.' }];
    const full = await lm.chat.completions.create({ messages, temperature: 0, max_tokens: 40 });
    assert.equal(full.object, 'chat.completion');
    assert.equal(full.choices[0].message.role, 'assistant');
    assert.ok(['stop', 'length'].includes(full.choices[0].finish_reason));
    assert.equal(full.usage.completion_tokens + full.usage.prompt_tokens, full.usage.total_tokens);

    const chunks = [];
    for await (const c of lm.chat.completions.create({ messages, temperature: 0, max_tokens: 40, stream: true,
      stream_options: { include_usage: true } })) chunks.push(c);
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
    const text = chunks.map((c) => (c.choices[0] && c.choices[0].delta.content) || '').join('');
    assert.equal(text, full.choices[0].message.content);
    const last = chunks.at(-2);
    assert.equal(last.choices[0].finish_reason, full.choices[0].finish_reason);
    assert.deepEqual(chunks.at(-1).usage, full.usage);

    // the same as completing the rendered template with control tokens parsed
    const { text: rendered } = await lm.applyChatTemplate(messages);
    const r = await lm.complete(rendered, { temperature: 0, maxTokens: 40, special: true });
    assert.equal(r.text, full.choices[0].message.content);

    // `await create()` gives an iterable too
    const s = await lm.chat.completions.create({ messages, temperature: 0, max_tokens: 5, stream: true });
    let n = 0;
    for await (const c of s) n += c.choices.length;
    assert.ok(n >= 2);
  });

  await t.test('chat abort ends with finish_reason abort and the text so far, as complete(); breaking out stops', async () => {
    const messages = [{ role: 'user', content: 'Hi' }];
    const full = await lm.chat.completions.create({ messages, temperature: 0, max_tokens: 40 });
    const ctl = new AbortController();
    const it = lm.chat.completions.create({ messages, temperature: 0, max_tokens: 500, stream: true }, { signal: ctl.signal });
    let n = 0, text = '';
    const chunks = [];
    for await (const c of it) {
      chunks.push(c);
      if (c.choices[0] && c.choices[0].delta.content) {
        text += c.choices[0].delta.content;
        if (++n === 3) ctl.abort();
      }
    }
    assert.equal(n, 3, 'nothing is streamed after abort()');
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'abort');
    assert.ok(full.choices[0].message.content.startsWith(text) && text.length > 0);
    const nonStream = await lm.chat.completions.create({ messages, temperature: 0 }, { signal: AbortSignal.abort() });
    assert.equal(nonStream.choices[0].finish_reason, 'abort');
    assert.equal(nonStream.choices[0].message.content, '');
    assert.equal(nonStream.usage.completion_tokens, 0);
    for await (const c of lm.chat.completions.create({ messages, temperature: 0, max_tokens: 500, stream: true })) {
      if (c.choices[0] && c.choices[0].delta.content) break;
    }
    const r = await lm.complete(REF.prompt, GREEDY); // the session is free again
    assert.deepEqual(r.tokens, REF.greedy_tokens);
  });

  await t.test('two sessions on one model do not interfere', async () => {
    const other = 'The cat was very sad because';
    const alone = await lm.complete(other, GREEDY);
    const s1 = await lm.createSession();
    const s2 = await lm.createSession({ contextSize: 256 });
    assert.equal(s2.contextSize, 256);
    // interleaved token by token
    const [a, b, c] = await Promise.all([
      s1.complete(REF.prompt, GREEDY), s2.complete(other, GREEDY), lm.complete(REF.prompt, GREEDY),
    ]);
    assert.deepEqual(a.tokens, REF.greedy_tokens);
    assert.deepEqual(c.tokens, REF.greedy_tokens);
    assert.deepEqual(b.tokens, alone.tokens);
    // two requests on one session run one after the other
    const [d, e] = await Promise.all([s1.complete(other, GREEDY), s1.complete(REF.prompt, GREEDY)]);
    assert.deepEqual(d.tokens, alone.tokens);
    assert.deepEqual(e.tokens, REF.greedy_tokens);
    await s1.reset();
    await s1.dispose();
    await s2.dispose();
    await rejectsWith(s1.complete(REF.prompt, GREEDY), 'BAD_ARG');
  });

  await t.test('a prompt longer than the context: CONTEXT_FULL; generation stops at the end of the context', async () => {
    const small = await lm.createSession({ contextSize: 16 });
    await rejectsWith(small.complete('Once upon a time '.repeat(10), GREEDY), 'CONTEXT_FULL');
    const r = await small.complete(REF.prompt, GREEDY);
    assert.equal(r.finishReason, 'length');
    assert.ok(r.tokens.length <= 16 - REF.prompt_tokens.length + 1);
    assert.deepEqual(r.tokens, REF.greedy_tokens.slice(0, r.tokens.length));
    await small.dispose();
  });
});

test('engine on a Node worker thread, multi-thread variant', async () => {
  const lm = await PocketLM.load({ model: STORIES, worker: true, variant: 'mt-simd', threads: 2 });
  try {
    assert.equal(lm.info.variant, 'mt-simd');
    assert.equal(lm.info.threads, 2);
    const pieces = [];
    const r = await lm.complete(REF.prompt, { ...GREEDY, onToken: (s) => pieces.push(s) });
    assert.deepEqual(r.tokens, REF.greedy_tokens);
    assert.equal(pieces.join(''), REF.text);
    const ctl = new AbortController();
    let n = 0;
    const a = await lm.complete(REF.prompt, { temperature: 0, maxTokens: 1000, signal: ctl.signal,
      onToken: () => { if (++n === 5) ctl.abort(); } });
    assert.equal(a.finishReason, 'abort');
    assert.equal(a.tokens.length, 5);
    assert.deepEqual(a.tokens, REF.greedy_tokens.slice(0, 5));
  } finally {
    await lm.unload();
  }
  await rejectsWith(lm.complete(REF.prompt, GREEDY), 'UNLOADED');
});

test('model sources: path, file URL, Blob, ArrayBuffer, stream, async iterable', async () => {
  const bytes = fs.readFileSync(STORIES);
  const sources = {
    url: new URL(`file://${STORIES}`),
    blob: new Blob([bytes]),
    arrayBuffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    stream: new Blob([bytes]).stream(),
    iterable: (async function* () { for (let o = 0; o < bytes.length; o += 100000) yield bytes.subarray(o, o + 100000); })(),
  };
  for (const [kind, src] of Object.entries(sources)) {
    for (const worker of [false, true]) {
      if (worker && kind === 'url') continue;
      const progress = [];
      const lm = await PocketLM.load({ model: src instanceof ReadableStream && worker ? new Blob([bytes]).stream() : src,
        threads: 1, worker, onProgress: (p) => progress.push(p) });
      try {
        const r = await lm.complete(REF.prompt, { temperature: 0, maxTokens: 20 });
        assert.deepEqual(r.tokens, REF.greedy_tokens.slice(0, 20), `${kind} worker=${worker}`);
        assert.equal(progress.at(-1).loaded, bytes.length);
        assert.equal(progress.at(-1).fraction, 1);
      } finally {
        await lm.unload();
      }
      if (kind === 'iterable') break; // an iterator is used up
    }
  }
  // store ids: tests/node/store.test.mjs and tests/browser/store.test.mjs
});

test('errors have stable codes', async (t) => {
  const good = fs.readFileSync(STORIES);
  for (const worker of [false, true]) {
    await t.test(`bad model bytes reject with BAD_MODEL (worker: ${worker})`, async () => {
      await rejectsWith(PocketLM.load({ model: new Uint8Array(1000).fill(7), worker }), 'BAD_MODEL');
      const junk = new Uint8Array(4096);
      junk.set([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
      await rejectsWith(PocketLM.load({ model: junk, worker }), 'BAD_MODEL');
      await rejectsWith(PocketLM.load({ model: good.subarray(0, good.length >> 1), worker }), 'BAD_MODEL');
      await rejectsWith(PocketLM.load({ model: new Uint8Array(0), worker }), 'BAD_MODEL');
    });
  }

  await t.test('an architecture we do not run: UNSUPPORTED (the C name)', async () => {
    const h = parseGGUF(good);
    const arch = h.kv['general.architecture'];
    const bad = Uint8Array.from(good);
    bad.set(new TextEncoder().encode('mamba'), arch.strAt); // 'llama' -> 'mamba': same length, same layout
    await rejectsWith(PocketLM.load({ model: bad }), 'UNSUPPORTED');
  });

  await t.test('a model larger than wasm32 memory: OUT_OF_MEMORY, not a crash', async () => {
    const h = parseGGUF(good);
    const last = h.tensors.reduce((a, b) => (b.offset > a.offset ? b : a));
    for (const offset of [5n << 30n, (4n << 30n) - (4n << 20n)]) {
      const big = Uint8Array.from(good.subarray(0, 200000)); // the header and some data: the arena is sized first
      new DataView(big.buffer).setBigUint64(last.offsetAt, offset, true);
      await rejectsWith(PocketLM.load({ model: big, threads: 1 }), 'OUT_OF_MEMORY');
    }
    // the engine is still fine for the next model
    const lm = await PocketLM.load({ model: STORIES, threads: 1 });
    assert.deepEqual((await lm.complete(REF.prompt, { temperature: 0, maxTokens: 5 })).tokens, REF.greedy_tokens.slice(0, 5));
    await lm.unload();
  });

  await t.test('missing file: IO; bad options: BAD_ARG; aborted load: ABORTED', async () => {
    await rejectsWith(PocketLM.load({ model: model('does-not-exist.gguf') }), 'IO');
    await rejectsWith(PocketLM.load({}), 'BAD_ARG');
    await rejectsWith(PocketLM.load({ model: STORIES, variant: 'avx512' }), 'BAD_ARG');
    await rejectsWith(PocketLM.load({ model: STORIES, threads: 0 }), 'BAD_ARG');
    await rejectsWith(PocketLM.load({ model: STORIES, signal: AbortSignal.abort() }), 'ABORTED');
    const slow = (async function* () {
      for (let o = 0; o < good.length; o += 1000) { await new Promise((r) => setTimeout(r, 20)); yield good.subarray(o, o + 1000); }
    })();
    await rejectsWith(PocketLM.load({ model: slow, signal: AbortSignal.timeout(100) }), 'ABORTED');
  });

  await t.test('a piece longer than 256 bytes is detokenized whole', async () => {
    // ggml-vocab-llama-spm.gguf with token 15043 ("▁Hello") made "▁" + 600 x's: the header is rewritten around it
    const vocab = fs.readFileSync(model('vocab/ggml-vocab-llama-spm.gguf'));
    const h = parseGGUF(vocab);
    const tok = h.kv['tokenizer.ggml.tokens'];
    const dv = new DataView(vocab.buffer, vocab.byteOffset, vocab.byteLength);
    const n = Number(dv.getBigUint64(tok.valueAt + 4, true));
    const parts = [vocab.subarray(tok.valueAt, tok.valueAt + 12)];
    const long = new TextEncoder().encode('\u2581' + 'x'.repeat(600));
    for (let i = 0, p = tok.valueAt + 12; i < n; i++) {
      const len = Number(dv.getBigUint64(p, true));
      if (i === 15043) {
        const l = new Uint8Array(8);
        new DataView(l.buffer).setBigUint64(0, BigInt(long.length), true);
        parts.push(l, long);
      } else parts.push(vocab.subarray(p, p + 8 + len));
      p += 8 + len;
    }
    const head = Buffer.concat([vocab.subarray(0, tok.valueAt), ...parts, vocab.subarray(tok.valueEnd, h.headerEnd)]);
    const file = Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32)]);
    const lm = await PocketLM.load({ model: file });
    try {
      assert.equal(await lm.detokenize([15043]), ' ' + 'x'.repeat(600));
      assert.equal(await lm.detokenize([1, 15043, 3186, 15043]), ' ' + 'x'.repeat(600) + ' world ' + 'x'.repeat(600));
    } finally {
      await lm.unload();
    }
  });

  await t.test('vocab-only model: tokenizes, cannot generate', async () => {
    const lm = await PocketLM.load({ model: model('vocab/ggml-vocab-llama-spm.gguf') });
    assert.equal(lm.info.hasWeights, false);
    assert.deepEqual(await lm.tokenize('Hello world'), [1, 15043, 3186]);
    await rejectsWith(lm.complete('Hello'), 'BAD_ARG');
    await lm.unload();
  });
});
