// The ModelStore in Debian's Chromium: downloads into IndexedDB that survive cuts, aborts, reloads, a full disk and a
// second tab, verified by SHA-256 (against Node's crypto) and loaded back offline into the engine's Worker, where
// they generate llama.cpp's greedy continuations (models/REFERENCE.json). The files come from model-server.mjs,
// which counts every body byte it sends: "fetched once" and "at most one chunk twice" are counted, not assumed.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startBrowser } from './server.mjs';
import { modelServer } from './model-server.mjs';
import { ROOT, reference } from '../node/helpers.mjs';

const REF = reference();
const S260 = path.join(ROOT, 'models', 'stories260K.gguf');
const T656 = path.join(ROOT, 'models', 'TinyStories-656K-Q8_0.gguf');
const bytesOf = (f) => fs.readFileSync(f);
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const CHUNK = 128 << 10; // small chunks, so that the 1.2 MB model is cut mid-way many chunks in
const RATE = 6e6; // bytes per second where a test needs the transfer to be under way for a while

let env, files;
const logs = [];

test.before(async () => {
  files = modelServer();
  env = await startBrowser(ROOT, { handle: files.handle });
});
test.after(async () => { if (env) await env.close(); });

async function open(origin = env.server.url) {
  const page = await env.context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') logs.push(m.text()); });
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(`${origin}/tests/browser/store-page.html`);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');
  return page;
}

// Page-side calls run as page.evaluate((arg) => withStore((store) => ...), arg): withStore (store-page.js) opens a
// ModelStore and returns a rejection as { error: { code, message } }.
const download = (page, url, opts = {}) =>
  page.evaluate(([u, o]) => withStore((s) => s.download(u, o)), [url, { chunkSize: CHUNK, ...opts }]);
const list = (page) => page.evaluate(() => withStore((s) => s.list()));
const find = async (page, url) => (await list(page)).filter((m) => new URL(m.url).pathname === url);
const wipe = (page) => page.evaluate(() => withStore(async (s) => { for (const m of await s.list()) await s.delete(m.id); }));

test('bad input: each case its own code and message, nothing stored', async () => {
  const page = await open();
  files.serve('/dl/missing.gguf', { data: Buffer.from('nope'), status: 404 });
  const html = Buffer.from('<!doctype html><title>Sign in</title>' + ' '.repeat(3e6));
  files.serve('/dl/page.gguf', { data: html, type: 'text/html', rate: RATE });
  const codes = await page.evaluate(() => withStore(async (s) => {
    const code = (p) => p.then((r) => ({ ok: r }), (e) => ({ code: e.code, message: e.message }));
    return {
      number: await code(s.download(42)),
      badUrl: await code(s.download('http://[::1')),
      ftp: await code(s.download('ftp://example.com/m.gguf')),
      tinyChunk: await code(s.download('/dl/x.gguf', { chunkSize: 1000 })),
      hugeChunk: await code(s.download('/dl/x.gguf', { chunkSize: 2 ** 30 })),
      badSha: await code(s.download('/dl/x.gguf', { sha256: 'abc' })),
      notFound: await code(s.download('/dl/missing.gguf')),
      html: await code(s.download('/dl/page.gguf')),
      unknownGet: await s.get('0123456789abcdef0123456789abcdef'),
      unknownLoad: await code(PocketLM.load({ model: '0123456789abcdef0123456789abcdef' })),
      evict: await code(s.evict({})),
      open: await code(ModelStore.open({ name: '' })),
      cache: await code(PocketLM.load({ model: '/dl/x.gguf', cache: 'yes' })),
      list: await s.list(),
    };
  }));
  assert.equal(codes.number.code, 'BAD_ARG');
  assert.match(codes.number.message, /url/);
  assert.equal(codes.badUrl.code, 'BAD_ARG');
  assert.match(codes.badUrl.message, /not a URL/);
  assert.equal(codes.ftp.code, 'BAD_ARG');
  assert.match(codes.ftp.message, /http/);
  assert.equal(codes.tinyChunk.code, 'BAD_ARG');
  assert.match(codes.tinyChunk.message, /chunkSize/);
  assert.equal(codes.hugeChunk.code, 'BAD_ARG');
  assert.equal(codes.badSha.code, 'BAD_ARG');
  assert.match(codes.badSha.message, /sha256/);
  assert.equal(codes.notFound.code, 'NOT_FOUND');
  assert.match(codes.notFound.message, /404/);
  assert.equal(codes.html.code, 'BAD_MODEL');
  assert.match(codes.html.message, /not a GGUF.*<!do/);
  assert.equal(codes.unknownGet, null);
  assert.equal(codes.unknownLoad.code, 'UNKNOWN_MODEL');
  assert.match(codes.unknownLoad.message, /list\(\)/);
  assert.equal(codes.evict.code, 'BAD_ARG');
  assert.equal(codes.open.code, 'BAD_ARG');
  assert.equal(codes.cache.code, 'BAD_ARG');
  assert.deepEqual(codes.list, [], 'nothing was stored');
  // the HTML page was refused on its first bytes: its download was dropped, not stored
  assert.ok(files.bytes('/dl/page.gguf') < html.length / 3, `${files.bytes('/dl/page.gguf')} of ${html.length} bytes sent`);
  await page.close();
});

