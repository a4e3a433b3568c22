// browser.mjs — Debian's Chromium (headless, driven by playwright-core) and a small static server on 127.0.0.1
// for the in-browser engines: pocketlm (dist/pocketlm.js) and wllama (@wllama/wllama's esm build).
//
// Every response carries COOP same-origin + COEP require-corp (+ CORP same-origin), so the page is
// cross-origin isolated and both engines may use threads (SharedArrayBuffer). Routes:
//   /                 the bench page (web/bench.html)
//   /bench/*          tools/bench/web/
//   /wllama/*         node_modules/@wllama/wllama/esm/
//   /dist/*           the project's dist/ (pocketlm's JS API and its wasm variants)
//   /model.gguf       the model under test (set per measurement)

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
    ".wasm": "application/wasm", ".json": "application/json", ".map": "application/json",
};

export const CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
];

export class BrowserBench {
    constructor({ root, benchDir, executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium", log = () => {} }) {
        this.root = root;
        this.benchDir = benchDir;
        this.executablePath = executablePath;
        this.log = log;
        this.modelPath = null;
        this.mounts = {
            "/bench/": path.join(benchDir, "web"),
            "/wllama/": path.join(benchDir, "node_modules", "@wllama", "wllama", "esm"),
            "/dist/": path.join(root, "dist"),
        };
    }

    async start() {
        const req = createRequire(path.join(this.benchDir, "package.json"));
        const pw = await import(pathToFileURL(req.resolve("playwright-core")).href);
        const chromium = pw.chromium ?? pw.default.chromium;
        this.server = http.createServer((q, s) => this.serve(q, s));
        await new Promise((resolve, reject) => {
            this.server.once("error", reject);
            this.server.listen(0, "127.0.0.1", resolve);
        });
        this.origin = `http://127.0.0.1:${this.server.address().port}`;
        this.userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pocketlm-bench-chromium-"));
        // a persistent context on a fresh, throw-away profile directory: nothing cached from an earlier run
        this.context = await chromium.launchPersistentContext(this.userDataDir, {
            executablePath: this.executablePath,
            headless: true,
            args: CHROMIUM_FLAGS,
        });
        this.version = this.context.browser()?.version() ?? null;
        if (!this.version) {
            const p = await this.context.newPage();
            this.version = (await p.evaluate(() => navigator.userAgent)).match(/Chrome\/([\d.]+)/)?.[1] ?? "unknown";
            await p.close();
        }
    }

    serve(req, res) {
        const headers = {
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Embedder-Policy": "require-corp",
            "Cross-Origin-Resource-Policy": "same-origin",
            "Cache-Control": "no-store",
        };
        let pathname;
        try { pathname = decodeURIComponent(new URL(req.url, this.origin).pathname); }
        catch { res.writeHead(400, headers); return res.end(); }
        let file = null;
        if (pathname === "/" || pathname === "/index.html") file = path.join(this.benchDir, "web", "bench.html");
        else if (pathname === "/model.gguf") file = this.modelPath;
        else {
            for (const [prefix, dir] of Object.entries(this.mounts)) {
                if (!pathname.startsWith(prefix)) continue;
                const rel = path.normalize(pathname.slice(prefix.length));
                if (rel.startsWith("..") || path.isAbsolute(rel)) break;
                file = path.join(dir, rel);
                break;
            }
        }
        let st = null;
        try { st = file ? fs.statSync(file) : null; } catch { st = null; }
        if (!st || !st.isFile()) { res.writeHead(404, headers); return res.end(); }
        res.writeHead(200, {
            ...headers,
            "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream",
            "Content-Length": st.size,
        });
        if (req.method === "HEAD") return res.end();
        fs.createReadStream(file).pipe(res);
    }

    // one measurement in a fresh page; returns the engine's result object (see web/bench.js)
    async measure({ engine, modelPath, threads, text, warmText, nDecode, nCtx = 256, byteTokens = [], variant, timeoutMs = 15 * 60 * 1000 }) {
        this.modelPath = modelPath;
        const page = await this.context.newPage();
        const errors = [];
        page.on("pageerror", (e) => errors.push(e.message));
        page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
        try {
            await page.goto(`${this.origin}/`);
            await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30000 });
            const isolated = await page.evaluate(() => crossOriginIsolated);
            if (!isolated) throw new Error("the bench page is not cross-origin isolated");
            const run = page.evaluate((o) => window.benchRun(o), { engine, threads, text, warmText, nDecode, nCtx, byteTokens, variant });
            let timer;
            const timeout = new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
            });
            try { return await Promise.race([run, timeout]); }
            finally { clearTimeout(timer); }
        } catch (e) {
            const extra = errors.filter((x) => !/favicon/.test(x)).slice(0, 3).join(" | ");
            throw new Error(`${e.message.split("\n")[0]}${extra ? ` [page: ${extra}]` : ""}`);
        } finally {
            await page.close().catch(() => {});
        }
    }

    async stop() {
        await this.context?.close().catch(() => {});
        await new Promise((r) => (this.server ? this.server.close(r) : r()));
        if (this.userDataDir) fs.rmSync(this.userDataDir, { recursive: true, force: true });
    }
}
