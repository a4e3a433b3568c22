#!/usr/bin/env node
// run.mjs — `make bench`: pocketlm beside its peers, on the same model files, in the same run.
//
//   node tools/bench/run.mjs [--quick] [--reps N] [--types Q8_0,Q4_0,Q4_K,...] [--shape 110M] [--models A.gguf,B.gguf]
//                            [--targets LIST] [--threads 1,2] [--out build/bench/results.json] [--pocketlm BIN]
//                            [--no-install] [--quiet-wait SECONDS] [--prompt 128] [--decode 64]
//   node tools/bench/run.mjs --report build/bench/results.json     # the Markdown of an earlier run, again
//
// Targets (a missing one is skipped with a note; nothing else stops the run):
//   pocketlm-native    build/native/pocketlm bench -m M -p 128 -n 64 --threads N (--prompt, --decode change 128, 64)
//   llama.cpp-native   llama.cpp through node-llama-cpp's prebuilt CPU binaries (lib/llamacpp.mjs), same work
//   pocketlm-wasi      node tools/pocketlm.mjs bench ... (the WASI build, build/wasi/pocketlm.wasm), 1 thread
//   pocketlm-chromium  dist/pocketlm.js in headless Chromium (lib/browser.mjs, web/bench.js): load()'s variant
//   pocketlm-chromium-simd   the same with variant "simd" forced (the SIMD128 build Safari runs), 1 thread
//   pocketlm-firefox   dist/pocketlm.js in headless Firefox ESR, 1 thread; pocketlm-firefox-simd: "simd" forced
//   pocketlm-webkit    dist/pocketlm.js in WebKitGTK's MiniBrowser (JavaScriptCore, Safari's engine), 1 thread:
//                      no relaxed SIMD and no SharedArrayBuffer here, so load() picks "simd", as on an iPhone
//   wllama-chromium    @wllama/wllama in the same Chromium, same page setup
// Native targets, pocketlm-chromium and wllama run with 1 thread and with each --threads value (default 1,2; the
// machine has 2). The browsers are launched by tests/browser/engines.mjs (the project's node_modules).
//
// Models: build/bench/<shape>-<type>.gguf, made by build/native/gen-bench-model when missing (random weights,
// real shapes; docs/performance.md). If it cannot be built or run, the run falls back to the small real models in
// models/ and says so.
//
// Noise: every configuration is measured --reps times (default 3), interleaved — one run of each configuration
// in turn, the order reversed on every other round (A B C, C B A, A B C) so slow drift hits all alike — and the
// median is reported. Before each measurement the harness waits up to --quiet-wait seconds (default 20) for the
// machine to be quiet (under 25% of the CPU busy with other work) and records how busy it was; the report says
// when figures were taken on a busy machine. --quick: the first model only, one round.
//
// After them, tools/bench/store.mjs measures the ModelStore in Chromium (write MB/s, read-back, load from the store vs
// from an in-memory Blob); --no-store skips it.
//
// Output: progress on stderr; on stdout a Markdown section for docs/performance.md (per-engine medians and the
// ratios); all samples and the setup as JSON in build/bench/results.json.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PARAGRAPH } from "./lib/llamacpp.mjs";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, "..", "..");
let N_PROMPT = 128, N_DECODE = 64; // --prompt, --decode
const WARM_TEXT = "Once upon a time";
const DEV_MODELS = ["models/TinyStories-656K-Q8_0.gguf", "models/stories260K.gguf"];

const notes = [];
function log(msg) { process.stderr.write(`bench: ${msg}\n`); }
function note(msg) { if (!notes.includes(msg)) { notes.push(msg); log(`NOTE: ${msg}`); } }
const rel = (p) => path.relative(ROOT, p) || ".";

