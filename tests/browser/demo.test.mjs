// The demo app (demo/) in Debian's Chromium as a Pixel 7, through its data-testid hooks only, served by the demo's
// own server (demo/server.mjs, which counts the body bytes it sends). Greedy story output is checked against
// llama.cpp's recorded continuation (models/REFERENCE.json); a chat reply against the package's chat API on the same
// model; downloads by the bytes the server actually sent.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { chromium, devices } from 'playwright-core';
import { startDemoServer, devMounts } from '../../demo/server.mjs';
import { modelServer } from './model-server.mjs';
import { ROOT, reference } from '../node/helpers.mjs';

const REF = reference()['stories260K.gguf'].find((c) => c.prompt === 'Once upon a time');
const S260 = path.join(ROOT, 'models', 'stories260K.gguf');
const SHOTS = path.join(ROOT, 'build', 'demo');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const MiB = 1 << 20;

let server, files;
const served = new Map(); // url path -> body bytes sent
const bytes = (p) => served.get(p) || 0;

test.before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  // files: throttled and counted at the source (the DevTools' throttling would let the server run ahead)
  files = modelServer();
  server = await startDemoServer({ port: 0, host: '127.0.0.1', mounts: devMounts(ROOT), handle: files.handle,
    onBody: (p, n) => served.set(p, bytes(p) + n) });
});
test.after(async () => { if (server) await server.close(); });

// A fresh profile as a Pixel 7, watching for console errors, page errors and requests to any other host.
async function phone(t, origin = server.url) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pocketlm-demo-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS,
    ...devices['Pixel 7'] });
  const problems = [];
  const host = new URL(origin).host;
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.host !== host) problems.push(`request to ${r.url()}`);
  });
  context.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  context.on('weberror', (e) => problems.push(`page error: ${e.error().message}`));
  await context.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) {
        window.longTasks.push({ at: Math.round(e.startTime), ms: Math.round(e.duration),
          status: document.querySelector('[data-testid=status]')?.textContent });
      }
    })
      .observe({ type: 'longtask' });
  });
  const page = context.pages()[0] || await context.newPage();
  t.after(async () => {
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { context, page, problems };
}

const byId = (page, id) => page.getByTestId(id);
const ready = (page, timeout = 60000) => page.waitForFunction(() => {
  const g = document.querySelector('[data-testid=generate]');
  return !g.disabled || document.body.dataset.state === 'error';
}, null, { timeout }).then(() => page.evaluate(() => {
  if (document.body.dataset.state === 'error') throw new Error(document.querySelector('[data-testid=status]').textContent);
}));

async function settings(page, values) {
  await page.evaluate(() => { document.getElementById('temperature').closest('details').open = true; });
  for (const [k, v] of Object.entries(values)) await page.locator(`#${k}`).fill(String(v));
  await page.locator('#prompt').focus(); // the last field's change event
  await page.evaluate(() => { document.getElementById('temperature').closest('details').open = false; });
}

// Generates from the prompt; resolves with the output's text and the figures.
async function generate(page, prompt) {
  await byId(page, 'prompt').fill(prompt);
  await byId(page, 'generate').click();
  await page.waitForFunction(() => document.body.dataset.state !== 'busy' &&
    !document.querySelector('[data-testid=generate]').disabled && document.getElementById('ntok').textContent !== '0',
  null, { timeout: 60000 });
  return page.evaluate(() => ({
    text: document.querySelector('[data-testid=output]').textContent,
    status: document.querySelector('[data-testid=status]').textContent,
    ttft: document.getElementById('ttft').textContent, tps: document.getElementById('tps').textContent,
    ntok: Number(document.getElementById('ntok').textContent), variant: document.getElementById('variant').textContent,
  }));
}

const noSidewaysScroll = (page) => page.evaluate(() => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  const r = document.documentElement.scrollWidth <= window.innerWidth;
  for (const d of document.querySelectorAll('details')) d.open = false;
  return r;
});