test('a download cut at 60% resumes by itself (Range + If-Range), fetching at most one chunk twice', async () => {
  const page = await open();
  const data = bytesOf(S260);
  files.serve('/dl/cut.gguf', { data, etag: '"v1"', rate: RATE, cutAfter: Math.floor(data.length * 0.6) });
  const m = await download(page, '/dl/cut.gguf');
  assert.equal(m.error, undefined, JSON.stringify(m.error));
  assert.equal(m.complete, true);
  assert.equal(m.size, data.length);
  assert.equal(m.sha256, sha(data));
  const reqs = files.requests('/dl/cut.gguf');
  assert.equal(reqs.length, 2);
  assert.deepEqual(reqs[0], { range: null, ifRange: null, status: 200 });
  assert.match(reqs[1].range, /^bytes=\d+-$/);
  const from = Number(reqs[1].range.slice(6, -1));
  assert.equal(from % CHUNK, 0);
  assert.equal(reqs[1].ifRange, '"v1"');
  assert.equal(reqs[1].status, 206);
  const refetched = files.bytes('/dl/cut.gguf') - data.length;
  console.log(`# cut at 60%: resumed from byte ${from}, ${refetched} bytes fetched twice (chunk ${CHUNK})`);
  assert.ok(refetched >= 0 && refetched <= CHUNK, `${refetched} bytes fetched twice`);
  await wipe(page);
  await page.close();
});

