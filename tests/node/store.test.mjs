// The ModelStore in Node, which has no IndexedDB: open() refuses with UNSUPPORTED_ENVIRONMENT and URLs keep
// streaming uncached (the browser behaviour is tested in tests/browser/store.test.mjs).
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { PocketLM, ModelStore, PocketLMError } from '../../dist/pocketlm.js';
import { reference, model } from './helpers.mjs';

const REF = reference()['stories260K.gguf'][0];

async function rejectsWith(promise, code, pattern) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof PocketLMError, `a PocketLMError, got ${e && e.name}: ${e && e.message}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('ModelStore.open() rejects with UNSUPPORTED_ENVIRONMENT and says what to do instead', async () => {
  assert.equal(typeof globalThis.indexedDB, 'undefined');
  await rejectsWith(ModelStore.open(), 'UNSUPPORTED_ENVIRONMENT', /IndexedDB.*cache: false/);
  await rejectsWith(ModelStore.open({ name: 'other' }), 'UNSUPPORTED_ENVIRONMENT');
  await rejectsWith(ModelStore.open({ name: 3 }), 'BAD_ARG', /name/);
});

test('ids: the first 128 bits of the SHA-256 of the absolute URL; non-http(s) URLs refused', () => {
  const url = 'https://example.com/models/a.gguf';
  assert.equal(ModelStore.id(url), crypto.createHash('sha256').update(url).digest('hex').slice(0, 32));
  assert.equal(ModelStore.id(url + '#x'), ModelStore.id(url), 'the fragment is not part of the file');
  assert.notEqual(ModelStore.id(url + '?v=2'), ModelStore.id(url));
  assert.throws(() => ModelStore.id('ftp://example.com/a.gguf'), (e) => e.code === 'BAD_ARG');
  assert.throws(() => ModelStore.id(42), (e) => e.code === 'BAD_ARG');
});

test('PocketLM.load({ model: url }) streams without a store; cache: true and ids say why they cannot', async (t) => {
  const file = model('stories260K.gguf');
  let served = 0;
  const server = http.createServer((req, res) => {
    const data = fs.readFileSync(file);
    served += data.length;
    res.writeHead(200, { 'Content-Length': data.length }).end(data);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const url = `http://127.0.0.1:${server.address().port}/stories260K.gguf`;

  const phases = new Set();
  const lm = await PocketLM.load({ model: url, threads: 1, onProgress: (p) => phases.add(p.phase) });
  const r = await lm.complete(REF.prompt, { temperature: 0, maxTokens: REF.greedy_tokens.length });
  await lm.unload();
  assert.deepEqual(r.tokens, REF.greedy_tokens);
  assert.deepEqual([...phases], ['load']);
  assert.equal(served, fs.statSync(file).size);
  const again = await PocketLM.load({ model: url, threads: 1, cache: false });
  await again.unload();
  assert.equal(served, 2 * fs.statSync(file).size, 'nothing kept: fetched again');

  await rejectsWith(PocketLM.load({ model: url, cache: true }), 'UNSUPPORTED_ENVIRONMENT');
  await rejectsWith(PocketLM.load({ model: ModelStore.id(url) }), 'UNSUPPORTED_ENVIRONMENT');
  await rejectsWith(PocketLM.load({ model: url, cache: 'yes' }), 'BAD_ARG', /cache/);
});
