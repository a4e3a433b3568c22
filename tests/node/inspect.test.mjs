// PocketLM.inspect in Node: facts from the header alone, checked against the helpers' own GGUF reader and a full
// load; HTTP with Range, without Range (the body cancelled early), 404 and a non-GGUF page; the malformed-GGUF suite
// of the C tests (the same verdicts as the loader's); a header claiming 4 GiB of weights; and a load of such a model
// refused from its header, before more than a few MiB have been read.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PocketLM, PocketLMError } from '../../dist/pocketlm.js';
import { model, parseGGUF, ROOT } from './helpers.mjs';

const GGML_TYPES = { 0: 'F32', 1: 'F16', 2: 'Q4_0', 8: 'Q8_0', 12: 'Q4_K', 14: 'Q6_K' };
const MODELS = ['stories260K.gguf', 'TinyStories-656K-Q8_0.gguf', 'llama3-tiny-Q4_0.gguf', 'qwen2-tiny-Q8_0-tied.gguf',
  'stories260K-Q4_0.gguf'].map(model);
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'plm-inspect-'));
const HUGE = path.join(TMP, 'huge.gguf');
execFileSync(path.join(ROOT, 'build/native/gen-bench-model'),
  ['--shape', '1.1B', '--type', 'F32', '--header-only', '-o', HUGE], { stdio: 'ignore' });
test.after(() => fs.rmSync(TMP, { recursive: true, force: true }));

async function rejectsWith(promise, codes, re) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof PocketLMError, `a PocketLMError, got ${e && e.stack}`);
    assert.ok([].concat(codes).includes(e.code), `${e.code}: ${e.message}`);
    if (re) assert.match(e.message, re);
    return true;
  });
}

test('the facts of every bundled model, from its header, agree with an independent reader and a full load', async () => {
  for (const file of MODELS) {
    const bytes = fs.readFileSync(file);
    const g = parseGGUF(bytes);
    const r = await PocketLM.inspect(file);
    const name = path.basename(file);
    assert.equal(r.supported, true, `${name}: ${r.reason}`);
    assert.equal(r.status, 'OK');
    assert.equal(r.architecture, g.kv['general.architecture'].value, name);
    assert.equal(r.tensors, g.tensors.length, name);
    assert.equal(r.parameters, g.tensors.reduce((s, t) => s + t.dims.reduce((a, b) => a * b, 1), 0), name);
    const counts = {};
    for (const t of g.tensors) counts[GGML_TYPES[t.type]] = (counts[GGML_TYPES[t.type]] || 0) + 1;
    assert.deepEqual(Object.fromEntries(Object.entries(r.types).map(([k, v]) => [k, v.tensors])), counts, name);
    assert.equal(r.fileBytes, bytes.length, name);
    assert.equal(r.headerBytes, Math.ceil(g.headerEnd / 32) * 32, name); // (a file source reads 4 MiB chunks)
    const tmpl = g.kv['tokenizer.chat_template'];
    assert.equal(r.chatTemplate, tmpl ? tmpl.value : null, name);

    const lm = await PocketLM.load({ model: file, threads: 1, variant: 'scalar' });
    try {
      assert.equal(r.contextLength, lm.info.nCtxTrain, name);
      assert.equal(r.memory.weights, lm.info.weightBytes, name);
      assert.equal(r.memory.contextSize, lm.info.contextSize, name);
      const typed = Object.values(r.types).reduce((n, t) => n + t.bytes, 0); // the arena also holds alignment padding
      assert.ok(typed <= lm.info.weightBytes && typed > lm.info.weightBytes - 64 * g.tensors.length, `${name}: ${typed}`);
    } finally {
      await lm.unload();
    }
    const small = await PocketLM.inspect(file, { contextSize: 64, kvF32: true });
    assert.equal(small.memory.contextSize, 64);
    const kv = 2 * lm.info.nLayer * 64 * (lm.info.nEmbd / lm.info.nHead) * lm.info.nHeadKv * 4;
    assert.equal(small.memory.kvCache, kv, `${name}: the KV cache of 64 f32 positions`);
  }
});

test('a header that claims 4 GiB of F32 weights: not supported, with the numbers', async () => {
  const r = await PocketLM.inspect(HUGE);
  assert.equal(r.supported, false);
  assert.equal(r.status, 'OUT_OF_MEMORY');
  assert.match(r.reason, /needs \d+\.\d MiB .*only \d+\.\d MiB can be allocated/);
  assert.ok(r.parameters > 1e9, String(r.parameters));
  assert.equal(r.types.F32.tensors, 201);
  assert.ok(r.memory.weights > 2 ** 32, String(r.memory.weights));
  assert.ok(r.bytesRead > 256 << 10, 'the 32000-token vocabulary made the header grow past the first read');
});

test('a load of that model is refused from its header, before the weights are read', async () => {
  const header = fs.readFileSync(HUGE);
  let sent = 0;
  async function* endless() { // the header, then zeros for as long as anyone reads
    yield header;
    sent += header.length;
    const zeros = new Uint8Array(1 << 20);
    for (;;) { sent += zeros.length; yield zeros; }
  }
  await rejectsWith(PocketLM.load({ model: endless(), threads: 1 }), 'OUT_OF_MEMORY', /needs .* MiB can be allocated/);
  assert.ok(sent < 16 << 20, `${sent} bytes were read before the refusal`);
});

