// browser.mjs — a browser engine (Chromium, Firefox or WebKit, launched by tests/browser/engines.mjs: Debian's
// executables, driven by playwright-core, puppeteer-core over WebDriver BiDi, or WebKitWebDriver) and a small static
// server on 127.0.0.1 for the in-browser engines: pocketlm (dist/pocketlm.js) and wllama (@wllama/wllama's esm build).
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

const TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
    ".wasm": "application/wasm", ".json": "application/json", ".map": "application/json",
};

export class BrowserBench {
    constructor({ root, benchDir, browser = "chromium", log = () => {} }) {
        this.root = root;
        this.benchDir = benchDir;
        this.browserName = browser;
        this.log = log;
        this.modelPath = null;
        this.mounts = {
            "/bench/": path.join(benchDir, "web"),
            "/wllama/": path.join(benchDir, "node_modules", "@wllama", "wllama", "esm"),
            "/dist/": path.join(root, "dist"),
        };
    }

    async start() {
        const { launch } = await import("../../../tests/browser/engines.mjs");
        this.server = http.createServer((q, s) => this.serve(q, s));
        await new Promise((resolve, reject) => {
            this.server.once("error", reject);
            this.server.listen(0, "127.0.0.1", resolve);
        });
        this.origin = `http://127.0.0.1:${this.server.address().port}`;
        // a fresh, throw-away profile: nothing cached from an earlier run
        this.browser = await launch(this.browserName);
        this.version = this.browser.version ?? "unknown";
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

    // one measurement in a freshly loaded page (a new Worker and wasm instance); returns web/bench.js's result object
    async measure({ engine, variant, modelPath, threads, text, warmText, nDecode, nCtx = 256, byteTokens = [], timeoutMs = 15 * 60 * 1000 }) {
        this.modelPath = modelPath;
        const b = this.browser;
        try {
            await b.goto(`${this.origin}/`);
            await b.waitFor(() => window.benchReady === true);
            const isolated = await b.evaluate(() => crossOriginIsolated);
            if (!isolated) throw new Error("the bench page is not cross-origin isolated");
            const run = b.evaluate((o) => window.benchRun(o), { engine, variant, threads, text, warmText, nDecode, nCtx, byteTokens });
            let timer;
            const timeout = new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
            });
            try { return await Promise.race([run, timeout]); }
            finally { clearTimeout(timer); }
        } catch (e) {
            const errors = await b.evaluate(() => window.benchErrors ?? []).catch(() => []);
            const extra = errors.slice(0, 3).join(" | ");
            throw new Error(`${e.message.split("\n")[0]}${extra ? ` [page: ${extra}]` : ""}`);
        }
    }

    async stop() {
        await this.browser?.close().catch(() => {});
        await new Promise((r) => (this.server ? this.server.close(r) : r()));
    }
}