test('across origins: resumed with Range alone (no If-Range preflight), Content-Range unreadable', async () => {
  // the page on localhost, the model on 127.0.0.1: CORS without exposed headers, as many file hosts answer
  const here = env.server.url.replace('127.0.0.1', 'localhost');
  const html = fs.readFileSync(path.join(ROOT, 'tests/browser/store-page.html'), 'utf8')
    .replace('src="store-page.js"', 'src="/tests/browser/store-page.js"');
  files.serve('/xo/store-page.html', { data: Buffer.from(html), type: 'text/html; charset=utf-8',
    headers: { 'Content-Security-Policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src *" } });
  const page = await env.context.newPage();
  await page.goto(`${here}/xo/store-page.html`);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');
  const data = bytesOf(S260);
  files.serve('/dl/xo.gguf', { data, etag: '"x1"', cors: true, rate: RATE, cutAfter: Math.floor(data.length * 0.6) });
  const m = await download(page, `${env.server.url}/dl/xo.gguf`);
  assert.equal(m.complete, true, JSON.stringify(m.error));
  assert.equal(m.sha256, sha(data));
  const reqs = files.requests('/dl/xo.gguf');
  assert.equal(reqs.length, 2);
  assert.match(reqs[1].range, /^bytes=\d+-$/);
  assert.equal(reqs[1].ifRange, null);
  assert.equal(reqs[1].status, 206);
  assert.ok(files.bytes('/dl/xo.gguf') - data.length <= CHUNK);
  await wipe(page);
  await page.close();
});

test('a cut that outlasts the retries rejects with NETWORK, keeps the chunks, and the next download() finishes', async () => {
  const page = await open();
  const data = bytesOf(S260);
  // the first request is cut at 60%, the 3 tries after it break too
  files.serve('/dl/flaky.gguf', { data, etag: '"v1"', rate: RATE, cutAfter: Math.floor(data.length * 0.6), failAfterCut: 3 });
  const r = await download(page, '/dl/flaky.gguf');
  if (r.error) {
    assert.equal(r.error.code, 'NETWORK');
    assert.match(r.error.message, /download\(\) again/);
    const [rec] = await list(page);
    assert.equal(rec.complete, false);
    assert.ok(rec.bytesStored > 0 && rec.bytesStored % CHUNK === 0, `${rec.bytesStored} bytes stored`);
    assert.deepEqual(files.requests('/dl/flaky.gguf').map((q) => (q.broken ? 'broken' : q.status)),
      [200, 'broken', 'broken', 'broken'],
      'the cut request and 3 more tries');
  } else {
    assert.fail('the download should have given up: ' + JSON.stringify(r));
  }
  const m = await download(page, '/dl/flaky.gguf');
  assert.equal(m.complete, true);
  assert.equal(m.sha256, sha(data));
  assert.ok(files.bytes('/dl/flaky.gguf') - data.length <= CHUNK);
  await wipe(page);
  await page.close();
});

test('a server that ignores Range restarts cleanly; a changed ETag restarts', async () => {
  const page = await open();
  const data = bytesOf(S260);
  const cut = Math.floor(data.length * 0.6);
  files.serve('/dl/norange.gguf', { data, range: false, rate: RATE, cutAfter: cut });
  const m = await download(page, '/dl/norange.gguf');
  assert.equal(m.complete, true);
  assert.equal(m.sha256, sha(data));
  const reqs = files.requests('/dl/norange.gguf');
  assert.equal(reqs.length, 2);
  assert.ok(reqs[1].range, 'the retry asked for a range');
  assert.equal(reqs[1].status, 200, 'and got the whole file');
  assert.equal(files.bytes('/dl/norange.gguf'), cut + data.length);

  // interrupted under ETag v1; the file changes (v2) before the next download(): If-Range gets the new whole file
  files.serve('/dl/etag.gguf', { data, etag: '"v1"', rate: RATE, cutAfter: cut, failAfterCut: 4 });
  assert.equal((await download(page, '/dl/etag.gguf')).error.code, 'NETWORK');
  const [partial] = await find(page, '/dl/etag.gguf');
  assert.ok(partial.bytesStored > 0 && !partial.complete);
  const next = bytesOf(T656);
  files.set('/dl/etag.gguf', { data: next, etag: '"v2"', rate: 0, failNext: 0 });
  const m2 = await download(page, '/dl/etag.gguf');
  assert.equal(m2.complete, true);
  assert.equal(m2.etag, '"v2"');
  assert.equal(m2.size, next.length);
  assert.equal(m2.sha256, sha(next));
  const last = files.requests('/dl/etag.gguf').at(-1);
  assert.deepEqual(last, { range: `bytes=${partial.bytesStored}-`, ifRange: '"v1"', status: 200 });
  assert.equal(files.bytes('/dl/etag.gguf'), cut + next.length);
  await wipe(page);
  await page.close();
});

test('a wrong sha256 rejects with INTEGRITY and stays incomplete; the right one completes', async () => {
  const page = await open();
  const data = bytesOf(S260);
  files.serve('/dl/sum.gguf', { data });
  const wrong = sha(Buffer.from('something else'));
  const bad = await download(page, '/dl/sum.gguf', { sha256: wrong });
  assert.equal(bad.error.code, 'INTEGRITY');
  assert.match(bad.error.message, new RegExp(`${sha(data)}.*${wrong}`));
  const [rec] = await find(page, '/dl/sum.gguf');
  assert.equal(rec.complete, false);
  assert.equal(rec.sha256, wrong);
  const load = await page.evaluate((id) => PocketLM.load({ model: id }).then(() => 'loaded', caught), rec.id);
  assert.equal(load.code, 'INCOMPLETE');
  const good = await download(page, '/dl/sum.gguf', { sha256: sha(data).toUpperCase() });
  assert.equal(good.complete, true);
  assert.equal(good.sha256, sha(data));
  assert.equal(good.id, rec.id, 'one id per URL');
  assert.equal((await find(page, '/dl/sum.gguf')).length, 1);
  await wipe(page);
  await page.close();
});

test('a browser that refuses Blobs in IndexedDB (Safari at times) gets ArrayBuffer chunks that load the same', async () => {
  const page = await open();
  await wipe(page);
  files.serve('/dl/noblob.gguf', { data: bytesOf(S260) });
  const ref = REF['stories260K.gguf'][0];
  const r = await page.evaluate(async ({ prompt, n }) => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (value, key) { // as Safari has failed
      if (value instanceof Blob) throw new DOMException('Error preparing Blob/File data to be stored in object store', 'UnknownError');
      return put.call(this, value, key);
    };
    let m;
    try {
      m = await withStore((s) => s.download('/dl/noblob.gguf', { chunkSize: 256 << 10 }));
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    const kinds = await withStore((s) => new Promise((ok) => {
      const q = s.db.transaction('chunks').objectStore('chunks').getAll();
      q.onsuccess = () => ok([...new Set(q.result.map((v) => v.constructor.name))]);
    }));
    const lm = await PocketLM.load({ model: m.id });
    const out = await lm.complete(prompt, { temperature: 0, maxTokens: n });
    await lm.unload();
    return { m, kinds, tokens: out.tokens };
  }, { prompt: ref.prompt, n: ref.greedy_tokens.length });
  assert.equal(r.m.complete, true, JSON.stringify(r.m));
  assert.equal(r.m.sha256, sha(bytesOf(S260)));
  assert.deepEqual(r.kinds, ['ArrayBuffer']);
  assert.deepEqual(r.tokens, ref.greedy_tokens);
  await wipe(page);
  await page.close();
});

test('a model in a named store: load and inspect take that ModelStore as cache; the default store does not have it', async () => {
  const page = await open();
  files.serve('/dl/named.gguf', { data: bytesOf(S260) });
  const ref = REF['stories260K.gguf'][0];
  const r = await page.evaluate(async ({ prompt, n }) => {
    const store = await ModelStore.open({ name: 'pocketlm-named-test' });
    try {
      const m = await store.download('/dl/named.gguf', { chunkSize: 256 << 10 });
      const info = await PocketLM.inspect(m.id, { cache: store });
      const lm = await PocketLM.load({ model: m.id, cache: store });
      const out = await lm.complete(prompt, { temperature: 0, maxTokens: n });
      await lm.unload();
      const fromDefault = await PocketLM.load({ model: m.id }).then(() => 'loaded', caught);
      const notAStore = await PocketLM.load({ model: m.id, cache: { get() {} } }).then(() => 'loaded', caught);
      await store.delete(m.id);
      return { arch: info.architecture, tokens: out.tokens, fromDefault, notAStore };
    } catch (e) {
      return { error: caught(e) };
    }
  }, { prompt: ref.prompt, n: ref.greedy_tokens.length });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.equal(r.arch, 'llama');
  assert.deepEqual(r.tokens, ref.greedy_tokens);
  assert.equal(r.fromDefault.code, 'UNKNOWN_MODEL', JSON.stringify(r.fromDefault));
  assert.equal(r.notAStore.code, 'BAD_ARG', JSON.stringify(r.notAStore));
  await page.close();
});

test('after a reload the model is listed and loads by id with zero bytes fetched: llama.cpp\'s greedy output', async () => {
  let page = await open();
  await wipe(page);
  const models = [['/dl/s260.gguf', S260, 'stories260K.gguf'], ['/dl/t656.gguf', T656, 'TinyStories-656K-Q8_0.gguf']];
  const ids = {};
  for (const [url, file] of models) {
    files.serve(url, { data: bytesOf(file), etag: `"${path.basename(file)}"` });
    ids[url] = (await download(page, url)).id;
  }
  await page.close();
  page = await open(); // a new page: nothing in memory, only what IndexedDB kept
  await page.reload();
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');
  const listed = await list(page);
  assert.deepEqual(listed.map((m) => m.id).sort(), Object.values(ids).sort());
  assert.ok(listed.every((m) => m.complete));
  const served = models.map(([url]) => files.bytes(url));
  for (const [url, , ref] of models) {
    for (const c of REF[ref]) {
      const r = await page.evaluate(async ({ id, prompt, n }) => {
        const phases = new Set();
        const lm = await PocketLM.load({ model: id, onProgress: (p) => phases.add(p.phase) });
        const out = await lm.complete(prompt, { temperature: 0, maxTokens: n });
        await lm.unload();
        return { tokens: out.tokens, text: out.text, phases: [...phases] };
      }, { id: ids[url], prompt: c.prompt, n: c.greedy_tokens.length });
      assert.deepEqual(r.tokens, c.greedy_tokens, `${ref}: ${c.prompt}`);
      assert.equal(r.text, c.text);
      assert.deepEqual(r.phases, ['load']);
    }
  }
  assert.deepEqual(models.map(([url]) => files.bytes(url)), served, 'no model byte was fetched');
  const used = await list(page);
  assert.ok(used.every((m) => m.lastUsedAt >= m.createdAt), 'lastUsedAt updated');

  // PocketLM.load({ model: url }): found in the store (no bytes); cache: false streams and stores nothing
  const [url0, file0, ref0] = models[0];
  const viaUrl = await page.evaluate(async ({ url, prompt }) => {
    const lm = await PocketLM.load({ model: url });
    const out = await lm.complete(prompt, { temperature: 0, maxTokens: 20 });
    await lm.unload();
    return out.tokens;
  }, { url: url0, prompt: REF[ref0][0].prompt });
  assert.deepEqual(viaUrl, REF[ref0][0].greedy_tokens.slice(0, 20));
  assert.equal(files.bytes(url0), served[0]);
  await page.evaluate((url) => PocketLM.load({ model: url, cache: false }).then((lm) => lm.unload()), url0);
  assert.equal(files.bytes(url0), served[0] + fs.statSync(file0).size);
  assert.equal((await list(page)).length, 2);
  // evict: the least recently used goes first (stories260K was loaded last, by URL)
  const evicted = await page.evaluate((keepBytes) => withStore((s) => s.evict({ keepBytes })), fs.statSync(file0).size);
  assert.deepEqual(evicted, [ids[models[1][0]]]);
  assert.deepEqual((await list(page)).map((m) => m.id), [ids[url0]]);
  await wipe(page);

  // a URL not yet stored: downloaded with progress (download, verify), then loaded from the store
  files.reset(url0);
  const fresh = await page.evaluate(async (url) => {
    const phases = [];
    const lm = await PocketLM.load({ model: url, onProgress: (p) => { if (phases.at(-1) !== p.phase) phases.push(p.phase); } });
    await lm.unload();
    return { phases, list: await (await ModelStore.open()).list() };
  }, url0);
  assert.deepEqual(fresh.phases, ['download', 'verify', 'load']);
  assert.equal(fresh.list.length, 1);
  assert.equal(fresh.list[0].complete, true);
  assert.equal(files.bytes(url0), fs.statSync(file0).size);
  await wipe(page);
  await page.close();
});

test('abort() then resume; delete() frees the space', async () => {
  const page = await open();
  await wipe(page);
  const data = bytesOf(S260);
  // the transfer stalls at 60% until the page aborts (at > 40%), so the abort always lands mid-transfer; slow enough
  // (0.5 s from 40% to 60%) that a progress report (every 100 ms while bytes arrive) falls in between
  files.serve('/dl/abort.gguf', { data, etag: '"a"', rate: 0.5e6, holdAfter: Math.floor(data.length * 0.6) });
  const r = await page.evaluate((chunkSize) => withStore(async (s) => {
    const ctl = new AbortController();
    const err = await s.download('/dl/abort.gguf', { chunkSize, signal: ctl.signal,
      onProgress: (p) => { if (p.loaded > p.total * 0.4) ctl.abort(); } }).then(() => null, caught);
    return { err, list: await s.list() };
  }), CHUNK);
  assert.equal(r.err.code, 'ABORTED');
  assert.match(r.err.message, /kept/);
  assert.equal(r.list[0].complete, false);
  assert.ok(r.list[0].bytesStored >= CHUNK, `${r.list[0].bytesStored} bytes kept`);
  const m = await download(page, '/dl/abort.gguf');
  assert.equal(m.sha256, sha(data));
  // the resumed request asked for exactly the missing bytes and got them (what the aborted one sent after the last
  // stored chunk depends on how fast the abort closed its connection)
  const [, resumed] = files.requests('/dl/abort.gguf');
  assert.equal(resumed.range, `bytes=${r.list[0].bytesStored}-`);
  assert.equal(resumed.sent, data.length - r.list[0].bytesStored);

  const sizes = await page.evaluate((id) => withStore(async (s) => {
    const before = await s.estimate();
    const gone = await s.delete(id);
    const again = await s.delete(id);
    const after = await s.estimate();
    return { before, after, gone, again, list: await s.list() };
  }), m.id);
  assert.equal(sizes.gone, true);
  assert.equal(sizes.again, false);
  assert.deepEqual(sizes.list, []);
  assert.equal(sizes.before.models, data.length);
  assert.equal(sizes.after.models, 0);
  assert.ok(sizes.before.usage - sizes.after.usage >= data.length * 0.9,
    `usage ${sizes.before.usage} -> ${sizes.after.usage}`);
  await page.close();
});

test('a full quota gives QUOTA_EXCEEDED with the numbers, and leaves a consistent, resumable store', async () => {
  // An origin of its own: here a quota override set after an origin has written to IndexedDB did not take effect
  // (Chromium seems to keep the free space it found), so the override goes to an origin that has not written yet.
  const origin = env.server.url.replace('127.0.0.1', 'localhost');
  const page = await open(origin);
  const cdp = await env.context.newCDPSession(page);
  const data = bytesOf(S260);
  try {
    // the size is known up front: refused before anything is stored. (Chromium's quota override does not show in
    // navigator.storage.estimate(), so that one is stubbed to report 0.3 MB left.)
    files.serve('/dl/quota.gguf', { data });
    const early = await page.evaluate(() => withStore(async (s) => {
      const real = navigator.storage.estimate;
      navigator.storage.estimate = async () => ({ usage: 700000, quota: 1000000 });
      try { return await s.download('/dl/quota.gguf'); } finally { navigator.storage.estimate = real; }
    }));
    assert.equal(early.error.code, 'QUOTA_EXCEEDED');
    assert.match(early.error.message, /needs 1\.2 MB more, the browser allows this site 0\.3 MB/);
    assert.deepEqual(await list(page), []);
    const { usage } = await page.evaluate(() => withStore((s) => s.estimate()));
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 500000 });
    // no Content-Length: the size is unknown until the quota runs out mid-way
    files.serve('/dl/quota2.gguf', { data, noLength: true });
    const mid = await download(page, '/dl/quota2.gguf');
    assert.equal(mid.error.code, 'QUOTA_EXCEEDED');
    assert.match(mid.error.message, /MB are stored and kept/);
    const [rec] = await list(page);
    assert.equal(rec.complete, false);
    assert.ok(rec.bytesStored > 0 && rec.bytesStored % CHUNK === 0, `${rec.bytesStored} bytes stored`);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    const m = await download(page, '/dl/quota2.gguf');
    assert.equal(m.complete, true);
    assert.equal(m.sha256, sha(data), 'resumed after the quota error: every byte right');
  } finally {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  }
  // persist() last: a persisted origin is out of reach of the quota override above
  assert.equal(typeof (await page.evaluate(() => withStore((s) => s.persist()))), 'boolean');
  await wipe(page);
  await page.close();
});

test('two pages download the same URL at once: fetched once, both end with the same complete model', async () => {
  const [a, b] = [await open(), await open()];
  await wipe(a);
  const data = bytesOf(S260);
  files.serve('/dl/two.gguf', { data, rate: RATE / 3 });
  // meanwhile a third page loads the model by id as soon as its first chunk is stored: refused, not half loaded
  const c = await open();
  const early = c.evaluate(() => withStore(async (s) => {
    const id = ModelStore.id('/dl/two.gguf');
    for (let r; !(r = await s.get(id)) || !r.bytesStored;) await new Promise((ok) => setTimeout(ok, 10));
    return PocketLM.load({ model: id }).then(() => 'loaded', caught);
  }));
  const watched = (page) => page.evaluate((chunkSize) => withStore(async (s) => {
    const phases = [];
    const m = await s.download('/dl/two.gguf', { chunkSize, onProgress: (p) => phases.push([p.phase, p.loaded, p.total]) });
    return { m, phases };
  }), CHUNK);
  const [wa, wb] = await Promise.all([watched(a), watched(b)]);
  const [ra, rb] = [wa.m, wb.m];
  // the page that waited for the other's lock saw that one's stored bytes grow (phase 'waiting'), then its own
  // download() found the complete model; the one that downloaded never waited
  const [waiter, fetcher] = wa.phases.some(([ph]) => ph === 'waiting') ? [wa, wb] : [wb, wa];
  const waits = waiter.phases.filter(([ph]) => ph === 'waiting');
  console.log(`# the waiting page's progress: ${waits.map(([, l]) => l).join(', ')} of ${data.length} bytes`);
  assert.ok(waits.length >= 1, JSON.stringify(wa.phases) + JSON.stringify(wb.phases));
  assert.ok(waits.every(([, l, t], i) => l <= data.length && (t === 0 || t === data.length) &&
    (i === 0 || l >= waits[i - 1][1])), JSON.stringify(waits));
  assert.ok(!fetcher.phases.some(([ph]) => ph === 'waiting'));
  assert.ok(fetcher.phases.some(([ph]) => ph === 'download'));
  const refused = await early;
  assert.equal(refused.code, 'INCOMPLETE');
  assert.match(refused.message, /not completely downloaded/);
  await c.close();
  assert.equal(ra.complete, true);
  assert.deepEqual(rb, { ...ra, lastUsedAt: rb.lastUsedAt });
  assert.equal(ra.sha256, sha(data));
  assert.ok(files.bytes('/dl/two.gguf') <= data.length + CHUNK, `${files.bytes('/dl/two.gguf')} bytes for ${data.length}`);
  assert.equal((await list(b)).length, 1);
  // evict keeps nothing here (keepBytes 0); the id is gone from both pages' view
  assert.deepEqual(await a.evaluate(() => withStore((s) => s.evict({ keepBytes: 0 }))), [ra.id]);
  assert.deepEqual(await list(b), []);
  await a.close();
  await b.close();
});

// ---- memory: the peak JavaScript heap of the page and the engine's Worker while a 100+ MB model loads ----

function bigModel() {
  const out = path.join(ROOT, 'build', 'test-store', '110M-Q8_0.gguf');
  if (!fs.existsSync(out)) {
    const gen = path.join(ROOT, 'build', 'native', 'gen-bench-model');
    assert.ok(fs.existsSync(gen), `${gen} is missing: run make native (make test-browser builds it)`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    execFileSync(gen, ['--shape', '110M', '--type', 'Q8_0', '-o', out]);
  }
  return out;
}

// Samples Runtime.getHeapUsage (V8 heap + ArrayBuffer backing stores) of the page and of every Worker it starts,
// back to back (a sample is a few CDP round trips).
async function heapSampler(page) {
  const cdp = await env.context.newCDPSession(page);
  const workers = new Set();
  const waits = new Map();
  let nid = 1;
  cdp.on('Target.attachedToTarget', (e) => { if (e.targetInfo.type === 'worker') workers.add(e.sessionId); });
  cdp.on('Target.detachedFromTarget', (e) => workers.delete(e.sessionId));
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    if (waits.has(m.id)) { waits.get(m.id)(m.result || null); waits.delete(m.id); }
  });
  // flatten: false, so that the Workers' sessions are reached through this one (Playwright has no Worker sessions)
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const inWorker = (sessionId, method) => new Promise((resolve) => {
    const id = nid++;
    waits.set(id, resolve);
    cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) }).catch(() => resolve(null));
    setTimeout(() => { if (waits.delete(id)) resolve(null); }, 1000);
  });
  const size = (u) => (u ? u.usedSize + u.backingStorageSize : 0);
  const sample = async () => {
    const [p, ...w] = await Promise.all([cdp.send('Runtime.getHeapUsage'), ...[...workers].map((s) => inWorker(s, 'Runtime.getHeapUsage'))]);
    return { page: size(p), worker: w.reduce((s, u) => s + size(u), 0) };
  };
  return {
    sample,
    /** Peak page + Worker heap above the page's heap before, while fn runs. */
    async during(fn) {
      const base = await sample();
      let peak = { page: 0, worker: 0, total: 0 }, n = 0, running = true;
      const loop = (async () => {
        while (running) {
          const s = await sample();
          n++;
          const total = s.page - base.page + s.worker;
          if (total > peak.total) peak = { page: s.page - base.page, worker: s.worker, total };
        }
      })();
      let value;
      try { value = await fn(); } finally { running = false; await loop; }
      return { value, peak, samples: n };
    },
  };
}

