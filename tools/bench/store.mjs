#!/usr/bin/env node
// store.mjs — the ModelStore's speed in Chromium, all in one run on one generated model (run by run.mjs, or alone):
//
//   node tools/bench/store.mjs [--model F.gguf] [--reps 3]
//
//   write     download() from a local server into IndexedDB (SHA-256 included), chunks as Blobs and as ArrayBuffers
//   read      every chunk read back: Blob + arrayBuffer(), Blob through a byte-stream reader into a reused buffer
//             (what the loader does), ArrayBuffer values
//   load      PocketLM.load({ model: id }) from the store beside PocketLM.load({ model: blob }) from an in-memory
//             Blob of the same file (1 thread), interleaved; wall clock and the engine's own load time
//
// The model defaults to build/test-store/110M-Q8_0.gguf (made by build/native/gen-bench-model when missing, as the
// browser test does). Progress on stderr; Markdown on stdout (medians; ratios from the same run).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { startBrowser } = await import(path.join(ROOT, 'tests/browser/server.mjs'));
const { modelServer } = await import(path.join(ROOT, 'tests/browser/model-server.mjs'));

const args = process.argv.slice(2);
const arg = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const reps = Number(arg('--reps', 3));
let model = arg('--model', null);
if (!model) {
  model = path.join(ROOT, 'build', 'test-store', '110M-Q8_0.gguf');
  if (!fs.existsSync(model)) {
    fs.mkdirSync(path.dirname(model), { recursive: true });
    execFileSync(path.join(ROOT, 'build', 'native', 'gen-bench-model'), ['--shape', '110M', '--type', 'Q8_0', '-o', model]);
  }
}
const size = fs.statSync(model).size;
const log = (m) => process.stderr.write(`store bench: ${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const files = modelServer();
files.serve('/dl/model.gguf', { file: model, etag: '"bench"' });
const env = await startBrowser(ROOT, { handle: files.handle });
const out = { write: { blob: [], buffer: [] }, read: { blobArrayBuffer: [], blobStream: [], buffer: [] },
  load: { store: [], blob: [], storeEngine: [], blobEngine: [] } };
try {
  const page = await env.context.newPage();
  await page.goto(`${env.server.url}/tests/browser/store-page.html`);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');

  // write, and read back, in each chunk format
  for (let r = 0; r < reps; r++) {
    for (const format of r % 2 ? ['buffer', 'blob'] : ['blob', 'buffer']) {
      const res = await page.evaluate(async (fmt) => {
        const { readModel } = await import('/dist/store.js');
        const s = await ModelStore.open({ name: 'bench' });
        for (const m of await s.list()) await s.delete(m.id);
        s.blobsFail = fmt === 'buffer'; // what a browser that refuses Blobs gets
        let t = performance.now();
        const m = await s.download('/dl/model.gguf');
        const write = performance.now() - t;
        const readAll = async () => {
          t = performance.now();
          const { chunks } = await readModel({ name: 'bench', id: m.id });
          let n = 0;
          for await (const c of chunks) n += c.length;
          return [performance.now() - t, n];
        };
        const [stream, n1] = await readAll();
        let plain = null;
        if (fmt === 'blob') { // the same Blobs, each read with arrayBuffer() into a new buffer
          t = performance.now();
          const db = s.db;
          let n = 0;
          for (let i = 0; n < m.size; i++) {
            const v = await new Promise((ok, no) => {
              const q = db.transaction('chunks').objectStore('chunks').get([m.id, i]);
              q.onsuccess = () => ok(q.result);
              q.onerror = () => no(q.error);
            });
            n += (await v.arrayBuffer()).byteLength;
          }
          plain = performance.now() - t;
        }
        return { write, stream, plain, n1, complete: m.complete };
      }, format);
      if (!res.complete || res.n1 !== size) throw new Error(`bad store round: ${JSON.stringify(res)}`);
      out.write[format].push(size / 1e6 / (res.write / 1000));
      if (format === 'blob') {
        out.read.blobStream.push(size / 1e6 / (res.stream / 1000));
        out.read.blobArrayBuffer.push(size / 1e6 / (res.plain / 1000));
      } else {
        out.read.buffer.push(size / 1e6 / (res.stream / 1000));
      }
      log(`round ${r + 1} ${format}: write ${out.write[format].at(-1).toFixed(0)} MB/s, read ${(size / 1e6 / (res.stream / 1000)).toFixed(0)} MB/s` +
        (res.plain ? `, Blob.arrayBuffer() ${out.read.blobArrayBuffer.at(-1).toFixed(0)} MB/s` : ''));
    }
  }

  // load from the store (Blob chunks, the default) beside an in-memory Blob of the same file. The default store:
  // load()'s `cache` option takes only true/false in js-bindings/args.js, though the docs say a ModelStore too
  const id = await page.evaluate(async () => {
    const s = await ModelStore.open();
    for (const m of await s.list()) await s.delete(m.id);
    return (await s.download('/dl/model.gguf')).id;
  });
  await page.evaluate(async () => { window.benchBlob = await (await fetch('/dl/model.gguf')).blob(); });
  for (let r = 0; r < reps; r++) {
    for (const kind of r % 2 ? ['blob', 'store'] : ['store', 'blob']) {
      const res = await page.evaluate(async ([k, i]) => {
        const t = performance.now();
        const lm = await PocketLM.load({ model: k === 'store' ? i : window.benchBlob, threads: 1 });
        const ms = performance.now() - t;
        const info = { ms, engineMs: lm.info.loadMs, size: lm.info.size };
        await lm.unload();
        return info;
      }, [kind, id]);
      if (res.size !== size) throw new Error(`loaded ${res.size} bytes of ${size}`);
      out.load[kind].push(res.ms);
      out.load[`${kind}Engine`].push(res.engineMs);
      log(`round ${r + 1} load from ${kind}: ${res.ms.toFixed(0)} ms (engine ${res.engineMs.toFixed(0)} ms)`);
    }
  }
  await page.evaluate(async () => { const s = await ModelStore.open(); for (const m of await s.list()) await s.delete(m.id); });
} finally {
  await env.close();
}

const m = (xs) => median(xs);
const f0 = (x) => x.toFixed(0);
const L = [];
L.push(`### Model store (Chromium ${env.context.browser()?.version() || ''}, ${path.basename(model)}, ${(size / 1e6).toFixed(0)} MB, ` +
  `4 MiB chunks, local server; median of ${reps})`);
L.push('');
L.push('| | Blob chunks (default) | ArrayBuffer chunks |');
L.push('|---|---|---|');
L.push(`| write: download() into IndexedDB, SHA-256 included | ${f0(m(out.write.blob))} MB/s | ${f0(m(out.write.buffer))} MB/s |`);
L.push(`| read back, as the loader does (Blob: byte stream into a reused buffer) | ${f0(m(out.read.blobStream))} MB/s | ${f0(m(out.read.buffer))} MB/s |`);
L.push(`| read back, Blob.arrayBuffer() per chunk | ${f0(m(out.read.blobArrayBuffer))} MB/s | |`);
L.push('');
const ls = m(out.load.store), lb = m(out.load.blob), es = m(out.load.storeEngine), eb = m(out.load.blobEngine);
L.push(`Load, 1 thread: from the store ${f0(ls)} ms, from an in-memory Blob ${f0(lb)} ms: **${(ls / lb).toFixed(2)}x** ` +
  `(goal <= 1.5x); the engine's part (reading and feeding chunks): ${f0(es)} ms vs ${f0(eb)} ms, ${(es / eb).toFixed(2)}x.`);
process.stdout.write(L.join('\n') + '\n');