test('phone: bundled model, greedy story, offline after a reload, chat, Stop; 360 px; screenshots', async (t) => {
  const { context, page, problems } = await phone(t);
  await page.goto(server.url);
  await ready(page);
  assert.match(await byId(page, 'status').textContent(), /Ready: stories260K/);
  assert.ok(bytes('/models/stories260K.gguf') >= fs.statSync(S260).size, 'the bundled model came from the server');

  // greedy: llama.cpp's continuation, token for token (as text)
  await settings(page, { temperature: 0, maxTokens: REF.greedy_tokens.length });
  const a = await generate(page, REF.prompt);
  assert.equal(a.text, REF.prompt + REF.text);
  assert.match(a.ttft, /^\d+ ms$/);
  assert.ok(Number(a.tps) > 0, `tok/s ${a.tps}`);
  assert.match(a.variant, /simd|relaxed/);
  console.log(`# online: TTFT ${a.ttft}, ${a.tps} tok/s, wasm ${a.variant}`);

  // the service worker holds the shell and the engine: offline, the reloaded app loads the model from the store
  await page.evaluate(() => navigator.serviceWorker.ready);
  await context.setOffline(true);
  const before = bytes('/models/stories260K.gguf');
  await page.reload();
  await ready(page);
  const b = await generate(page, REF.prompt);
  assert.equal(b.text, REF.prompt + REF.text);
  assert.equal(bytes('/models/stories260K.gguf'), before, 'no model byte fetched offline');
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the service worker sent COOP/COEP');
  console.log(`# offline: TTFT ${b.ttft}, ${b.tps} tok/s, wasm ${b.variant}`);

  // 360 px wide: nothing scrolls sideways, in either mode, with every panel open
  await page.setViewportSize({ width: 360, height: 780 });
  assert.ok(await noSidewaysScroll(page), 'story mode scrolls sideways at 360 px');

  // chat: the reply is the package's chat completion of the same messages (the model's chat template)
  await page.locator('.modes label', { hasText: 'Chat' }).click();
  await settings(page, { maxTokens: 24 });
  const c = await generate(page, 'Hello, who are you?');
  const reply = await page.locator('.msg.assistant').last().textContent();
  assert.ok(reply.length > 0, 'a reply');
  const expected = await page.evaluate(async () => {
    const { PocketLM, ModelStore } = await import('./dist/pocketlm.js');
    const store = await ModelStore.open();
    const [m] = (await store.list()).filter((r) => r.url.endsWith('/models/stories260K.gguf'));
    const lm = await PocketLM.load({ model: m.id, threads: 1 });
    const r = await lm.chat.completions.create({ messages: [{ role: 'user', content: 'Hello, who are you?' }],
      temperature: 0, max_tokens: 24 });
    await lm.unload();
    return { text: r.choices[0].message.content, template: lm.info.chatTemplate };
  });
  assert.equal(reply, expected.text);
  assert.equal(c.ntok, 24);
  assert.ok(await noSidewaysScroll(page), 'chat mode scrolls sideways at 360 px');
  await page.setViewportSize(devices['Pixel 7'].viewport);

  // screenshots of the phone view (a story in the output), light and dark
  await page.locator('.modes label', { hasText: 'Story' }).click();
  await settings(page, { maxTokens: 60 });
  await generate(page, REF.prompt);
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: path.join(SHOTS, `phone-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: path.join(SHOTS, 'phone-readme.png'), scale: 'css' });
  console.log(`# screenshots: ${SHOTS}/phone-{light,dark}.png`);

  // Stop: generation ends within a token or two of the click
  await settings(page, { maxTokens: 4000, temperature: 0.8 });
  await byId(page, 'prompt').fill(REF.prompt);
  await byId(page, 'generate').click();
  await page.waitForFunction(() => Number(document.getElementById('ntok').textContent) >= 3);
  const atClick = await page.evaluate(() => {
    document.querySelector('[data-testid=stop]').click();
    return Number(document.getElementById('ntok').textContent);
  });
  await page.waitForFunction(() => !document.querySelector('[data-testid=generate]').disabled);
  const after = await page.evaluate(() => Number(document.getElementById('ntok').textContent));
  assert.match(await byId(page, 'status').textContent(), /Stopped/);
  console.log(`# Stop: ${after - atClick} tokens after the click`);
  assert.ok(after - atClick <= 2, `${after - atClick} tokens after Stop`);

  assert.deepEqual(problems, []);
});

// ---- a 100+ MB model added by URL: progress, a reload halfway, about one chunk fetched twice, delete ----

function bigModel() {
  const out = path.join(ROOT, 'build', 'test-store', '110M-Q8_0.gguf'); // the store test's file: generated once
  if (!fs.existsSync(out)) {
    const gen = path.join(ROOT, 'build', 'native', 'gen-bench-model');
    assert.ok(fs.existsSync(gen), `${gen} is missing: run make native (make test-browser builds it)`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    execFileSync(gen, ['--shape', '110M', '--type', 'Q8_0', '-o', out]);
  }
  return out;
}

const fraction = (page) => page.evaluate(() => {
  const bar = document.getElementById('dl-bar');
  return document.getElementById('download').hidden ? null : bar.value;
});

// Waits until the download bar shows at least `from`; returns the text beside it.
async function progressAt(page, from) {
  await page.waitForFunction((f) => !document.getElementById('download').hidden &&
    document.getElementById('dl-bar').value >= f, from, { timeout: 120000, polling: 50 });
  return page.locator('#dl-text').textContent();
}

const storedModels = (page) => page.evaluate(() => Number(document.getElementById('storage').dataset.models));

test('a file from the device (<input type=file>) is copied into the store, listed, loaded and kept', async (t) => {
  const { page, problems } = await phone(t);
  await page.goto(server.url);
  await ready(page);
  const status = () => byId(page, 'status').textContent();
  await page.locator('#file').setInputFiles({ name: 'notes.gguf', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await page.waitForFunction(() => /Cannot add notes\.gguf/.test(document.querySelector('[data-testid=status]').textContent));
  assert.match(await status(), /not a GGUF file/);
  await page.locator('#file').setInputFiles({ name: 'my-story.gguf', mimeType: 'application/octet-stream',
    buffer: fs.readFileSync(S260) });
  await page.waitForFunction(() => /Ready: my-story\.gguf/.test(document.querySelector('[data-testid=status]').textContent),
    null, { timeout: 60000 });
  await ready(page);
  const chosen = await page.evaluate(() => { const m = document.getElementById('model'); return m.options[m.selectedIndex].textContent; });
  assert.equal(chosen, 'my-story.gguf'); // from the store: no "(this visit only)"
  await settings(page, { temperature: 0, maxTokens: REF.greedy_tokens.length });
  const a = await generate(page, REF.prompt);
  assert.equal(a.text, REF.prompt + REF.text);
  // kept: after a reload it is still listed and selectable
  await page.reload();
  await ready(page);
  const names = await page.evaluate(() => [...document.querySelectorAll('#model option')].map((o) => o.textContent));
  assert.ok(names.includes('my-story.gguf'), names.join());
  assert.deepEqual(problems, []);
});

test('a 110 MB model by URL: progress, survives a reload halfway, one chunk twice, deleting it frees the space', async (t) => {
  const file = bigModel();
  const size = fs.statSync(file).size;
  const { page, problems } = await phone(t);
  page.on('dialog', (d) => d.accept());
  await page.goto(server.url);
  await ready(page);
  const base = await storedModels(page);
  // slow enough to catch halfway, and slower than the store writes, so that little waits in buffers
  files.serve('/big/110M-Q8_0.gguf', { file, etag: '"big1"', rate: 15e6 });
  await page.locator('#models-panel summary').click();
  await page.locator('#url').fill('/big/110M-Q8_0.gguf');
  await page.getByRole('button', { name: 'Add' }).click();
  const shown = await progressAt(page, 0.4);
  assert.match(shown, /MB of 1\d\d\.\d MB · [4-9]\d% · [\d.]+ MB\/s · \d+ (s|min) left/);
  console.log(`# progress shown: ${shown}`);
  const at = await fraction(page);
  assert.ok(at < 0.8, `reloaded at ${at}`);
  await page.reload();
  await ready(page);
  await page.locator('#models-panel summary').click();
  const partial = page.locator('#stored li', { hasText: '110M-Q8_0.gguf' });
  await partial.getByText(/partial, \d+%/).waitFor();
  await partial.getByRole('button', { name: /Resume/ }).click();
  await page.waitForFunction(() => /is on this device/.test(document.querySelector('[data-testid=status]').textContent),
    null, { timeout: 180000 });
  await partial.getByText('complete').waitFor();
  const twice = files.bytes('/big/110M-Q8_0.gguf') - size;
  const reqs = files.requests('/big/110M-Q8_0.gguf');
  const resumedAt = Number(/^bytes=(\d+)-$/.exec(reqs[reqs.length - 1].range || '')?.[1]);
  console.log(`# ${size} bytes, reloaded at ${Math.round(at * 100)}%, resumed from byte ${resumedAt}: ` +
    `${twice} bytes fetched twice`);
  // Of what the page had received when it was reloaded, the store lost at most the 4 MiB chunk it was filling. (The
  // server's own count of bytes sent twice also holds what was in socket and network-service buffers, and whatever
  // the old page kept reading while it unloaded: ~1 MiB on a quiet machine, 20 MB seen on a saturated one.)
  assert.ok(resumedAt >= at * size - 4 * MiB, `resumed from byte ${resumedAt}, ${at * size} received before the reload`);
  assert.ok(resumedAt <= size && twice >= 0, `${twice} bytes fetched twice`);
  const held = await storedModels(page);
  assert.ok(held - base >= size, `the panel shows ${held - base} more bytes stored`);
  assert.match(await page.locator('#storage').textContent(), /Models: 1\d\d\.\d MB/);

  await partial.getByRole('button', { name: /Delete/ }).click();
  await page.waitForFunction(() => /Deleted/.test(document.querySelector('[data-testid=status]').textContent));
  assert.equal(await storedModels(page), base, 'the space shown went back');
  assert.equal(await page.locator('#stored li', { hasText: '110M-Q8_0.gguf' }).count(), 0);
  assert.deepEqual(problems, []);
});

// ---- constrained: a slow phone (CPU 4x slower) on a slow network (1.5 Mbit/s, 300 ms) ----

test('constrained: CPU 4x, 1.5 Mbit/s + 300 ms: the first download resumes after a reload, no long task, figures', async (t) => {
  const size = fs.statSync(S260).size;
  const rate = 1.5e6 / 8;
  // the bundled model, paced at the source too, so that the server's byte count is what the page received
  files.serve('/models/stories260K.gguf', { file: S260, etag: '"s260"', rate });
  const { page, problems } = await phone(t);
  const slow = async () => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 300, downloadThroughput: rate,
      uploadThroughput: rate });
  };
  await slow();
  await page.goto(server.url);
  const shown = await progressAt(page, 0.3);
  const longBefore = await page.evaluate(() => window.longTasks);
  await page.reload();
  await slow();
  await ready(page, 120000);
  const reqs = files.requests('/models/stories260K.gguf');
  assert.equal(reqs.at(-1).status, 206, 'the download resumed with a Range request');
  const twice = files.bytes('/models/stories260K.gguf') - size;
  console.log(`# constrained: progress ${shown}; after the reload resumed from ${reqs.at(-1).range}, ${twice} bytes fetched twice`);
  // the chunk the reload cut (the app's chunk for bundled models is 256 KiB) and what the sockets held
  assert.ok(twice >= 0 && twice <= 2 * (256 << 10), `${twice} bytes fetched twice`);

  const r = await generate(page, REF.prompt);
  assert.ok(r.ntok > 0 && r.text.startsWith(REF.prompt));
  const longAfter = await page.evaluate(() => window.longTasks);
  // Long tasks (>= 50 ms) while the app works (downloading, loading, generating); start-up (evaluating the modules
  // and the first style and layout, status "Starting…": ~90 ms of CPU, stretched 4x by the throttling and more by
  // a loaded machine) is printed apart. Traced at CPU 4x (CDP tracing + profiler), the working tasks left are the
  // store's chunk writes (IndexedDB, SHA-256 of the bytes as they come) and frames, each under 30 ms of CPU (about
  // 150 ms wall). The 0.5-0.6 s tasks seen after the first load were the page's first toLocaleDateString() (ICU's
  // date data: 100-200 ms wall at CPU 4x on an idle page, more on this loaded 2-core machine), now gone; half a
  // second leaves room for the machine's load and is still a freeze to fail on.
  const all = [...longBefore, ...longAfter];
  const working = all.filter((l) => l.status !== 'Starting…').map((l) => l.ms);
  const startup = all.filter((l) => l.status === 'Starting…').map((l) => l.ms);
  console.log(`# constrained (CPU 4x, 1.5 Mbit/s, 300 ms): TTFT ${r.ttft}, ${r.tps} tok/s, wasm ${r.variant}; ` +
    `main-thread long tasks while working: ${working.join(', ') || 'none'} ms; at start-up: ${startup.join(', ') || 'none'} ms`);
  const worst = all.filter((l) => l.ms >= 200);
  if (worst.length) console.log(`# the longest: ${worst.map((l) => `${l.ms} ms (${l.status})`).join(', ')}`);
  assert.ok(Math.max(0, ...working) < 500, `the page froze for ${Math.max(...working)} ms: ${JSON.stringify(all)}`);
  assert.deepEqual(problems, []);
});

// ---- make demo: from the Makefile, on a random port (PORT=0: the system picks one and the URL printed says which) ----

test('make demo serves the app (COOP/COEP, CSP, Range) on PORT and stops on Ctrl-C', async () => {
  // -o wasm: dist/ is already built (by make test-browser); rebuilding it now would pull it from under the other tests
  const make = spawn('make', ['--no-print-directory', '-o', 'wasm', 'demo'], { cwd: ROOT, detached: true,
    env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  make.stderr.on('data', (d) => { out += d; });
  try {
    const url = await new Promise((resolve, reject) => {
      make.stdout.on('data', (d) => {
        out += d;
        const m = /http:\/\/localhost:(\d+)\//.exec(out);
        if (m) resolve(`http://127.0.0.1:${m[1]}/`);
      });
      make.on('exit', (code) => reject(new Error(`make demo exited (${code}): ${out}`)));
    });
    const r = await fetch(url);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /data-testid="prompt"/);
    assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.match(r.headers.get('content-security-policy'), /script-src 'self' 'wasm-unsafe-eval'/);
    const part = await fetch(url + 'models/stories260K.gguf', { headers: { Range: 'bytes=4-7' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 4-7/${fs.statSync(S260).size}`);
    assert.deepEqual([...new Uint8Array(await part.arrayBuffer())], [...fs.readFileSync(S260).subarray(4, 8)]);
    assert.equal((await fetch(url + 'dist/pocketlm.js')).status, 200);
    assert.equal((await fetch(url + '../Makefile')).status, 404);
  } finally {
    const exited = new Promise((resolve) => make.on('exit', resolve));
    process.kill(-make.pid, 'SIGINT'); // make and the server it started (their own process group)
    await exited;
  }
});

test('the service worker caches every engine file make wasm writes', () => {
  const sw = fs.readFileSync(path.join(ROOT, 'demo', 'sw.js'), 'utf8');
  const listed = /const ENGINE = \[([^\]]*)\]/.exec(sw)[1].match(/'[^']+'/g).map((s) => s.slice(1, -1)).sort();
  const dist = fs.readdirSync(path.join(ROOT, 'dist')).filter((f) => /\.(js|wasm)$/.test(f)).sort();
  assert.deepEqual(listed, dist);
});

// ---- make demo-site on a static host that sends no COOP/COEP: single-threaded at first, isolated by the service
// worker from the next visit on ----

test('make demo-site on a host without COOP/COEP: works at once, threads once the service worker serves it', async (t) => {
  const site = path.join(ROOT, 'build', 'test-demo-site');
  execFileSync('make', ['--no-print-directory', '-s', '-o', 'wasm', 'demo-site', `DEMO_SITE=${site}`], { cwd: ROOT });
  const plain = await startDemoServer({ mounts: { '/': site }, port: 0, host: '127.0.0.1', bare: true });
  t.after(() => plain.close());
  const { page, problems } = await phone(t, plain.url);
  await page.goto(plain.url);
  await ready(page);
  assert.equal(await page.evaluate(() => crossOriginIsolated), false);
  const first = await page.locator('#variant').textContent();
  assert.doesNotMatch(first, /^mt-/);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await ready(page);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the service worker added COOP/COEP');
  const second = await page.locator('#variant').textContent();
  console.log(`# static host without headers: first visit ${first}, then ${second}`);
  await settings(page, { temperature: 0, maxTokens: REF.greedy_tokens.length });
  assert.equal((await generate(page, REF.prompt)).text, REF.prompt + REF.text);
  assert.deepEqual(problems, []);
});