test('loading a 100+ MB model from the store keeps the JavaScript heap within a few chunks', async () => {
  const file = bigModel();
  const size = fs.statSync(file).size;
  assert.ok(size > 100e6, `${size} bytes`);
  const page = await open();
  files.serve('/dl/big.gguf', { file });
  const t0 = performance.now();
  const m = await page.evaluate(() => withStore((s) => s.download('/dl/big.gguf')));
  const writeS = (performance.now() - t0) / 1000;
  assert.equal(m.complete, true, JSON.stringify(m.error));
  assert.equal(m.sha256, sha(fs.readFileSync(file)));
  const heap = await heapSampler(page);
  const load = (desc) => heap.during(() => page.evaluate(async (d) => {
    const model = d === 'buffer' ? await (await fetch('/dl/big.gguf')).arrayBuffer() : d;
    const lm = await PocketLM.load({ model, threads: 1 });
    const info = { size: lm.info.size, loadMs: lm.info.loadMs };
    await lm.unload();
    return info;
  }, desc));
  const fromStore = await load(m.id);
  assert.equal(fromStore.value.size, size);
  const MB = (n) => (n / 1048576).toFixed(1) + ' MiB';
  // The control: the same model handed over as one ArrayBuffer in the page. The sampler must see it.
  const fromBuffer = await load('buffer');
  console.log(`# ${(size / 1e6).toFixed(0)} MB model: stored at ${(size / 1e6 / writeS).toFixed(0)} MB/s; ` +
    `loaded from the store in ${fromStore.value.loadMs.toFixed(0)} ms, peak JS heap above the page's ` +
    `${MB(fromStore.peak.total)} (page ${MB(fromStore.peak.page)}, Worker ${MB(fromStore.peak.worker)}, ` +
    `${fromStore.samples} samples); control, the same model as one ArrayBuffer in the page: ${MB(fromBuffer.peak.total)}`);
  assert.ok(fromStore.samples >= 5, 'sampled during the load');
  // Sampled, not exact: the ArrayBuffer may already be partly collected when the peak sample is taken (seen 120 MiB
  // of 136 under load). Half the model is still 4x the store's bound below, so the control keeps its meaning.
  assert.ok(fromBuffer.peak.total >= size / 2, 'the sampler sees a whole model held in JavaScript');
  const CHUNKS = 4; // of the default 4 MiB
  assert.ok(fromStore.peak.total <= CHUNKS * (4 << 20), `peak ${MB(fromStore.peak.total)} > ${CHUNKS} chunks`);
  await wipe(page);
  await page.close();
});

