// PocketLM.inspect in Debian's Chromium, over model-server.mjs (which counts every request and body byte): the
// header by Range requests, a server that ignores Range (the body cancelled), truncated and hostile headers, a web
// page, a 404, and a header claiming 4 GiB of weights — refused by inspect, by store.download before it stores
// anything, and by PocketLM.load before it reads the weights.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startBrowser } from './server.mjs';
import { modelServer } from './model-server.mjs';
import { ROOT } from '../node/helpers.mjs';

const S260 = fs.readFileSync(path.join(ROOT, 'models', 'stories260K.gguf'));
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'plm-inspect-'));
execFileSync(path.join(ROOT, 'build/native/gen-bench-model'),
  ['--shape', '1.1B', '--type', 'F32', '--header-only', '-o', path.join(TMP, 'huge.gguf')], { stdio: 'ignore' });
const HUGE = fs.readFileSync(path.join(TMP, 'huge.gguf'));
fs.rmSync(TMP, { recursive: true, force: true });
// the header, then zeros where the weights would be: only a refusal from the header stops a reader early
const HUGE_BODY = Buffer.concat([HUGE, Buffer.alloc(96 << 20)]);

let env, files, page;
test.before(async () => {
  files = modelServer();
  env = await startBrowser(ROOT, { handle: files.handle });
  page = await env.context.newPage();
  await page.goto(`${env.server.url}/tests/browser/store-page.html`);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');
});
test.after(async () => { if (env) await env.close(); });

const inspect = (url, o = {}) => page.evaluate(([u, opts]) => PocketLM.inspect(u, opts).catch(caught), [url, o]);

test('a model by Range requests: the facts, from the first 256 KiB', async () => {
  files.serve('/in/s260.gguf', { data: S260, range: true });
  const r = await inspect('/in/s260.gguf');
  assert.equal(r.supported, true, r.reason);
  assert.equal(r.architecture, 'llama');
  assert.equal(r.fileBytes, S260.length);
  assert.deepEqual(Object.keys(r.types), ['F32']);
  assert.ok(r.memory.total > r.memory.weights && r.memory.kvCache > 0);
  const reqs = files.requests('/in/s260.gguf');
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0].range, 'bytes=0-262143');
  assert.equal(reqs[0].status, 206);
  assert.equal(files.bytes('/in/s260.gguf'), 256 << 10);
});

test('a header of 700 KiB that claims 4 GiB of F32: more Range requests, then OUT_OF_MEMORY with the numbers', async () => {
  files.serve('/in/huge.gguf', { data: HUGE_BODY, range: true });
  const r = await inspect('/in/huge.gguf');
  assert.equal(r.supported, false);
  assert.equal(r.status, 'OUT_OF_MEMORY');
  assert.match(r.reason, /needs \d+\.\d MiB .*only \d+\.\d MiB can be allocated/);
  assert.ok(r.parameters > 1e9);
  const reqs = files.requests('/in/huge.gguf');
  assert.ok(reqs.length >= 2 && reqs.length <= 4, JSON.stringify(reqs));
  assert.ok(files.bytes('/in/huge.gguf') < 2 * HUGE.length, `${files.bytes('/in/huge.gguf')} bytes sent`);
});

test('a server that ignores Range: the body is read as far as the header goes, then cancelled', async () => {
  files.serve('/in/norange.gguf', { data: HUGE_BODY, range: false, rate: 20e6 });
  const r = await inspect('/in/norange.gguf');
  assert.equal(r.status, 'OUT_OF_MEMORY', JSON.stringify(r));
  await new Promise((res) => setTimeout(res, 300));
  const sent = files.bytes('/in/norange.gguf');
  console.log(`# Range ignored: ${sent} of ${HUGE_BODY.length} bytes sent before the cancel (header ${HUGE.length})`);
  assert.ok(sent < 16 << 20, `${sent} of ${HUGE_BODY.length} bytes sent`);
});

test('truncated, hostile and foreign files, and a 404: each its code', async () => {
  files.serve('/in/cut.gguf', { data: S260.subarray(0, 3000), range: true });
  const hostile = Buffer.from(S260.subarray(0, 64 << 10));
  hostile.writeBigUInt64LE(1n << 60n, 16); // n_kv: 2^60 keys
  files.serve('/in/hostile.gguf', { data: hostile, range: true });
  files.serve('/in/page.gguf', { data: Buffer.from('<!doctype html><title>Sign in</title>'), type: 'text/html' });
  files.serve('/in/missing.gguf', { data: Buffer.from('nope'), status: 404 });
  const cut = await inspect('/in/cut.gguf');
  assert.equal(cut.code, 'BAD_MODEL');
  assert.match(cut.message, /ends after 3000 bytes/);
  assert.equal((await inspect('/in/hostile.gguf')).code, 'BAD_MODEL');
  const html = await inspect('/in/page.gguf');
  assert.equal(html.code, 'BAD_MODEL');
  assert.match(html.message, /not a GGUF/);
  const missing = await inspect('/in/missing.gguf');
  assert.equal(missing.code, 'NOT_FOUND');
  assert.match(missing.message, /404/);
});

test('store.download refuses the 4 GiB model from its header and keeps nothing', async () => {
  files.serve('/in/store-huge.gguf', { data: HUGE_BODY, range: true, rate: 40e6 });
  const r = await page.evaluate(() => withStore(async (s) => {
    const out = await s.download('/in/store-huge.gguf', { chunkSize: 256 << 10 }).then((m) => ({ ok: m }), caught);
    return { out, list: await s.list() };
  }));
  assert.equal(r.out.code, 'OUT_OF_MEMORY', JSON.stringify(r.out));
  assert.match(r.out.message, /was not downloaded: out of memory: the model needs/);
  assert.deepEqual(r.list, [], 'nothing kept');
  await new Promise((res) => setTimeout(res, 300));
  const sent = files.bytes('/in/store-huge.gguf');
  console.log(`# store.download refused after ${sent} of ${HUGE_BODY.length} bytes were sent`);
  assert.ok(sent < 24 << 20, `${sent} of ${HUGE_BODY.length} bytes sent`);
});

test('PocketLM.load refuses it once the header is in, before the weights are read', async () => {
  // no Content-Length: a known size would make the loader call the file truncated (its tensors end past it) first
  files.serve('/in/load-huge.gguf', { data: HUGE_BODY, range: true, rate: 40e6, noLength: true });
  const t0 = Date.now();
  const e = await page.evaluate(() => PocketLM.load({ model: '/in/load-huge.gguf', cache: false, threads: 1 })
    .then(() => ({ ok: true }), caught));
  assert.equal(e.code, 'OUT_OF_MEMORY', JSON.stringify(e));
  assert.match(e.message, /needs .* MiB can be allocated/);
  await new Promise((res) => setTimeout(res, 300));
  const sent = files.bytes('/in/load-huge.gguf');
  console.log(`# load refused after ${sent} of ${HUGE_BODY.length} bytes were sent, ${Date.now() - t0} ms`);
  assert.ok(sent < 24 << 20, `${sent} of ${HUGE_BODY.length} bytes sent in ${Date.now() - t0} ms`);
});
