// Three browser engines behind one small interface, so the same test body (and the bench) runs in each:
//
//   const b = await launch('firefox');   // b.name, b.version
//   await b.goto(url);                   // resolves once the page has loaded
//   await b.waitFor(() => window.ready); // polls a page function until it returns something truthy
//   const r = await b.evaluate((arg) => window.work(arg), arg);  // a page function (may be async), JSON-able result
//   await b.close();                     // stops the browser and everything it started, removes its profile
//
//   chromium  Debian's Chromium through playwright-core (CDP), headless, the flags of server.mjs
//   firefox   Debian's Firefox ESR through puppeteer-core over WebDriver BiDi (Firefox's own; no geckodriver),
//             headless, a fresh profile from puppeteer
//   webkit    WebKitGTK's MiniBrowser through WebKitWebDriver (W3C WebDriver, a few commands over fetch below),
//             under xvfb-run: MiniBrowser has no headless mode. JavaScriptCore is Safari's engine.
//
// No driver downloads a browser: every executable is a Debian package (make browser-deps installs them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { CHROMIUM, CHROMIUM_ARGS } from './server.mjs';

export const ENGINES = ['chromium', 'firefox', 'webkit'];

const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
const MINIBROWSER = process.env.MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const XVFB_RUN = '/usr/bin/xvfb-run';
const SCRIPT_TIMEOUT_MS = 10 * 60 * 1000;

/** Why `name` cannot be launched on this machine (a missing executable, with the package that has it), or null. */
export function unavailable(name) {
  const need = {
    chromium: [[CHROMIUM, 'chromium']],
    firefox: [[FIREFOX, 'firefox-esr']],
    webkit: [[WEBKIT_DRIVER, 'webkit2gtk-driver'], [MINIBROWSER, 'libwebkit2gtk-4.1-0'], [XVFB_RUN, 'xvfb']],
  }[name];
  if (!need) return `unknown engine '${name}': one of ${ENGINES.join(', ')}`;
  const gone = need.filter(([f]) => !fs.existsSync(f));
  return gone.length ? gone.map(([f, pkg]) => `${f} is missing (Debian package ${pkg}; make browser-deps)`).join('; ') : null;
}

export async function launch(name) {
  const why = unavailable(name);
  if (why) throw new Error(why);
  const b = await { chromium: launchChromium, firefox: launchFirefox, webkit: launchWebKit }[name]();
  b.name = name;
  b.waitFor = async (fn, arg, timeoutMs = 30000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = await b.evaluate(fn, arg).catch(() => null); // a page still loading has no context yet
      if (v) return v;
      if (Date.now() > until) throw new Error(`${name}: timed out after ${timeoutMs} ms waiting for ${fn}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return b;
}

// ---- Chromium: playwright-core ----
async function launchChromium() {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pocketlm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true,
    args: CHROMIUM_ARGS });
  const page = context.pages()[0] || await context.newPage();
  return {
    version: context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent)).match(/Chrome\/([\d.]+)/)?.[1],
    goto: async (url) => { await page.goto(url); },
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// ---- Firefox: puppeteer-core over WebDriver BiDi ----
async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true,
    protocol: 'webDriverBiDi' });
  const page = (await browser.pages())[0] || await browser.newPage();
  return {
    version: (await browser.version()).replace(/^firefox\//, ''),
    goto: async (url) => { await page.goto(url, { waitUntil: 'load' }); },
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    close: () => browser.close(), // puppeteer removes the temporary profile it made
  };
}

// ---- WebKit: WebKitWebDriver + MiniBrowser, a minimal W3C WebDriver client ----
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function launchWebKit() {
  const port = await freePort();
  // Its own process group: close() ends xvfb-run, Xvfb, the driver and the browser it started, and nothing else.
  const proc = spawn(XVFB_RUN, ['-a', WEBKIT_DRIVER, `--port=${port}`, '--host=127.0.0.1'],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
  const exited = new Promise((r) => proc.once('exit', r));
  const kill = () => { try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* already gone */ } };
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, url, body) => {
    const res = await fetch(base + url, { method, headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const j = await res.json();
    if (!res.ok) throw new Error(`WebKitWebDriver ${method} ${url}: ${j.value?.error}: ${j.value?.message}`);
    return j.value;
  };
  try {
    for (const until = Date.now() + 20000; ;) {
      if (await fetch(`${base}/status`).then((r) => r.ok, () => false)) break;
      if (proc.exitCode !== null || Date.now() > until) throw new Error(`WebKitWebDriver did not start: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const session = await call('POST', '/session', { capabilities: { alwaysMatch: {
      'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } } } });
    const s = `/session/${session.sessionId}`;
    await call('POST', `${s}/timeouts`, { script: SCRIPT_TIMEOUT_MS, pageLoad: 60000 });
    return {
      version: session.capabilities.browserVersion,
      goto: (url) => call('POST', `${s}/url`, { url }),
      // An async script: the page function's result or its error, as JSON.
      async evaluate(fn, arg) {
        const r = await call('POST', `${s}/execute/async`, {
          script: `const done = arguments[arguments.length - 1];
            Promise.resolve().then(() => (${fn})(arguments[0])).then((value) => done({ value }),
              (e) => done({ error: String(e && e.stack ? e.message + '\\n' + e.stack : e) }));`,
          args: [arg === undefined ? null : arg],
        });
        if (r && 'error' in r) throw new Error(r.error);
        return r ? r.value : r;
      },
      async close() {
        await call('DELETE', s).catch(() => {});
        kill();
        await exited;
      },
    };
  } catch (e) {
    kill();
    await exited;
    throw e;
  }
}