test('import(file) of a 100+ MB File on a slow phone (CPU 4x): verified, and no long task on the page', async () => {
  const file = bigModel();
  const page = await open();
  await wipe(page);
  files.serve('/dl/big-file.gguf', { file });
  const cdp = await env.context.newCDPSession(page);
  try {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    const r = await page.evaluate(async () => {
      const f = new File([await (await fetch('/dl/big-file.gguf')).blob()], 'big.gguf');
      const tasks = [];
      const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) tasks.push(Math.round(e.duration)); });
      obs.observe({ type: 'longtask' });
      const t0 = performance.now();
      const m = await withStore((s) => s.import(f));
      const ms = performance.now() - t0;
      await new Promise((ok) => setTimeout(ok, 100)); // the observer's last entries
      obs.disconnect();
      return { m, ms, tasks };
    });
    assert.equal(r.m.complete, true, JSON.stringify(r.m.error));
    assert.equal(r.m.sha256, sha(fs.readFileSync(file)));
    console.log(`# imported ${(r.m.size / 1e6).toFixed(0)} MB at CPU 4x in ${(r.ms / 1000).toFixed(1)} s; ` +
      `long tasks (ms): ${r.tasks.join(', ') || 'none'}`);
    // hashing a whole 4 MiB chunk at once was 200-560 ms here at CPU 4x; a 256 KiB slice is a few ms
    assert.ok(Math.max(0, ...r.tasks) < 150, `long tasks of ${r.tasks.join(', ')} ms`);
  } finally {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    await cdp.detach();
  }
  await wipe(page);
  await page.close();
});

