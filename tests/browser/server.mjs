// A tiny static file server for the browser tests, on 127.0.0.1 only. Every response carries the strict CSP the
// package promises to work under; paths under /iso/ are also cross-origin isolated (COOP + COEP), so the same files
// can be loaded by a page with threads and by one without.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.cjs': 'text/javascript',
  '.json': 'application/json', '.wasm': 'application/wasm', '.gguf': 'application/octet-stream',
};
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";

// handle(req, res, headers): optional, serves extra routes (model-server.mjs); returns false for the files.
export function startServer(root, { handle } = {}) {
  const server = http.createServer((req, res) => {
    let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const isolated = p.startsWith('/iso/');
    if (isolated) p = p.slice(4);
    const file = path.join(root, path.normalize(p));
    const headers = { 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
    }
    if (handle && handle(req, res, headers)) return;
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    headers['Content-Type'] = TYPES[path.extname(file)] || 'application/octet-stream';
    headers['Content-Length'] = fs.statSync(file).size;
    res.writeHead(200, headers);
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

// Debian's Chromium (browsers cannot be downloaded here) with the flags of docs/architecture.md ("Tests") and a fresh profile, beside the
// page server. close() stops both and removes the profile.
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function startBrowser(root, options) {
  const server = await startServer(root, options);
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pocketlm-chromium-'));
  const context = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true,
    args: CHROMIUM_ARGS });
  return {
    server, context,
    async close() {
      await context.close();
      await server.close();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}
