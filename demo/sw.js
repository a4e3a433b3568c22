// The demo's service worker: the app shell and the engine (dist/: JavaScript and every wasm variant) are cached at
// install, so after the first visit the app opens and runs with the network off. Models are not its business: they
// live in the ModelStore (IndexedDB) and their downloads (Range requests) go straight to the network.
//
// Every response it gives carries COOP + COEP (+ CORP), so the page is cross-origin isolated and the threaded wasm
// runs even on a static host that cannot set headers (from the second visit on: the first is not yet controlled).
const CACHE = 'pocketlm-demo-v2';
const SHELL = ['index.html', 'app.js', 'style.css', 'manifest.webmanifest', 'icons/icon-192.png',
  'icons/icon-512.png'];
// dist/ as `make wasm` writes it (tests/browser/demo.test.mjs checks this list against the folder)
const ENGINE = ['pocketlm.js', 'errors.js', 'args.js', 'runtime.js', 'chat.js', 'source.js', 'store.js', 'sha256.js', 'inspect.js',
  'engine.js', 'pocketlm-worker.js', 'pocketlm-st.js', 'pocketlm-mt.js', 'pocketlm-mt.worker.js',
  'pocketlm-scalar.wasm', 'pocketlm-simd.wasm', 'pocketlm-relaxed.wasm', 'pocketlm-mt-simd.wasm',
  'pocketlm-mt-relaxed.wasm'].map((f) => 'dist/' + f);
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; " +
  "form-action 'none'";

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll([...SHELL, ...ENGINE])).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('pocketlm-demo-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function isolated(r) {
  const h = new Headers(r.headers);
  h.set('Cross-Origin-Opener-Policy', 'same-origin');
  h.set('Cross-Origin-Embedder-Policy', 'require-corp');
  h.set('Cross-Origin-Resource-Policy', 'same-origin');
  if (!h.has('Content-Security-Policy')) h.set('Content-Security-Policy', CSP);
  return new Response(r.body, { status: r.status, statusText: r.statusText, headers: h });
}

// Stale-while-revalidate: answer from the cache at once (offline, or a slow phone network), refresh it behind.
async function answer(e) {
  const cache = await caches.open(CACHE);
  const key = e.request.mode === 'navigate' ? 'index.html' : e.request; // a one-page app: every navigation is it
  const cached = await cache.match(key, { ignoreSearch: true });
  const fresh = fetch(e.request).then(async (r) => {
    if (r.ok && r.status === 200) await cache.put(key, r.clone());
    return r;
  });
  if (cached) {
    e.waitUntil(fresh.catch(() => {}));
    return isolated(cached);
  }
  return isolated(await fresh);
}

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin || e.request.headers.has('range')) return;
  if (url.pathname.endsWith('.gguf')) return;
  e.respondWith(answer(e));
});