test('import(file): a File copied in chunks loads by id with llama.cpp\'s greedy output; abort, non-GGUF, re-import', async () => {
  const page = await open();
  await wipe(page);
  const ref = REF['stories260K.gguf'][0];
  const r = await page.evaluate(async ({ prompt, n }) => {
    const bytes = await (await fetch('/models/stories260K.gguf')).arrayBuffer();
    const file = new File([bytes], 'stories260K.gguf', { lastModified: 1.7e12 });
    const code = (p) => p.then((x) => ({ ok: x }), (e) => ({ code: e.code, message: e.message }));
    const s = await ModelStore.open();
    // abort after the first chunk is stored: nothing of it may stay
    const ac = new AbortController();
    const aborted = await code(s.import(file, { chunkSize: 64 << 10, signal: ac.signal,
      onProgress: (p) => { if (p.loaded > 0) ac.abort(); } }));
    const afterAbort = await s.list();
    const leftChunks = await new Promise((ok) => {
      const q = s.db.transaction('chunks').objectStore('chunks').count();
      q.onsuccess = () => ok(q.result);
    });
    const html = await code(s.import(new File(['<!doctype html><p>not a model'], 'page.gguf')));
    const notFile = await code(s.import('stories260K.gguf'));
    const progress = [];
    const m = await s.import(file, { chunkSize: 256 << 10, onProgress: (p) => progress.push(p.phase) });
    const again = await code(s.import(new File([bytes], 'stories260K.gguf', { lastModified: 1.7e12 })));
    const listed = await s.list();
    const lm = await PocketLM.load({ model: m.id });
    const out = await lm.complete(prompt, { temperature: 0, maxTokens: n });
    await lm.unload();
    const gone = await s.delete(m.id);
    return { aborted, afterAbort, leftChunks, html, notFile, m, again, listed, progress, tokens: out.tokens, gone,
      after: await s.list() };
  }, { prompt: ref.prompt, n: ref.greedy_tokens.length });
  assert.equal(r.aborted.code, 'ABORTED', JSON.stringify(r.aborted));
  assert.deepEqual(r.afterAbort, []);
  assert.equal(r.leftChunks, 0);
  assert.equal(r.html.code, 'BAD_MODEL');
  assert.match(r.html.message, /page\.gguf is not a GGUF file/);
  assert.equal(r.notFile.code, 'BAD_ARG');
  const size = fs.statSync(S260).size;
  assert.equal(r.m.complete, true);
  assert.equal(r.m.size, size);
  assert.equal(r.m.bytesStored, size);
  assert.equal(r.m.sha256, sha(bytesOf(S260))); // against Node's crypto
  assert.equal(r.m.name, 'stories260K.gguf');
  assert.match(r.m.id, /^[0-9a-f]{32}$/);
  assert.ok(r.progress.includes('verify') && r.progress.includes('download'), r.progress.join());
  assert.deepEqual(r.again.ok, r.m); // the same file again: the stored copy, not a second one
  assert.equal(r.listed.length, 1);
  assert.deepEqual(r.tokens, ref.greedy_tokens);
  assert.equal(r.gone, true);
  assert.deepEqual(r.after, []);
  await page.close();
});

test('no page errors were logged (beyond the refused requests the tests provoke)', () => {
  assert.deepEqual(logs.filter((l) => !/Failed to load resource|ERR_CONTENT_LENGTH_MISMATCH|ERR_.*INCOMPLETE/.test(l)), []);
});
