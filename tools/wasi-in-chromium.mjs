// node tools/wasi-in-chromium.mjs PROGRAM.wasm [ARGS...]: runs a wasm32-wasi program (its output, its exit status)
// in a module Worker of headless Chromium, whose V8 has the standard relaxed SIMD that Node 20's lacks. Made for
// `make wasm-relaxed-kernel-bench`; the page and the small WASI host are the browser tests' (tests/browser).
import path from 'node:path';
import { startBrowser } from '../tests/browser/server.mjs';
import { ROOT } from '../tests/node/helpers.mjs';

const [program, ...args] = process.argv.slice(2);
if (!program) {
  console.error('usage: node tools/wasi-in-chromium.mjs PROGRAM.wasm [ARGS...]');
  process.exit(2);
}
const env = await startBrowser(ROOT);
let r;
try {
  const page = await env.context.newPage();
  await page.exposeFunction('wasiOut', (fd, text) => (fd === 2 ? process.stderr : process.stdout).write(text));
  await page.goto(`${env.server.url}/tests/browser/page.html`);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');
  r = await page.evaluate(({ url, args }) => new Promise((resolve) => {
    const worker = new Worker('wasi-shim.js', { type: 'module' });
    worker.onerror = (e) => resolve({ type: 'error', message: e.message });
    worker.onmessage = ({ data }) => {
      if (data.type === 'out') window.wasiOut(data.fd, data.text);
      else resolve(data);
    };
    worker.postMessage({ url, args, env: {} });
  }), { url: `/${path.relative(ROOT, path.resolve(program))}`, args: [path.basename(program), ...args] });
} finally {
  await env.close();
}
if (r.type !== 'exit') console.error(`${program}: ${r.type}${r.message ? `: ${r.message}` : ''}`);
process.exit(r.type === 'exit' ? r.code : 1);