// ------------------------------------------------------------------ arguments
function usage(code) {
    const src = fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
    const end = src.findIndex((l, i) => i > 0 && !l.startsWith("//"));
    process.stderr.write(src.slice(1, end).map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
    process.exit(code);
}

function parseArgs(argv) {
    const o = {
        // one row per weight-type family (docs/weight-types.md), so a slow kernel shows
        quick: false, reps: 3, types: ["Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q3_K", "IQ4_XS", "Q5_0", "BF16"], shape: "110M", models: null,
        targets: ["pocketlm-native", "llama.cpp-native", "pocketlm-wasi", "pocketlm-chromium", "pocketlm-chromium-simd",
            "pocketlm-firefox", "pocketlm-firefox-simd", "pocketlm-webkit", "wllama-chromium"],
        threads: [1, 2], out: "build/bench/results.json", pocketlm: "build/native/pocketlm", install: true, quietWait: 20,
    };
    const list = (v) => v.split(",").map((s) => s.trim()).filter(Boolean);
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const val = () => {
            if (i + 1 >= argv.length) { log(`${a} needs a value`); usage(1); }
            return argv[++i];
        };
        if (a === "--quick") o.quick = true;
        else if (a === "--reps") o.reps = Number(val());
        else if (a === "--types") o.types = list(val());
        else if (a === "--shape") o.shape = val();
        else if (a === "--models") o.models = list(val());
        else if (a === "--targets") o.targets = list(val());
        else if (a === "--threads") o.threads = list(val()).map(Number);
        else if (a === "--out") o.out = val();
        else if (a === "--pocketlm") o.pocketlm = val();
        else if (a === "--no-install") o.install = false;
        else if (a === "--no-store") o.store = false;
        else if (a === "--quiet-wait") o.quietWait = Number(val());
        else if (a === "--prompt") o.prompt = Number(val());
        else if (a === "--decode") o.decode = Number(val());
        else if (a === "--report") o.report = val();
        else if (a === "-h" || a === "--help") usage(0);
        else { log(`unknown argument ${a}`); usage(1); }
    }
    if (!Number.isInteger(o.reps) || o.reps < 1) { log("--reps must be a positive integer"); usage(1); }
    if (!(o.quietWait >= 0)) { log("--quiet-wait takes seconds (>= 0)"); usage(1); }
    if (o.prompt !== undefined) {
        if (!(Number.isInteger(o.prompt) && o.prompt >= 2 && o.prompt <= 4096)) { log("--prompt takes 2..4096 tokens"); usage(1); }
        N_PROMPT = o.prompt;
    }
    if (o.decode !== undefined) {
        if (!(Number.isInteger(o.decode) && o.decode >= 1 && o.decode <= 4096)) { log("--decode takes 1..4096 steps"); usage(1); }
        N_DECODE = o.decode;
    }
    if (o.threads.some((t) => !Number.isInteger(t) || t < 1)) { log("--threads takes positive integers"); usage(1); }
    if (!o.threads.includes(1)) o.threads.unshift(1);
    o.threads = [...new Set(o.threads)].sort((a, b) => a - b);
    if (o.quick) o.reps = 1;
    return o;
}

// ------------------------------------------------------------------ helpers
function run(cmd, args, { timeoutMs = 10 * 60 * 1000, env } = {}) {
    return new Promise((resolve) => {
        const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "", stderr = "", timedOut = false;
        child.stdout.on("data", (d) => { stdout += d; });
        child.stderr.on("data", (d) => { stderr += d; });
        const timer = setTimeout(() => { timedOut = true; child.kill("SIGKILL"); }, timeoutMs);
        child.on("error", (e) => { clearTimeout(timer); resolve({ code: -1, signal: null, stdout, stderr: String(e), timedOut }); });
        child.on("close", (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr, timedOut }); });
    });
}

// the last line of stdout that parses as a JSON object
function lastJson(stdout) {
    for (const line of stdout.trim().split("\n").reverse()) {
        try { const v = JSON.parse(line); if (v && typeof v === "object") return v; } catch { /* not JSON */ }
    }
    return null;
}

