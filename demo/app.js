// The pocketlm demo: a private text generator on the package's public API only (dist/pocketlm.js). Models are
// downloaded once into the ModelStore (IndexedDB) and loaded from there with no network; the engine runs in a
// Worker, so this page only moves text around and stays responsive while it generates.
import { PocketLM, ModelStore } from './dist/pocketlm.js';

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'), output: $('output'), prompt: $('prompt'), generate: $('generate'), stop: $('stop'),
  newchat: $('newchat'), composer: $('composer'), model: $('model'), stored: $('stored'), storage: $('storage'),
  persist: $('persist'), addUrl: $('add-url'), url: $('url'), file: $('file'), download: $('download'),
  dlName: $('dl-name'), dlBar: $('dl-bar'), dlText: $('dl-text'), dlCancel: $('dl-cancel'),
  ttft: $('ttft'), tps: $('tps'), ntok: $('ntok'), variant: $('variant'),
};
const SETTINGS = ['temperature', 'topP', 'maxTokens', 'seed', 'threads', 'theme'];

// The bundled models, served beside the app. Small files get small chunks: a cut connection costs one chunk.
const BUNDLED = [
  { name: 'stories260K', url: 'models/stories260K.gguf' },
  { name: 'TinyStories-656K', url: 'models/TinyStories-656K-Q8_0.gguf' },
].map((m) => ({ ...m, url: new URL(m.url, location.href).href, id: ModelStore.id(new URL(m.url, location.href)) }));
const SMALL_CHUNK = 256 << 10;

const state = {
  store: null, lm: null, loadedKey: null, loading: false, busy: false, controller: null, download: null,
  mode: 'story', messages: [], sessionFile: null,
};

