// dist/pocketlm.js in Debian's Chromium (playwright-core drives /usr/bin/chromium; browsers cannot be downloaded
// here). Pages are served by tests/browser/server.mjs under a strict CSP (script-src 'self' 'wasm-unsafe-eval'),
// once plain and once cross-origin isolated (/iso/...).
import test from 'node:test';
import assert from 'node:assert/strict';
import { startBrowser } from './server.mjs';
import { ROOT, reference } from '../node/helpers.mjs';

const MODEL = '../../models/stories260K.gguf';
const REF = reference()['stories260K.gguf'][0];

let env, server, context;
const logs = [];

test.before(async () => {
  env = await startBrowser(ROOT);
  ({ server, context } = env);
});

test.after(async () => { if (env) await env.close(); });

async function open(isolated) {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' && !/favicon/.test(m.location().url)) logs.push(m.text()); });
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(`${server.url}${isolated ? '/iso' : ''}/tests/browser/page.html`);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');
  return page;
}

function checkGreedy(r) {
  assert.deepEqual(r.prompt, REF.prompt_tokens);
  assert.deepEqual(r.tokens, REF.greedy_tokens);
  assert.equal(r.text, REF.text);
  assert.equal(r.streamed, REF.text);
}

test('single-thread page: greedy output equals llama.cpp, best single-thread variant picked', async () => {
  const page = await open(false);
  const f = await page.evaluate(() => window.features());
  assert.equal(f.crossOriginIsolated, false);
  assert.equal(f.threads, false);
  const r = await page.evaluate((a) => window.greedy(a), { model: MODEL, threads: 4, prompt: REF.prompt, n: 100 });
  assert.equal(r.info.variant, f.relaxedSimd ? 'relaxed' : f.simd ? 'simd' : 'scalar');
  assert.equal(r.info.threads, 1);
  checkGreedy(r);
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
  await page.close();
});

test('cross-origin isolated page: the multi-thread variant is used, output unchanged', async () => {
  const page = await open(true);
  const f = await page.evaluate(() => window.features());
  assert.equal(f.crossOriginIsolated, true);
  assert.equal(f.threads, true);
  const r = await page.evaluate((a) => window.greedy(a), { model: MODEL, threads: 2, prompt: REF.prompt, n: 100 });
  assert.equal(r.info.variant, f.relaxedSimd ? 'mt-relaxed' : 'mt-simd');
  assert.equal(r.info.threads, 2);
  checkGreedy(r);
  // threads: 1 on the same page stays single-threaded
  const one = await page.evaluate((a) => window.greedy(a), { model: MODEL, threads: 1, prompt: REF.prompt, n: 20 });
  assert.equal(one.info.variant, f.relaxedSimd ? 'relaxed' : 'simd');
  await page.close();
});

// Firefox ESR now and then never returns from the `new Worker()` that starts the engine's threads. PocketLM.load
// sees such an engine say 'threads starting' and then nothing: the page hides everything after that.
test('threads that never start: the load runs single-threaded after two tries', async () => {
  const page = await open(true);
  await page.evaluate(() => {
    window.engineWorkers = 0;
    window.Worker = class extends window.Worker {
      constructor(...a) { super(...a); window.engineWorkers++; }
      set onmessage(f) {
        let stuck = false;
        super.onmessage = (e) => {
          if (!stuck) f(e);
          stuck ||= e.data?.event === 'threads' && e.data.data === 'starting';
        };
      }
    };
  });
  const t0 = Date.now();
  const r = await page.evaluate((a) => window.greedy(a), { model: MODEL, threads: 2, prompt: REF.prompt, n: 100 });
  assert.equal(r.info.threads, 1);
  assert.equal(r.info.variant, 'relaxed');
  checkGreedy(r);
  assert.equal(await page.evaluate(() => window.engineWorkers), 3);
  assert.ok(Date.now() - t0 >= 20000, 'two 10 s tries came first');
  // a load that names a threaded variant is told, not downgraded
  const e = await page.evaluate((a) => window.greedy(a).then(() => 'loaded', (x) => `${x.code}: ${x.message}`),
    { model: MODEL, variant: 'mt-relaxed', threads: 2, prompt: REF.prompt, n: 1 });
  assert.match(e, /^UNSUPPORTED_ENVIRONMENT: the browser did not start the engine's threads within 10 s, twice/);
  await page.close();
});

test('every variant this browser validates gives the same greedy output', async (t) => {
  const page = await open(true);
  const f = await page.evaluate(() => window.features());
  assert.equal(f.relaxedSimd, true, 'Chromium validates relaxed SIMD');
  const variants = ['scalar', 'simd', 'mt-simd', ...(f.relaxedSimd ? ['relaxed', 'mt-relaxed'] : [])];
  for (const variant of variants) {
    await t.test(variant, async () => {
      const r = await page.evaluate((a) => window.greedy(a),
        { model: MODEL, variant, threads: 2, prompt: REF.prompt, n: 100 });
      assert.equal(r.info.variant, variant);
      checkGreedy(r);
    });
  }
  await page.close();
});

test('the Worker keeps the page responsive during generation', async () => {
  const page = await open(false);
  const r = await page.evaluate((a) => window.responsiveness(a), { model: MODEL, n: 1500 });
  assert.equal(r.tokens, 1500);
  assert.equal(r.streamed, 1500);
  // a 5 ms timer kept firing: the page's thread never waited on the engine
  assert.ok(r.maxGap < 250, `longest pause of the page: ${r.maxGap.toFixed(1)} ms over ${r.ms.toFixed(0)} ms`);
  assert.ok(r.ticks >= r.ms / 50, `${r.ticks} timer ticks in ${r.ms.toFixed(0)} ms`);
  await page.close();
});

test('abort, chat streaming and errors in the page', async () => {
  const page = await open(false);
  const a = await page.evaluate((x) => window.abortAfter(x), { model: MODEL, k: 5 });
  assert.equal(a.finishReason, 'abort');
  assert.equal(a.tokens, 5);
  const c = await page.evaluate((x) => window.chatStream(x), { model: MODEL });
  assert.equal(c.streamed, c.full);
  assert.ok(c.full.length > 0);
  assert.equal(await page.evaluate(() => window.badModel()), 'PocketLMError:BAD_MODEL');
  await page.close();
});

// The engine's Worker is busy in wasm for the whole one-batch prefill and reads no message: only the page's write
// into the shared wasm memory (the request's abort word, engine.js) can stop it before it ends.
test('cross-origin isolated page: an abort stops a one-batch prefill inside the Worker', async () => {
  const page = await open(true);
  const r = await page.evaluate((x) => window.abortPrefill(x), { model: MODEL, n: 600, variant: 'mt-simd', threads: 2 });
  console.log(`# one-batch prefill of 600 tokens: ${r.fullMs.toFixed(0)} ms; aborted at once: ${r.abortedMs.toFixed(0)} ms`);
  assert.equal(r.variant, 'mt-simd');
  assert.equal(r.finishReason, 'abort');
  assert.equal(r.tokens, 0);
  assert.equal(r.promptN, 0, 'the batch was cut, so none of it is kept');
  assert.ok(r.same, 'the session gives the same token afterwards');
  assert.ok(r.abortedMs < r.fullMs / 2, `the aborted call took ${r.abortedMs.toFixed(0)} ms of ${r.fullMs.toFixed(0)}`);
  await page.close();
});

test('no CSP violations or errors were logged', () => {
  assert.deepEqual(logs.filter((l) => !/Failed to load resource.*404/.test(l)), []);
});
