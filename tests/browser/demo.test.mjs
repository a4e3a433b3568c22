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
import { ROOT, reference } from '../node/helpers.mjs';

const REF = reference()['stories260K.gguf'].find((c) => c.prompt === 'Once upon a time');
const S260 = path.join(ROOT, 'models', 'stories260K.gguf');
const SHOTS = path.join(ROOT, 'build', 'demo');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const MiB = 1 << 20;

let server;
const served = new Map(); // url path -> body bytes sent
const bytes = (p) => served.get(p) || 0;

test.before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const big = path.join(ROOT, 'build', 'test-store');
  server = await startDemoServer({ port: 0, host: '127.0.0.1', mounts: { ...devMounts(ROOT), '/big/': big },
    onBody: (p, n) => served.set(p, bytes(p) + n) });
});
test.after(async () => { if (server) await server.close(); });

// A fresh profile as a Pixel 7, watching for console errors, page errors and requests to any other host.
async function phone(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pocketlm-demo-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS,
    ...devices['Pixel 7'] });
  const problems = [];
  const host = new URL(server.url).host;
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.host !== host) problems.push(`request to ${r.url()}`);
  });
  context.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  context.on('weberror', (e) => problems.push(`page error: ${e.error().message}`));
  await context.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longTasks.push(Math.round(e.duration)); })
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
    const [m] = (await store.list()).filter((r) => r.name === 'stories260K');
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