// ---- small helpers ----
const mb = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} MB`);
const seconds = (s) => (s >= 90 ? `${Math.round(s / 60)} min` : `${Math.max(1, Math.round(s))} s`);
// A local date as Y-M-D by hand: a page's first toLocaleDateString() loads the locale's date data, a main-thread
// task of 100-200 ms at CPU 4x (measured), and the stored-models panel shows its first date right after a load.
const day = (t) => {
  const d = new Date(t), two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
};
const describe = (e) => (e && e.code ? `${e.message} (${e.code})` : String((e && e.message) || e));

function setStatus(text, kind = 'ready') {
  ui.status.textContent = text;
  document.body.dataset.state = kind;
}

function refreshButtons() {
  ui.generate.disabled = !state.lm || state.loading || state.busy;
  ui.stop.disabled = !state.busy;
  ui.newchat.disabled = state.busy;
  ui.model.disabled = state.loading || state.busy;
}

// ---- settings, kept in localStorage ----
function loadSettings() {
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem('pocketlm-demo') || '{}'); } catch { /* a fresh start */ }
  for (const k of SETTINGS) if (saved[k] !== undefined) $(k).value = saved[k];
  if (saved.mode === 'chat') document.querySelector('input[name=mode][value=chat]').checked = true;
  applyTheme();
  return saved;
}

function saveSettings(extra = {}) {
  const s = { mode: state.mode, model: ui.model.value, ...extra };
  for (const k of SETTINGS) s[k] = $(k).value;
  try { localStorage.setItem('pocketlm-demo', JSON.stringify(s)); } catch { /* storage full or off: not fatal */ }
}

function applyTheme() {
  const t = $('theme').value;
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}

function sampling() {
  const num = (id) => ($(id).value === '' ? undefined : Number($(id).value));
  return { temperature: num('temperature'), topP: num('topP'), maxTokens: num('maxTokens') || 200, seed: num('seed') };
}

// ---- downloads into the store, with a progress bar: bytes, %, speed, time left ----
function showProgress(name, p) {
  ui.download.hidden = false;
  ui.dlName.textContent = name;
  if (p.phase === 'verify') {
    ui.dlBar.removeAttribute('value');
    ui.dlText.textContent = 'Checking the file…';
    return;
  }
  ui.dlBar.value = p.fraction ?? 0;
  const pct = p.fraction === null ? '' : ` · ${Math.floor(p.fraction * 100)}%`;
  const left = p.total && p.bytesPerSecond > 0 ? ` · ${seconds((p.total - p.loaded) / p.bytesPerSecond)} left` : '';
  const speed = p.bytesPerSecond > 0 ? ` · ${mb(p.bytesPerSecond)}/s` : '';
  const where = p.phase === 'waiting' ? 'In another tab: ' : '';
  ui.dlText.textContent = `${where}${mb(p.loaded)}${p.total ? ` of ${mb(p.total)}` : ''}${pct}${speed}${left}`;
}

async function download(url, name, options = {}) {
  if (state.download) throw new Error('another download is running: wait for it or cancel it');
  const controller = new AbortController();
  state.download = controller;
  showProgress(name, { loaded: 0, total: 0, fraction: 0, bytesPerSecond: 0, phase: 'download' });
  try {
    return await state.store.download(url, { ...options, signal: controller.signal,
      onProgress: (p) => {
        showProgress(name, p);
        if (state.loading) setStatus(`Downloading ${name}… ${p.fraction === null ? '' : Math.floor(p.fraction * 100) + '%'}`, 'loading');
      } });
  } finally {
    state.download = null;
    ui.download.hidden = true;
    renderStored();
  }
}

// ---- the model: chosen in the select, downloaded when needed, loaded from the store ----
async function choices() {
  const stored = state.store ? await state.store.list() : [];
  const list = BUNDLED.map((b) => ({ key: b.id, name: b.name, url: b.url, bundled: true }));
  for (const r of stored) {
    if (!BUNDLED.some((b) => b.id === r.id) && r.complete) list.push({ key: r.id, name: r.name, url: r.url });
  }
  if (state.sessionFile) list.push({ key: 'file', name: `${state.sessionFile.name} (this visit only)` });
  return list;
}

async function renderModelSelect(selected) {
  const list = await choices();
  ui.model.replaceChildren(...list.map((c) => new Option(c.name, c.key, false, c.key === selected)));
  if (!list.some((c) => c.key === selected)) ui.model.value = list[0].key;
}

async function loadSelected() {
  const key = ui.model.value;
  if (state.loadedKey === key && state.lm) return;
  state.loading = true;
  refreshButtons();
  try {
    if (state.lm) { await state.lm.unload(); state.lm = null; state.loadedKey = null; }
    const choice = (await choices()).find((c) => c.key === key);
    let model = key;
    if (key === 'file') model = state.sessionFile;
    else if (!state.store) model = choice.url; // no IndexedDB (private mode...): stream it, keep nothing
    else if (!(await state.store.get(key))?.complete) {
      setStatus(`Downloading ${choice.name}…`, 'loading');
      await download(choice.url, choice.name, choice.bundled ? { chunkSize: SMALL_CHUNK } : {});
    }
    setStatus(`Loading ${choice.name}…`, 'loading');
    const threads = $('threads').value === 'auto' ? 'auto' : Number($('threads').value);
    state.lm = await PocketLM.load({ model, threads, cache: state.store ? undefined : false,
      onProgress: (p) => { if (p.phase === 'load' && p.fraction !== null) setStatus(`Loading ${choice.name}… ${Math.floor(p.fraction * 100)}%`, 'loading'); } });
    state.loadedKey = key;
    document.querySelector('#models-panel summary').textContent = `Models · ${choice.name}`;
    const i = state.lm.info;
    ui.variant.textContent = i.threads > 1 ? `${i.variant} ×${i.threads}` : i.variant;
    setStatus(`Ready: ${choice.name}${state.mode === 'chat' ? `, chat template ${i.chatTemplate || 'default'}` : ''}`);
    saveSettings();
  } catch (e) {
    setStatus(`Cannot load the model: ${describe(e)}`, 'error');
  } finally {
    state.loading = false;
    refreshButtons();
    renderStored();
  }
}

// ---- generation: story mode (completion) and chat mode (the model's chat template) ----
function figures() {
  let t0 = performance.now(), tFirst = 0, n = 0;
  ui.ttft.textContent = '…';
  ui.tps.textContent = '–';
  ui.ntok.textContent = '0';
  return {
    token() {
      const t = performance.now();
      if (!n++) { tFirst = t; ui.ttft.textContent = `${Math.round(t - t0)} ms`; }
      else ui.tps.textContent = ((n - 1) / ((t - tFirst) / 1000)).toFixed(1);
      ui.ntok.textContent = String(n);
    },
    // the engine's own count and time, once it has them
    done(timings) {
      if (timings && timings.predicted_ms > 0) ui.tps.textContent = (timings.predicted_n / (timings.predicted_ms / 1000)).toFixed(1);
      if (!n) ui.ttft.textContent = '–';
    },
  };
}

// Streamed text goes into one text node, once per frame (a fast model sends tokens faster than the screen
// refreshes); the output keeps the reader's scroll position unless it was at the bottom.
function sink(node) {
  let pending = '', frame = 0;
  const flush = () => {
    cancelAnimationFrame(frame);
    frame = 0;
    if (!pending) return;
    const out = ui.output;
    const atEnd = out.scrollHeight - out.scrollTop - out.clientHeight < 24;
    node.appendData(pending);
    pending = '';
    if (atEnd) out.scrollTop = out.scrollHeight;
  };
  const write = (text) => {
    pending += text;
    if (!frame) frame = requestAnimationFrame(flush);
  };
  write.flush = flush;
  return write;
}

async function story(prompt, signal, fig) {
  const head = document.createElement('span');
  head.className = 'prompt';
  head.textContent = prompt;
  const body = document.createTextNode('');
  ui.output.replaceChildren(head, body);
  const write = sink(body);
  const r = await state.lm.complete(prompt, { ...sampling(), signal,
    onToken: (text, token) => { if (token !== null) fig.token(); write(text); } }).finally(write.flush);
  fig.done(r.timings);
  return r.finishReason;
}

function bubble(role, text) {
  const div = document.createElement('p');
  div.className = `msg ${role}`;
  div.append(text);
  ui.output.append(div);
  return div;
}

async function chat(content, signal, fig) {
  if (!state.messages.length) ui.output.replaceChildren();
  state.messages.push({ role: 'user', content });
  bubble('user', content);
  const body = document.createTextNode('');
  bubble('assistant', body);
  const write = sink(body);
  const s = sampling();
  let reply = '', finish = 'stop', timings = null;
  try {
    const stream = state.lm.chat.completions.create({ messages: state.messages, stream: true, signal,
      max_tokens: s.maxTokens, temperature: s.temperature, top_p: s.topP, seed: s.seed });
    for await (const c of stream) {
      const d = c.choices[0]?.delta?.content;
      if (d) { fig.token(); write(d); reply += d; }
      if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
      if (c.timings) timings = c.timings;
    }
  } catch (e) {
    if (e.code !== 'ABORTED') throw e;
    finish = 'abort';
  } finally {
    write.flush();
  }
  state.messages.push({ role: 'assistant', content: reply });
  fig.done(timings);
  return finish;
}

async function generate() {
  const text = ui.prompt.value.trim();
  if (!state.lm || state.busy || !text) return;
  state.busy = true;
  state.controller = new AbortController();
  refreshButtons();
  setStatus('Generating…', 'busy');
  const fig = figures();
  try {
    const why = state.mode === 'chat' ? await chat(text, state.controller.signal, fig)
      : await story(text, state.controller.signal, fig);
    if (state.mode === 'chat') ui.prompt.value = '';
    setStatus(why === 'abort' ? 'Stopped' : why === 'length' ? 'Done (max tokens reached)' : 'Done');
  } catch (e) {
    if (e.code === 'ABORTED') setStatus('Stopped');
    else setStatus(`Generation failed: ${describe(e)}`, 'error');
  } finally {
    state.busy = false;
    state.controller = null;
    refreshButtons();
  }
}

// ---- stored models panel ----
async function renderStored() {
  if (!state.store) {
    ui.storage.textContent = 'This browser gives the page no IndexedDB here (private mode?): models are not kept.';
    return;
  }
  const list = await state.store.list();
  ui.stored.replaceChildren(...list.map((r) => {
    const li = document.createElement('li');
    const info = document.createElement('div');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = r.name;
    const meta = document.createElement('span');
    meta.className = 'meta';
    const part = r.complete ? 'complete' : `partial, ${r.size ? Math.floor((r.bytesStored / r.size) * 100) : 0}%`;
    const used = r.lastUsedAt ? `used ${day(r.lastUsedAt)}` : 'not used yet';
    meta.textContent = `${mb(r.size || r.bytesStored)} · ${part} · ${used}`;
    info.append(name, meta);
    li.append(info);
    li.dataset.id = r.id;
    if (!r.complete && !state.download) {
      const resume = document.createElement('button');
      resume.type = 'button';
      resume.className = 'quiet';
      resume.textContent = 'Resume';
      resume.setAttribute('aria-label', `Resume downloading ${r.name}`);
      resume.onclick = () => addByUrl(r.url, r.name);
      li.append(resume);
    }
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'danger';
    del.textContent = 'Delete';
    del.setAttribute('aria-label', `Delete ${r.name}`);
    del.onclick = () => remove(r);
    li.append(del);
    return li;
  }));
  const e = await state.store.estimate();
  ui.storage.dataset.models = String(e.models);
  ui.storage.textContent = `Models: ${mb(e.models)}` +
    (e.quota ? ` · this site uses ${mb(e.usage)} of ${mb(e.quota)} allowed` : '');
}

async function remove(r) {
  if (state.busy || state.loading) { setStatus('Stop the generation first'); return; }
  if (!confirm(`Delete ${r.name} (${mb(r.bytesStored)}) from this device?`)) return;
  if (state.loadedKey === r.id && state.lm) {
    await state.lm.unload();
    state.lm = null;
    state.loadedKey = null;
  }
  await state.store.delete(r.id);
  await renderModelSelect(ui.model.value);
  await renderStored();
  refreshButtons();
  setStatus(`Deleted ${r.name}`);
  if (!state.lm) await loadSelected(); // it was the model in use: back to the one selected now (downloaded again)
}

async function addByUrl(url, name) {
  let href;
  try {
    href = new URL(url, location.href).href;
  } catch {
    setStatus(`"${url}" is not a URL`, 'error');
    return;
  }
  const crossOrigin = new URL(href).origin !== location.origin;
  name = name || decodeURIComponent(new URL(href).pathname.split('/').pop()) || href;
  setStatus(`Downloading ${name}…`, 'loading');
  try {
    const r = await download(href, name);
    ui.url.value = '';
    await renderModelSelect(ui.model.value);
    setStatus(`${r.name} is on this device (${mb(r.size)}): choose it under Model`);
    if (!state.lm && !state.loading) await loadSelected(); // e.g. the bundled model's download, resumed by hand
  } catch (e) {
    if (e.code === 'ABORTED') setStatus(`Download paused: ${name} can be resumed from the list`);
    else setStatus(`Cannot add ${name}: ${describe(e)}` + (crossOrigin && e.code === 'NETWORK'
      ? ' — this page\'s Content-Security-Policy allows its own origin only (see demo/README.md)' : ''), 'error');
  }
}

// From a file on the device: copied into the store; without a store (no IndexedDB) used for this visit only.
async function addFile(file) {
  if (!file) return;
  if (state.store) {
    if (state.download) { setStatus('Another download is running: wait for it or cancel it', 'error'); return; }
    state.download = new AbortController();
    try {
      const r = await state.store.import(file, { signal: state.download.signal,
        onProgress: (p) => showProgress(file.name, p) });
      await renderModelSelect(r.id);
      setStatus(`${r.name} is on this device (${mb(r.size)})`);
    } catch (e) {
      setStatus(e.code === 'ABORTED' ? `Stopped copying ${file.name}` : `Cannot add ${file.name}: ${describe(e)}`,
        e.code === 'ABORTED' ? undefined : 'error');
      return;
    } finally {
      state.download = null;
      ui.download.hidden = true;
      ui.file.value = '';
      renderStored();
    }
  } else {
    state.sessionFile = file;
    await renderModelSelect('file');
  }
  await renderStored();
  await loadSelected();
}

// ---- wiring ----
async function main() {
  const saved = loadSettings();
  state.mode = document.querySelector('input[name=mode]:checked').value;
  setMode(state.mode);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js').catch((e) => setStatus(`Offline use is not available: ${e.message}`));
  }
  try {
    state.store = await ModelStore.open();
  } catch (e) {
    state.store = null; // no IndexedDB: bundled models stream on every visit
  }
  if (navigator.storage && navigator.storage.persisted) ui.persist.checked = await navigator.storage.persisted();
  await renderModelSelect(saved.model || BUNDLED[0].id);
  await renderStored();
  await loadSelected();
}

function setMode(mode) {
  state.mode = mode;
  ui.newchat.hidden = mode !== 'chat';
  ui.prompt.placeholder = mode === 'chat' ? 'Write a message' : 'Once upon a time';
  ui.generate.textContent = mode === 'chat' ? 'Send' : 'Generate';
  ui.output.replaceChildren();
  state.messages = [];
}

ui.composer.addEventListener('submit', (e) => { e.preventDefault(); generate(); });
ui.prompt.addEventListener('keydown', (e) => {
  // Enter sends on desktop (Shift+Enter: a new line); phones keep Enter for new lines and use the button
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && matchMedia('(pointer: fine)').matches) {
    e.preventDefault();
    generate();
  }
});
ui.stop.addEventListener('click', () => state.controller && state.controller.abort());
ui.newchat.addEventListener('click', () => { state.messages = []; ui.output.replaceChildren(); setStatus('New chat'); });
for (const r of document.querySelectorAll('input[name=mode]')) {
  r.addEventListener('change', () => { setMode(r.value); saveSettings(); if (state.lm) setStatus('Ready'); });
}
ui.model.addEventListener('change', () => loadSelected());
ui.addUrl.addEventListener('submit', (e) => { e.preventDefault(); addByUrl(ui.url.value.trim()); });
ui.file.addEventListener('change', () => addFile(ui.file.files[0]));
ui.dlCancel.addEventListener('click', () => state.download && state.download.abort());
ui.persist.addEventListener('change', async () => {
  if (!ui.persist.checked || !state.store) return;
  ui.persist.checked = await state.store.persist();
  if (!ui.persist.checked) setStatus('The browser did not grant persistent storage (installing the app often helps)');
});
for (const k of SETTINGS) $(k).addEventListener('change', () => { saveSettings(); if (k === 'theme') applyTheme(); });
$('threads').addEventListener('change', () => { if (state.lm && !state.busy) { state.loadedKey = null; loadSelected(); } });

main();
