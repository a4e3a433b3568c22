// The demo's web server: Node, no dependencies. Serves the app with the headers a host should send (see README.md):
// COOP + COEP, so the page is cross-origin isolated and the threaded wasm can run; a strict CSP; HTTP Range with
// If-Range, so an interrupted model download resumes where it stopped.
//
//   node demo/server.mjs            demo/ at /, dist/ at /dist/, models/ at /models/ (what `make demo` runs)
//   node demo/server.mjs DIR        one folder, e.g. the output of `make demo-site`
//   PORT=9000 HOST=0.0.0.0 ...      (default 8080 on localhost; HOST=0.0.0.0 to open it from a phone on the LAN)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";
export const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm', '.png': 'image/png', '.svg': 'image/svg+xml', '.gguf': 'application/octet-stream',
  '.md': 'text/plain; charset=utf-8', '.txt': 'text/plain; charset=utf-8',
};

/** URL path prefix -> folder. The longest matching prefix wins. */
export function devMounts(root = ROOT) {
  return { '/': path.join(root, 'demo'), '/dist/': path.join(root, 'dist'), '/models/': path.join(root, 'models') };
}

function resolveFile(mounts, urlPath) {
  const prefix = Object.keys(mounts).filter((p) => urlPath.startsWith(p)).sort((a, b) => b.length - a.length)[0];
  if (!prefix) return null;
  const dir = mounts[prefix];
  let file = path.join(dir, path.normalize('/' + urlPath.slice(prefix.length)));
  if (file !== dir && !file.startsWith(dir + path.sep)) return null;
  try {
    if (fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    return fs.statSync(file).isFile() ? file : null;
  } catch {
    return null;
  }
}

// "bytes=a-b", "bytes=a-" or "bytes=-n" of a size; null for anything else (then the whole file is sent, as RFC 9110
// allows), or 'unsatisfiable'.
function parseRange(h, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(h || '');
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start, end;
  if (m[1] === '') { start = Math.max(0, size - Number(m[2])); end = size - 1; }
  else { start = Number(m[1]); end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1); }
  return start > end || start >= size ? 'unsatisfiable' : { start, end };
}

/**
 * Starts the server. mounts: devMounts() or { '/': dir }. Tests: onBody(urlPath, bytes) counts body bytes sent;
 * handle(req, res, headers) may answer a request itself (returns true); bare: none of HEADERS, as a host that
 * cannot set them. Resolves with { url, port, close() }.
 */
export function startDemoServer({ mounts = devMounts(), port = 8080, host = 'localhost', onBody, handle, bare } = {}) {
  const server = http.createServer((req, res) => {
    let urlPath;
    try { urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch { urlPath = null; }
    const headers = bare ? {} : { ...HEADERS };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    if (handle && handle(req, res, headers)) return;
    const file = urlPath && resolveFile(mounts, urlPath);
    if (!file) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    const st = fs.statSync(file);
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    Object.assign(headers, {
      'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
      // revalidated on every use: the service worker keeps the offline copy, the browser cache only what is current
      'Cache-Control': 'no-cache', ETag: etag, 'Last-Modified': st.mtime.toUTCString(), 'Accept-Ranges': 'bytes',
    });
    if (req.headers['if-none-match'] === etag && !req.headers.range) {
      res.writeHead(304, headers).end();
      return;
    }
    let start = 0, end = st.size - 1, status = 200;
    const ifRange = req.headers['if-range'];
    const range = !ifRange || ifRange === etag || ifRange === headers['Last-Modified']
      ? parseRange(req.headers.range, st.size) : null;
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${st.size}` }).end();
      return;
    }
    if (range) {
      ({ start, end } = range);
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
    }
    headers['Content-Length'] = st.size ? end - start + 1 : 0;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || !st.size) { res.end(); return; }
    const body = fs.createReadStream(file, { start, end });
    if (onBody) body.on('data', (b) => onBody(urlPath, b.length));
    body.pipe(res);
    res.on('close', () => body.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const p = server.address().port;
      const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${p}/`, port: p,
        close: () => new Promise((r) => { server.close(r); server.closeAllConnections(); }),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  const mounts = dir ? { '/': path.resolve(dir) } : devMounts();
  if (!fs.existsSync(path.join(mounts['/dist/'] || path.join(mounts['/'], 'dist'), 'pocketlm.js'))) {
    console.error('dist/pocketlm.js is missing: run `make wasm` (or `make demo`, which builds it) first');
    process.exit(1);
  }
  const port = process.env.PORT === undefined || process.env.PORT === '' ? 8080 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT=${process.env.PORT} is not a port number (0-65535)`);
    process.exit(1);
  }
  startDemoServer({ mounts, port, host: process.env.HOST || 'localhost' }).then((s) => {
    console.log(`pocketlm demo: ${s.url}  (Ctrl-C stops it)`);
    process.on('SIGINT', () => { s.close().then(() => process.exit(0)); });
    process.on('SIGTERM', () => { s.close().then(() => process.exit(0)); });
  }, (e) => {
    console.error(`cannot listen on port ${port}: ${e.message}${e.code === 'EADDRINUSE' ? ' (try PORT=8081 make demo)' : ''}`);
    process.exit(1);
  });
}
