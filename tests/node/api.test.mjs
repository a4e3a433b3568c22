// The JavaScript API of dist/pocketlm.js in Node: streaming, chat, abort, sessions, sources, errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { PocketLM, PocketLMError } from '../../dist/pocketlm.js';
import { reference, model, parseGGUF } from './helpers.mjs';

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

  await t.test('info', () => {
    assert.equal(lm.info.variant, 'simd');
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
    await assert.rejects(lm.complete(REF.prompt, { ...GREEDY, onToken: () => { throw new Error('boom'); } }), /boom/);
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

  await t.test('chat stream abort rejects with ABORTED; breaking out stops generation', async () => {
    const messages = [{ role: 'user', content: 'Hi' }];
    const ctl = new AbortController();
    const it = lm.chat.completions.create({ messages, temperature: 0, max_tokens: 500, stream: true }, { signal: ctl.signal });
    await rejectsWith((async () => {
      let n = 0;
      for await (const c of it) if (c.choices[0] && c.choices[0].delta.content && ++n === 3) ctl.abort();
    })(), 'ABORTED');
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

  await t.test('an architecture we do not run: UNSUPPORTED_TYPE', async () => {
    const h = parseGGUF(good);
    const arch = h.kv['general.architecture'];
    const bad = Uint8Array.from(good);
    bad.set(new TextEncoder().encode('mamba'), arch.strAt); // 'llama' -> 'mamba': same length, same layout
    await rejectsWith(PocketLM.load({ model: bad }), 'UNSUPPORTED_TYPE');
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

  await t.test('vocab-only model: tokenizes, cannot generate', async () => {
    const lm = await PocketLM.load({ model: model('vocab/ggml-vocab-llama-spm.gguf') });
    assert.equal(lm.info.hasWeights, false);
    assert.deepEqual(await lm.tokenize('Hello world'), [1, 15043, 3186]);
    await rejectsWith(lm.complete('Hello'), 'BAD_ARG');
    await lm.unload();
  });
});
