// Test page: exposes small async functions the browser tests call through Playwright. Loaded as a module file (no
// inline script) so that it runs under the strict CSP the server sends.
import { PocketLM } from '../../dist/pocketlm.js';

window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
// Errors the page did not handle, gathered here because not every driver reports them (WebDriver classic does not).
window.pageErrors = [];
window.addEventListener('error', (e) => window.pageErrors.push(`error: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => window.pageErrors.push(`unhandled rejection: ${e.reason}`));

window.features = () => ({ ...PocketLM.features(), crossOriginIsolated: globalThis.crossOriginIsolated === true });

// window.greedyPhase says where a call that never returns stopped (the engines test reads it after a timeout).
window.greedy = async ({ model, variant, threads, prompt, n, cache }) => {
  window.greedyPhase = 'load';
  const lm = await PocketLM.load({ model, variant, threads, cache,
    onProgress: (p) => { window.greedyPhase = `load: ${p.phase} ${p.loaded} of ${p.total} bytes`; } });
  try {
    const pieces = [];
    window.greedyPhase = 'complete: 0 tokens';
    const r = await lm.complete(prompt, { temperature: 0, maxTokens: n,
      onToken: (t) => { pieces.push(t); window.greedyPhase = `complete: ${pieces.length} tokens`; } });
    window.greedyPhase = 'tokenize';
    return { info: lm.info, tokens: r.tokens, text: r.text, streamed: pieces.join(''), prompt: await lm.tokenize(prompt),
      memory: r.timings.wasmMemoryBytes };
  } finally {
    window.greedyPhase = 'unload';
    await lm.unload();
    window.greedyPhase = 'done';
  }
};

// Generates while the page keeps a 5 ms timer: the gaps between ticks show whether the page stayed responsive.
window.responsiveness = async ({ model, n }) => {
  const lm = await PocketLM.load({ model, threads: 1, contextSize: n + 16 });
  let last = performance.now(), maxGap = 0, ticks = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    maxGap = Math.max(maxGap, t - last);
    last = t;
    ticks++;
  }, 5);
  const t0 = performance.now();
  let streamed = 0;
  const r = await lm.complete('Once upon a time', { temperature: 0, maxTokens: n, onToken: () => streamed++ });
  const ms = performance.now() - t0;
  clearInterval(timer);
  await lm.unload();
  return { maxGap, ticks, ms, tokens: r.tokens.length, streamed };
};

window.abortAfter = async ({ model, k }) => {
  const lm = await PocketLM.load({ model, threads: 1 });
  const ctl = new AbortController();
  let n = 0;
  const r = await lm.complete('Once upon a time', { temperature: 0, maxTokens: 1000, signal: ctl.signal,
    onToken: () => { if (++n === k) ctl.abort(); } });
  await lm.unload();
  return { finishReason: r.finishReason, tokens: r.tokens.length };
};

// Aborts a one-batch prefill of n tokens as soon as it starts, and says how much of it the session kept.
window.abortPrefill = async ({ model, n, variant, threads }) => {
  const lm = await PocketLM.load({ model, variant, threads, contextSize: n + 8, batchSize: n });
  try {
    const ids = Array.from({ length: n }, (_, i) => 1 + ((i * 37) % 500));
    const t0 = performance.now();
    const full = await lm.complete(ids, { temperature: 0, maxTokens: 1, cachePrompt: false });
    const fullMs = performance.now() - t0;
    const ctl = new AbortController();
    const t1 = performance.now();
    const p = lm.complete(ids, { temperature: 0, maxTokens: 1, cachePrompt: false, signal: ctl.signal });
    ctl.abort();
    const r = await p;
    const abortedMs = performance.now() - t1;
    const after = await lm.complete(ids, { temperature: 0, maxTokens: 1, cachePrompt: false });
    return { fullMs, abortedMs, finishReason: r.finishReason, promptN: r.timings.promptN, tokens: r.tokens.length,
      same: after.tokens[0] === full.tokens[0], variant: lm.info.variant };
  } finally {
    await lm.unload();
  }
};

window.chatStream = async ({ model }) => {
  const lm = await PocketLM.load({ model, threads: 1 });
  const messages = [{ role: 'user', content: 'Tell me a story.' }];
  let text = '';
  for await (const c of lm.chat.completions.create({ messages, temperature: 0, max_tokens: 30, stream: true })) {
    text += c.choices[0].delta.content || '';
  }
  const full = await lm.chat.completions.create({ messages, temperature: 0, max_tokens: 30 });
  await lm.unload();
  return { streamed: text, full: full.choices[0].message.content };
};

// What load() rejects with for each kind of bad input, as 'code: message' (or 'loaded <variant>').
window.loadErrors = async ({ model, variants }) => {
  const outcome = (opts) => PocketLM.load({ cache: false, ...opts }).then(
    async (lm) => { const v = lm.info.variant; await lm.unload(); return `loaded ${v}`; },
    (e) => `${e.code}: ${e.message}`);
  const r = {
    garbage: await outcome({ model: new Blob([new Uint8Array(4096).fill(3)]) }),
    truncated: await outcome({ model: (await (await fetch(model)).blob()).slice(0, 100000) }),
    missingUrl: await outcome({ model: '../../models/no-such-model.gguf' }),
    missingUrlStored: await outcome({ model: '../../models/no-such-model.gguf', cache: true }),
    threads: await outcome({ model, threads: 0 }),
    unknownVariant: await outcome({ model, variant: 'avx512' }),
  };
  for (const v of variants) r[v] = await outcome({ model, variant: v });
  return r;
};

// The default ModelStore: a URL load downloads the model into IndexedDB, a second load by id reads it back.
window.storeRoundTrip = async ({ model, prompt, n }) => {
  const { ModelStore } = await import('../../dist/pocketlm.js');
  const store = await ModelStore.open();
  for (const m of await store.list()) await store.delete(m.id);
  const first = await window.greedy({ model, prompt, n, threads: 1 });
  const listed = await store.list();
  const lm = await PocketLM.load({ model: listed[0].id, threads: 1 });
  const r = await lm.complete(prompt, { temperature: 0, maxTokens: n });
  await lm.unload();
  await store.delete(listed[0].id);
  return { first: first.tokens, listed: listed.map((m) => ({ url: m.url, complete: m.complete, size: m.size, sha256: m.sha256 })),
    again: r.tokens, left: (await store.list()).length };
};

window.badModel = async () => {
  try {
    await PocketLM.load({ model: new Blob([new Uint8Array(4096).fill(3)]) });
    return 'loaded';
  } catch (e) {
    return `${e.name}:${e.code}`;
  }
};

document.getElementById('status').textContent = 'ready';