test('truncated, hostile and foreign headers: BAD_MODEL, and every malformed case gets the loader\'s verdict', async () => {
  const s260 = fs.readFileSync(model('stories260K.gguf'));
  await rejectsWith(PocketLM.inspect(s260.subarray(0, 3000)), 'BAD_MODEL', /ends after 3000 bytes/);
  await rejectsWith(PocketLM.inspect(new TextEncoder().encode('<!doctype html><p>not found</p>')), 'BAD_MODEL', /not a GGUF/);
  const hostile = Buffer.from(s260.subarray(0, 64 << 10));
  hostile.writeBigUInt64LE(1n << 60n, 16); // n_kv: 2^60 keys
  await rejectsWith(PocketLM.inspect(hostile), 'BAD_MODEL');

  const dir = path.join(TMP, 'cases');
  execFileSync(path.join(ROOT, 'build/native/test_gguf'), ['--write-cases', dir], { stdio: 'ignore' });
  let refused = 0, passed = 0;
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.expect'))) {
    const [statuses] = fs.readFileSync(path.join(dir, f), 'utf8').split('\n');
    const ok = statuses.split('|');
    const bytes = fs.readFileSync(path.join(dir, f.replace(/\.expect$/, '.gguf')));
    let code;
    try {
      const r = await PocketLM.inspect(bytes);
      code = r.status;
    } catch (e) {
      assert.ok(e instanceof PocketLMError, `${f}: ${e.stack}`);
      code = e.code;
    }
    if (code === 'OK') passed++; // a fault in the tensor data, which the header cannot show
    else {
      refused++;
      assert.ok(ok.includes(code), `${f}: inspect says ${code}, the loader ${statuses}`);
    }
  }
  console.log(`# malformed cases: ${refused} refused from the header, ${passed} only by a load (data faults)`);
  assert.ok(refused > 100, `${refused} refused`);
});

// ---- HTTP ----
function serve(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

test('over HTTP: Range requests growing with the header, a server ignoring Range, 404, a web page', async (t) => {
  const huge = fs.readFileSync(HUGE), s260 = fs.readFileSync(model('stories260K.gguf'));
  const log = [];
  let sentNoRange = 0;
  const { server, url } = await serve((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    log.push({ p, range: req.headers.range });
    if (p === '/huge.gguf' || p === '/s260.gguf') {
      const data = p === '/huge.gguf' ? huge : s260;
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
      const start = Number(m[1]), end = Math.min(m[2] ? Number(m[2]) + 1 : data.length, data.length);
      if (start >= data.length) return res.writeHead(416, { 'Content-Range': `bytes */${data.length}` }).end();
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end - 1}/${data.length}`, 'Content-Length': end - start });
      return res.end(data.subarray(start, end));
    }
    if (p === '/norange.gguf') { // the whole file and 256 MiB more, 64 KiB at a time: only a cancel stops it
      res.writeHead(200, { 'Content-Length': s260.length + (256 << 20) });
      let o = 0;
      const pump = () => {
        while (o < s260.length + (256 << 20)) {
          const piece = o < s260.length ? s260.subarray(o, o + (64 << 10)) : Buffer.alloc(64 << 10);
          o += piece.length;
          sentNoRange += piece.length;
          if (!res.write(piece)) return res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => { o = Infinity; });
      return pump();
    }
    if (p === '/page.gguf') return res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><p>hello</p>');
    res.writeHead(404).end('no such file');
  });
  t.after(() => { server.closeAllConnections(); server.close(); });

  const r = await PocketLM.inspect(`${url}/huge.gguf`);
  assert.equal(r.status, 'OUT_OF_MEMORY');
  assert.equal(r.fileBytes, huge.length, 'the size from Content-Range');
  const ranges = log.filter((q) => q.p === '/huge.gguf').map((q) => q.range);
  assert.equal(ranges[0], `bytes=0-${(256 << 10) - 1}`);
  assert.ok(ranges.length >= 2 && ranges.length <= 4, `${ranges.length} requests: ${ranges}`);
  for (let i = 1; i < ranges.length; i++) assert.match(ranges[i], /^bytes=\d+-\d+$/, 'each asks for the missing bytes');

  const ok = await PocketLM.inspect(`${url}/s260.gguf`);
  assert.equal(ok.supported, true);
  assert.equal(log.filter((q) => q.p === '/s260.gguf').length, 1, 'a small header: one request');

  const nr = await PocketLM.inspect(`${url}/norange.gguf`);
  assert.equal(nr.supported, true);
  assert.equal(nr.architecture, 'llama');
  await new Promise((res) => setTimeout(res, 200));
  assert.ok(sentNoRange < 32 << 20, `${sentNoRange} bytes were sent before the body was cancelled`);

  await rejectsWith(PocketLM.inspect(`${url}/missing.gguf`), 'NOT_FOUND', /HTTP 404/);
  await rejectsWith(PocketLM.inspect(`${url}/page.gguf`), 'BAD_MODEL', /not a GGUF/);
});

test('arguments are checked', async () => {
  await rejectsWith(PocketLM.inspect(), 'BAD_ARG');
  await rejectsWith(PocketLM.inspect(model('stories260K.gguf'), { contextSize: -1 }), 'BAD_ARG', /contextSize/);
  await rejectsWith(PocketLM.inspect(path.join(TMP, 'no-such.gguf')), 'IO');
});