async function runBenchCommand(cmd, args, opts) {
    const r = await run(cmd, args, opts);
    const j = lastJson(r.stdout);
    if (r.code === 0 && j && Number.isFinite(j.prefill_tok_s) && Number.isFinite(j.decode_tok_s)) return j;
    const why = r.timedOut ? "timed out" : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
    const lines = r.stderr.split("\n").map((l) => l.trim()).filter((l) => l && !/^loaded |^#\s*$/.test(l));
    const msg = (lines.find((l) => /error|fatal|abort/i.test(l)) ?? lines.pop() ?? "").replace(/^#\s*/, "").slice(0, 300);
    throw new Error(`${why}${msg ? `: ${msg}` : ""}`);
}

// share of the machine's CPU time that was busy over `ms` (from /proc/stat); the harness itself is idle then, so
// this is other people's work: the noise that the figures carry
function cpuTimes() {
    try {
        const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
        return { idle: f[3] + (f[4] || 0), total: f.reduce((a, b) => a + b, 0) };
    } catch { return null; }
}
async function busyShare(ms = 500) {
    const a = cpuTimes();
    await new Promise((r) => setTimeout(r, ms));
    const b = cpuTimes();
    if (!a || !b || b.total === a.total) return null;
    return 1 - (b.idle - a.idle) / (b.total - a.total);
}
// waits up to maxWaitS for the machine to be quiet (< 25% busy) and returns the busy share seen last; after three
// waits in a row that ran out, waits are cut to 3 s until the machine is seen quiet again (a machine busy for the
// whole run would otherwise add minutes of waiting and no quiet)
let fruitlessWaits = 0;
async function quietMoment(maxWaitS) {
    const until = Date.now() + (fruitlessWaits >= 3 ? Math.min(3, maxWaitS) : maxWaitS) * 1000;
    for (;;) {
        const busy = await busyShare();
        if (busy == null || busy < 0.25) { fruitlessWaits = 0; return busy; }
        if (Date.now() >= until) { fruitlessWaits++; return busy; }
    }
}

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function pkgVersion(dir) {
    try { return JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version; } catch { return null; }
}

// ------------------------------------------------------------------ setup steps
function ensureDeps(install) {
    const wanted = JSON.parse(fs.readFileSync(path.join(BENCH_DIR, "package.json"), "utf8")).devDependencies;
    const stale = Object.entries(wanted).filter(([name, v]) => pkgVersion(path.join(BENCH_DIR, "node_modules", name)) !== v);
    if (stale.length === 0) return true;
    if (!install) { note(`tools/bench/node_modules lacks ${stale.map(([n]) => n).join(", ")} (--no-install): peers may be skipped`); return false; }
    log(`installing the harness's peers (${stale.map(([n, v]) => `${n}@${v}`).join(", ")}): npm ci --prefix tools/bench`);
    // NODE_LLAMA_CPP_SKIP_DOWNLOAD: node-llama-cpp's postinstall never downloads or builds llama.cpp;
    // --omit=optional: only the linux-x64 CPU binaries (a direct devDependency), not the CUDA/Vulkan variants
    const r = spawnSync("npm", ["ci", "--prefix", BENCH_DIR, "--omit=optional", "--no-audit", "--no-fund"], {
        cwd: ROOT, stdio: ["ignore", 2, 2], env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" },
    });
    if (r.status !== 0) { note(`npm ci --prefix tools/bench failed (exit ${r.status}): llama.cpp and the browser targets are skipped`); return false; }
    return true;
}

function make(target) {
    log(`make ${target}`);
    const r = spawnSync("make", ["-s", target], { cwd: ROOT, stdio: ["ignore", 2, 2] });
    return r.status === 0;
}

function ensureNative(bin) {
    if (fs.existsSync(bin)) return true;
    if (bin === path.join(ROOT, "build/native/pocketlm") && make("native") && fs.existsSync(bin)) return true;
    note(`${rel(bin)} is missing and could not be built (make native): pocketlm native is skipped`);
    return false;
}

function ensureModels(o) {
    if (o.models) {
        const ok = o.models.map((m) => path.resolve(ROOT, m)).filter((m) => {
            if (fs.existsSync(m)) return true;
            note(`model ${m} does not exist: skipped`);
            return false;
        });
        return o.quick ? ok.slice(0, 1) : ok;
    }
    const types = o.quick ? o.types.slice(0, 1) : o.types;
    const gen = path.join(ROOT, "build/native/gen-bench-model");
    if (!fs.existsSync(gen)) make("build/native/gen-bench-model");
    const out = [];
    for (const type of types) {
        const file = path.join(ROOT, "build/bench", `${o.shape}-${type}.gguf`);
        // made again when the generator's source is newer than the file (not on every relink of the binary)
        const genSrc = path.join(ROOT, "tools/gen-bench-model.c");
        const srcTime = fs.statSync(genSrc).mtimeMs;
        if (fs.existsSync(file) && fs.statSync(file).mtimeMs >= srcTime) { out.push(file); continue; }
        if (!fs.existsSync(gen)) continue;
        fs.mkdirSync(path.dirname(file), { recursive: true });
        log(`generating ${rel(file)}: gen-bench-model --shape ${o.shape} --type ${type}`);
        const r = spawnSync(gen, ["--shape", o.shape, "--type", type, "-o", file], { cwd: ROOT, stdio: ["ignore", 2, 2] });
        if (r.status === 0 && fs.existsSync(file)) out.push(file);
        else { note(`gen-bench-model --shape ${o.shape} --type ${type} failed (exit ${r.status}): ${type} skipped`); fs.rmSync(file, { force: true }); }
    }
    if (out.length) return out;
    if (!fs.existsSync(gen)) note(`build/native/gen-bench-model could not be built: ` +
        `measuring the small real models in models/ instead of ${o.shape} ${types.join("/")} — figures for development only`);
    else note("no benchmark model could be generated: measuring the small models in models/ instead");
    const dev = DEV_MODELS.map((m) => path.join(ROOT, m)).filter((m) => fs.existsSync(m));
    return o.quick ? dev.slice(0, 1) : dev;
}

function machineInfo() {
    const cpus = os.cpus();
    let distro = null;
    try { distro = /PRETTY_NAME="([^"]+)"/.exec(fs.readFileSync("/etc/os-release", "utf8"))?.[1] ?? null; } catch { /* none */ }
    return {
        cpu: cpus[0]?.model ?? "unknown", cores: cpus.length, arch: os.arch(),
        memory_gib: Math.round(os.totalmem() / 2 ** 30), os: distro ?? `${os.type()} ${os.release()}`,
        node: process.version,
    };
}

// ------------------------------------------------------------------ targets
function defineTargets(o, state) {
    const pocketlmBin = path.resolve(ROOT, o.pocketlm);
    const T = o.threads;
    return [
        {
            id: "pocketlm-native", label: "pocketlm native", threads: T, where: "native",
            available: () => ensureNative(pocketlmBin),
            measure: (m, t) => runBenchCommand(pocketlmBin, ["bench", "-m", m, "-p", N_PROMPT, "-n", N_DECODE, "--threads", t].map(String)),
        },
        {
            id: "llama.cpp-native", label: "llama.cpp native", threads: T, where: "native",
            available: () => {
                if (state.deps && fs.existsSync(path.join(BENCH_DIR, "node_modules/node-llama-cpp"))) return true;
                note("node-llama-cpp is not installed in tools/bench: llama.cpp native is skipped");
                return false;
            },
            measure: (m, t) => runBenchCommand(process.execPath,
                [path.join(BENCH_DIR, "lib/llamacpp.mjs"), "bench", "-m", m, "-p", N_PROMPT, "-n", N_DECODE, "--threads", t].map(String)),
        },
        {
            id: "pocketlm-wasi", label: "pocketlm wasm (WASI, Node)", threads: [1], where: "wasm",
            available: () => {
                const missing = ["tools/pocketlm.mjs", "build/wasi/pocketlm.wasm"].filter((f) => !fs.existsSync(path.join(ROOT, f)));
                if (!missing.length) return true;
                note(`${missing.join(" and ")} missing (make wasi): pocketlm WASI under Node is skipped`);
                return false;
            },
            measure: (m, t) => runBenchCommand(process.execPath,
                [path.join(ROOT, "tools/pocketlm.mjs"), "bench", "-m", m, "-p", N_PROMPT, "-n", N_DECODE, "--threads", t].map(String)),
        },
        ...[
            ["pocketlm-chromium", "Chromium", "chromium", null, T],
            ["pocketlm-chromium-simd", "Chromium", "chromium", "simd", [1]],
            ["pocketlm-firefox", "Firefox", "firefox", null, [1]],
            ["pocketlm-firefox-simd", "Firefox", "firefox", "simd", [1]],
            ["pocketlm-webkit", "WebKitGTK", "webkit", null, [1]],
        ].map(([id, name, browser, variant, threads]) => ({
            id, label: `pocketlm wasm (${name}${variant ? `, ${variant} forced` : ""})`, threads, where: "browser", browser,
            available: () => {
                if (!fs.existsSync(path.join(ROOT, "dist/pocketlm.js"))) { note(`dist/pocketlm.js missing (make wasm): pocketlm in ${name} is skipped`); return false; }
                return state.browserOk(browser);
            },
            measure: (m, t, prompt) => state.browsers[browser].measure({ engine: "pocketlm", variant, modelPath: m, threads: t, text: prompt.text, warmText: WARM_TEXT, nDecode: N_DECODE, nCtx: browserCtx(), byteTokens: prompt.byte_tokens }),
        })),
        {
            id: "wllama-chromium", label: "wllama (Chromium)", threads: T, where: "browser", browser: "chromium",
            available: () => {
                if (!fs.existsSync(path.join(BENCH_DIR, "node_modules/@wllama/wllama/esm/wasm/wllama.wasm"))) {
                    note("@wllama/wllama is not installed in tools/bench: wllama is skipped");
                    return false;
                }
                return state.browserOk("chromium");
            },
            measure: (m, t, prompt) => state.browsers.chromium.measure({ engine: "wllama", modelPath: m, threads: t, text: prompt.text, warmText: WARM_TEXT, nDecode: N_DECODE, nCtx: browserCtx(), byteTokens: prompt.byte_tokens }),
        },
    ].filter((t) => o.targets.includes(t.id));
}

// the browser engines' context: prompt + decode + 1, rounded up to 256 as node-llama-cpp rounds llama.cpp's
const browserCtx = () => Math.ceil((N_PROMPT + N_DECODE + 1) / 256) * 256;

// the browser engines take text: a text of N_PROMPT - 1 tokens for this model (+ BOS), counted by llama.cpp's tokenizer
async function promptFor(model, depsOk) {
    if (depsOk) {
        const r = await run(process.execPath, [path.join(BENCH_DIR, "lib/llamacpp.mjs"), "text", "-m", model, "--tokens", String(N_PROMPT - 1)]);
        const j = lastJson(r.stdout);
        if (r.code === 0 && j?.text) return j;
        note(`could not count prompt tokens for ${path.basename(model)} with llama.cpp's tokenizer: using an approximate text`);
    }
    return { text: PARAGRAPH.split(" ").slice(0, 90).join(" "), n_tokens: null, byte_tokens: [] };
}

// ------------------------------------------------------------------ report
const fmt = (x) => (x == null || !Number.isFinite(x) ? "—" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtRatio = (x) => (x == null || !Number.isFinite(x) ? "—" : x.toFixed(2));

function computeRatios(results, models) {
    const med = (model, target, threads) => results.find((r) => r.model === model && r.target === target && r.threads === threads)?.median ?? null;
    const defs = [
        { name: "pocketlm ÷ llama.cpp, native", a: "pocketlm-native", b: "llama.cpp-native" },
        { name: "pocketlm ÷ wllama, Chromium", a: "pocketlm-chromium", b: "wllama-chromium" },
        { name: "pocketlm Chromium ÷ pocketlm native (wasm cost)", a: "pocketlm-chromium", b: "pocketlm-native" },
        { name: "pocketlm WASI ÷ pocketlm native (wasm cost)", a: "pocketlm-wasi", b: "pocketlm-native", only1: true },
        { name: "wllama ÷ llama.cpp native (peer's wasm cost)", a: "wllama-chromium", b: "llama.cpp-native" },
        { name: "pocketlm Chromium: simd forced ÷ relaxed", a: "pocketlm-chromium-simd", b: "pocketlm-chromium" },
        { name: "pocketlm Firefox: simd forced ÷ relaxed", a: "pocketlm-firefox-simd", b: "pocketlm-firefox" },
        { name: "pocketlm Firefox ÷ Chromium", a: "pocketlm-firefox", b: "pocketlm-chromium" },
        { name: "pocketlm WebKit ÷ Chromium (Safari's engine ÷ Chrome's)", a: "pocketlm-webkit", b: "pocketlm-chromium" },
        { name: "pocketlm WebKit ÷ pocketlm native", a: "pocketlm-webkit", b: "pocketlm-native" },
    ];
    const threadsSeen = [...new Set(results.map((r) => r.threads))].sort((x, y) => x - y);
    const out = [];
    for (const d of defs) for (const t of threadsSeen) {
        if (d.only1 && t !== 1) continue;
        const row = { name: d.name, threads: t, models: {} };
        let any = false;
        for (const m of models) {
            const a = med(m.name, d.a, t), b = med(m.name, d.b, t);
            const r = a && b ? { prefill: a.prefill_tok_s / b.prefill_tok_s, decode: a.decode_tok_s / b.decode_tok_s } : null;
            row.models[m.name] = r;
            if (r) any = true;
        }
        if (any) out.push(row);
    }
    return out;
}

function markdown(report) {
    const { models, results, ratios } = report;
    const L = [];
    const date = report.generated_at.slice(0, 10);
    const mi = report.machine;
    L.push(`### ${date} — ${mi.cores}-core ${mi.arch === "x64" ? "x86-64" : mi.arch} (${mi.cpu}), shared and noisy`);
    L.push("");
    L.push(`Prompt ${N_PROMPT} tokens, then ${N_DECODE} decode steps; tokens per second, median of ${report.settings.reps} ` +
        `interleaved run${report.settings.reps > 1 ? "s" : ""}. Command: \`${report.command}\`.`);
    L.push("");
    const head = ["engine", "threads", ...models.flatMap((m) => [`${m.name} prefill`, `${m.name} decode`])];
    L.push(`| ${head.join(" | ")} |`);
    L.push(`|${head.map((_, i) => (i < 1 ? "---" : "---:")).join("|")}|`);
    const rows = [...new Set(results.map((r) => `${r.target}\t${r.threads}`))];
    for (const key of rows) {
        const [target, threads] = key.split("\t");
        const any = results.find((r) => r.target === target && r.threads === Number(threads));
        const cells = models.flatMap((m) => {
            const r = results.find((x) => x.model === m.name && x.target === target && x.threads === Number(threads));
            return [fmt(r?.median?.prefill_tok_s), fmt(r?.median?.decode_tok_s)];
        });
        // the variant load() picked in a browser (the forced ones say so in their label)
        const inBrowser = target.startsWith("pocketlm-") && !/native|wasi|-simd$/.test(target);
        const variants = [...new Set(results.filter((r) => r.target === target && r.threads === Number(threads) && r.info?.backend)
            .map((r) => r.info.backend))];
        L.push(`| ${any.label}${inBrowser && variants.length ? `: ${variants.join("/")}` : ""} | ${threads} | ${cells.join(" | ")} |`);
    }
    if (ratios.length) {
        L.push("");
        L.push("Ratios of the medians (> 1: the first is faster):");
        L.push("");
        const rh = ["ratio", "threads", ...models.flatMap((m) => [`${m.name} prefill`, `${m.name} decode`])];
        L.push(`| ${rh.join(" | ")} |`);
        L.push(`|${rh.map((_, i) => (i < 1 ? "---" : "---:")).join("|")}|`);
        for (const r of ratios) {
            const cells = models.flatMap((m) => [fmtRatio(r.models[m.name]?.prefill), fmtRatio(r.models[m.name]?.decode)]);
            L.push(`| ${r.name} | ${r.threads} | ${cells.join(" | ")} |`);
        }
    }
    L.push("");
    const sw = report.software;
    const plm = [sw.pocketlm_backend && `native kernels ${sw.pocketlm_backend}`, sw.pocketlm_chromium_variant && `Chromium variants ${sw.pocketlm_chromium_variant}`].filter(Boolean);
    L.push(`- Versions: pocketlm${plm.length ? ` (${plm.join(", ")})` : ""}; ${sw.llama_cpp ?? "llama.cpp: not run"}` +
        `${sw.llama_cpp_cpu_variant ? ` (CPU variant ${sw.llama_cpp_cpu_variant})` : ""}; @wllama/wllama ${sw.wllama ?? "—"}` +
        `${sw.wllama_libllama ? ` (${sw.wllama_libllama})` : ""}; Chromium ${sw.chromium ?? "—"}; Firefox ${sw.firefox ?? "—"}; ` +
        `WebKitGTK ${sw.webkitgtk ?? "—"}; Node ${mi.node}.`);
    const busy = results.flatMap((r) => r.samples.map((x) => x.busy_before)).filter((x) => x != null);
    if (busy.length) {
        const hot = busy.filter((x) => x >= 0.25).length;
        L.push(`- Other work on the machine, in the half second before each measurement: ${Math.round(Math.min(...busy) * 100)}% to ` +
            `${Math.round(Math.max(...busy) * 100)}% of the CPU busy` +
            (hot ? ` (${hot} of ${busy.length} measurements started on a busy machine: figures are noisy, 2-thread ones most).` : "."));
    }
    const spread = results.filter((r) => r.spread);
    const noisy = spread.filter((r) => r.spread.prefill > 0.15 || r.spread.decode > 0.15);
    if (noisy.length) {
        const worst = noisy.map((r) => ({ r, s: Math.max(r.spread.prefill, r.spread.decode) })).sort((a, b) => b.s - a.s).slice(0, 3);
        L.push(`- ${noisy.length} of ${spread.length} configurations spread by more than 15% between rounds ((max - min) / median); ` +
            `most: ${worst.map(({ r, s }) => `${r.label} ${r.threads}t on ${r.model} (${Math.round(s * 100)}%)`).join(", ")}. ` +
            "Every sample is in results.json.");
    }
    const mem = results.filter((r) => r.info?.wasm_memory_bytes && r.info.weight_bytes);
    if (mem.length) { // issue 12: peak wasm memory <= weights + KV cache + 64 MiB
        const MiB = (x) => (x / 2 ** 20).toFixed(1);
        L.push("- Peak wasm memory (pocketlm, after the measured run; weights + KV cache + the rest, which must stay " +
            "under 64 MiB): " + mem.map((r) => {
                const rest = r.info.wasm_memory_bytes - r.info.weight_bytes - r.info.kv_bytes;
                return `${r.model} ${r.label.replace(/^pocketlm /, "")} ${r.threads}t ${MiB(r.info.wasm_memory_bytes)} MiB = ` +
                    `${MiB(r.info.weight_bytes)} + ${MiB(r.info.kv_bytes)} + ${MiB(rest)}${rest > 64 * 2 ** 20 ? " (OVER)" : ""}`;
            }).join("; ") + ".");
    }
    const failed = results.filter((r) => r.errors.length);
    for (const r of failed) L.push(`- Failed: ${r.label} ${r.threads}t on ${r.model}: ${r.errors[0]}`);
    for (const n of report.notes) L.push(`- Skipped / note: ${n}`);
    return L.join("\n") + "\n";
}

// ------------------------------------------------------------------ main
async function main() {
    const o = parseArgs(process.argv.slice(2));
    if (o.report) { // print the Markdown of an earlier run again
        const report = JSON.parse(fs.readFileSync(path.resolve(ROOT, o.report), "utf8"));
        report.ratios = computeRatios(report.results, report.models);
        process.stdout.write(markdown(report));
        return;
    }
    const command = ["node", "tools/bench/run.mjs", ...process.argv.slice(2)].join(" ");
    const started = new Date();
    const loadStart = os.loadavg()[0];
    const state = { deps: ensureDeps(o.install), browser: null };
    state.browsers = {};
    const { unavailable } = await import("../../tests/browser/engines.mjs").catch((e) => {
        note(`tests/browser/engines.mjs cannot be loaded (${e.message.split("\n")[0]}; make js-deps): the browser targets are skipped`);
        return { unavailable: () => "no driver" };
    });
    state.browserOk = (name) => {
        const why = unavailable(name);
        if (why === "no driver") return false;
        if (why) { note(`${why}: the ${name} targets are skipped`); return false; }
        return true;
    };

    const models = ensureModels(o).map((p) => ({ name: path.basename(p, ".gguf"), path: p, bytes: fs.statSync(p).size }));
    if (!models.length) { log("no model to measure"); process.exit(1); }
    const targets = defineTargets(o, state).filter((t) => t.available());
    for (const name of new Set(targets.filter((t) => t.where === "browser").map((t) => t.browser))) {
        const { BrowserBench } = await import("./lib/browser.mjs");
        const b = new BrowserBench({ root: ROOT, benchDir: BENCH_DIR, browser: name, log });
        try { await b.start(); state.browsers[name] = b; log(`${name} ${b.version}`); }
        catch (e) {
            note(`${name} could not be started (${e.message.split("\n")[0]}): the ${name} targets are skipped`);
            await b.stop();
        }
    }
    const live = targets.filter((t) => t.where !== "browser" || state.browsers[t.browser]);
    const configs = live.flatMap((t) => t.threads.map((threads) => ({ target: t, threads })));
    log(`${models.length} model(s) × ${configs.length} configuration(s) × ${o.reps} round(s): ` +
        `${configs.map((c) => `${c.target.id}/${c.threads}t`).join(", ")}`);

    const results = [];
    try {
        for (const m of models) {
            const prompt = live.some((t) => t.where === "browser") ? await promptFor(m.path, state.deps) : null;
            if (prompt?.n_tokens != null && prompt.n_tokens !== N_PROMPT - 1)
                note(`${m.name}: the browser prompt is ${prompt.n_tokens} tokens + BOS, not ${N_PROMPT} (tokenizer round trip)`);
            const slots = configs.map((c) => {
                const r = { model: m.name, target: c.target.id, label: c.target.label, threads: c.threads, samples: [], errors: [], info: null };
                results.push(r);
                return { ...c, r };
            });
            for (let rep = 0; rep < o.reps; rep++) {
                const order = rep % 2 ? [...slots].reverse() : slots;
                for (const s of order) {
                    // a target that failed every time so far and twice already is broken, not unlucky: stop trying
                    if (s.r.errors.length >= 2 && !s.r.samples.length) continue;
                    const busy = await quietMoment(o.quietWait);
                    const load = os.loadavg()[0];
                    const t0 = Date.now();
                    try {
                        const res = await s.target.measure(m.path, s.threads, prompt);
                        s.r.samples.push({ prefill_tok_s: res.prefill_tok_s, decode_tok_s: res.decode_tok_s, busy_before: busy, load1: load, n_prompt: res.n_prompt, n_decode: res.n_decode });
                        const { prefill_tok_s, decode_tok_s, timings, model, ...info } = res;
                        s.r.info = info;
                        log(`${m.name} ${s.target.id} ${s.threads}t round ${rep + 1}: prefill ${fmt(res.prefill_tok_s)} tok/s, ` +
                            `decode ${fmt(res.decode_tok_s)} tok/s (${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
                            `machine ${busy == null ? "?" : Math.round(busy * 100)}% busy before, load ${load.toFixed(2)})`);
                    } catch (e) {
                        s.r.errors.push(e.message);
                        log(`${m.name} ${s.target.id} ${s.threads}t round ${rep + 1}: FAILED: ${e.message}`);
                    }
                }
            }
        }
    } finally {
        for (const b of Object.values(state.browsers)) await b.stop();
    }

    for (const r of results) {
        if (!r.samples.length) { r.median = null; continue; }
        const p = r.samples.map((s) => s.prefill_tok_s), d = r.samples.map((s) => s.decode_tok_s);
        r.median = { prefill_tok_s: median(p), decode_tok_s: median(d) };
        r.best = { prefill_tok_s: Math.max(...p), decode_tok_s: Math.max(...d) }; // noise only ever slows a run down
        r.spread = r.samples.length > 1 ? {
            prefill: (Math.max(...p) - Math.min(...p)) / r.median.prefill_tok_s,
            decode: (Math.max(...d) - Math.min(...d)) / r.median.decode_tok_s,
        } : null;
    }
    const info = (id) => results.find((r) => r.target === id && r.info)?.info ?? null;
    const report = {
        generated_at: started.toISOString(),
        finished_at: new Date().toISOString(),
        command,
        machine: { ...machineInfo(), load1_start: loadStart, load1_end: os.loadavg()[0] },
        software: {
            pocketlm_backend: info("pocketlm-native")?.backend ?? null,
            llama_cpp: info("llama.cpp-native")?.version ?? null,
            llama_cpp_cpu_variant: info("llama.cpp-native")?.backend ?? null,
            llama_cpp_settings: info("llama.cpp-native") ? {
                context_size: info("llama.cpp-native").context_size, batch_size: info("llama.cpp-native").batch_size,
                flash_attention: info("llama.cpp-native").flash_attention,
            } : null,
            pocketlm_chromium_variant: [...new Set(results.filter((r) => r.target === "pocketlm-chromium" && r.info?.backend)
                .map((r) => r.info.backend))].join(", ") || null,
            pocketlm_variants: Object.fromEntries(results.filter((r) => r.info?.backend && r.target.startsWith("pocketlm-"))
                .map((r) => [`${r.target} ${r.threads}t`, r.info.backend])),
            wllama: pkgVersion(path.join(BENCH_DIR, "node_modules/@wllama/wllama")),
            wllama_libllama: info("wllama-chromium")?.version ?? null,
            chromium: state.browsers.chromium?.version ?? null,
            firefox: state.browsers.firefox?.version ?? null,
            webkitgtk: state.browsers.webkit?.version ?? null,
            chromium_flags: state.browsers.chromium ? "headless, --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync, fresh profile, COOP/COEP" : null,
        },
        settings: { n_prompt: N_PROMPT, n_decode: N_DECODE, reps: o.reps, threads: o.threads, quick: o.quick, order: "interleaved, reversed every other round" },
        models: models.map((m) => ({ name: m.name, file: rel(m.path), bytes: m.bytes })),
        notes,
        results,
        ratios: null,
    };
    report.ratios = computeRatios(results, models);
    const outFile = path.resolve(ROOT, o.out);
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, JSON.stringify(report, null, 1) + "\n");
    log(`wrote ${rel(outFile)}`);
    process.stdout.write(markdown(report));
    if (o.store !== false && fs.existsSync(path.join(ROOT, "dist", "store.js"))) {
        log("the model store (tools/bench/store.mjs)");
        const r = spawnSync(process.execPath, [path.join(BENCH_DIR, "store.mjs"), "--reps", String(o.quick ? 1 : o.reps)],
            { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
        if (r.status === 0) process.stdout.write("\n" + r.stdout);
        else log(`NOTE: the store bench failed (exit ${r.status}): its figures are missing`);
    }
}

main().catch((e) => { log(e?.stack ?? String(e)); process.exit(1); });
