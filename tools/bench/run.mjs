#!/usr/bin/env node
// run.mjs — `make bench`: pocketlm beside its peers, on the same model files, in the same run.
//
//   node tools/bench/run.mjs [--quick] [--reps N] [--groups core,types,large] [--shape 110M,qwen2-0.5b]
//                            [--types Q8_0,Q4_0,...] [--targets pocketlm-native,chromium,...] [--models A.gguf,B.gguf]
//                            [--threads 1,2] [--out build/bench/results.json] [--pocketlm BIN] [--no-install]
//                            [--no-store] [--quiet-wait SECONDS] [--prompt N] [--decode N]
//   node tools/bench/run.mjs --report build/bench/results.json     # the Markdown of an earlier run, again
//
// The plan: three groups of measurements, each a shape, its types, the targets that run it and its work:
//   core    110M Q8_0 / Q4_0 / Q4_K, every target, 1 and --threads threads, prompt 128 + 64 decode steps: issue 12's
//           targets are judged on it (PASS / FAIL lines at the end of the report)
//   types   110M, one model per other weight-type family (Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q5_K Q6_K BF16 IQ4_NL IQ4_XS, and
//           Q4_K_M as tools/quantize mixes it): pocketlm native, llama.cpp native, pocketlm in Chromium; 1 thread,
//           prompt 64 + 32: a slow kernel shows as a low ratio on its row
//   large   qwen2-0.5b Q4_0 (0.42 B parameters, 234 MB: no cache holds it): pocketlm native, llama.cpp native,
//           pocketlm in Chromium (relaxed and simd), wllama; 1 thread, prompt 32 + 16
// Subsets, to iterate: --groups keeps those groups; --shape keeps the groups of those shapes (a shape no group has
// gets one with every target); --types keeps those types (a type no kept group lists is measured like the types
// group); --targets keeps targets by id or by any dash-separated part of one (`chromium`: the three Chromium
// targets; `native`; `simd`; `webkit`); --prompt / --decode set every group's work; --models measures those files
// with every target instead of the plan. --quick: the first model of each group, one round.
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
// real shapes; docs/performance.md); a _M / _S mixture is tools/quantize's preset applied to <shape>-F16.gguf. If
// none can be made, the run falls back to the small real models in models/ and says so.
//
// Noise: every configuration is measured --reps times (default 3), interleaved — one run of each configuration
// in turn, the order reversed on every other round (A B C, C B A, A B C) so slow drift hits all alike — and the
// median is reported. Before each measurement the harness waits up to --quiet-wait seconds (default 20) for the
// machine to be quiet (under 25% of the CPU busy with other work) and records how busy it was; the report says
// when figures were taken on a busy machine. While each runs, the runnable tasks in /proc/loadavg are sampled
// (ours included), so that the 2-thread ratio comes with the load it was taken under.
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
import { fmt, markdown, upgrade } from "./lib/report.mjs";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, "..", "..");
const CORE_TYPES = ["Q8_0", "Q4_0", "Q4_K"];
const OTHER_TYPES = ["Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q5_K", "Q6_K", "BF16", "IQ4_NL", "IQ4_XS", "Q4_K_M"];
const ALL_TARGETS = ["pocketlm-native", "llama.cpp-native", "pocketlm-wasi", "pocketlm-chromium", "pocketlm-chromium-simd",
    "pocketlm-firefox", "pocketlm-firefox-simd", "pocketlm-webkit", "wllama-chromium"];
// threads: "all" = 1 and --threads for the targets that take threads; [1] = one thread only
const PLAN = [
    { id: "core", title: "110M: the issue-12 types in every engine", shape: "110M", types: CORE_TYPES, targets: ALL_TARGETS,
        threads: "all", prompt: 128, decode: 64 },
    { id: "types", title: "110M: one row per weight-type family, 1 thread", shape: "110M", types: OTHER_TYPES, layout: "types",
        targets: ["pocketlm-native", "llama.cpp-native", "pocketlm-chromium"], threads: [1], prompt: 64, decode: 32, reps: 1 },
    { id: "large", title: "qwen2-0.5b (0.42 B parameters, 234 MB in Q4_0): weights beyond any cache, 1 thread", shape: "qwen2-0.5b",
        types: ["Q4_0"], targets: ["pocketlm-native", "llama.cpp-native", "pocketlm-chromium", "pocketlm-chromium-simd", "wllama-chromium"],
        threads: [1], prompt: 32, decode: 16, reps: 2 },
];
// reps: a group's rounds unless --reps is given (a slow kernel shows as a gap of 2-5x, not 10%: one round will do)
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
        quick: false, reps: null, types: null, shapes: null, groups: null, models: null, targets: null,
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
        else if (a === "--shape" || a === "--shapes") o.shapes = list(val());
        else if (a === "--groups" || a === "--group") o.groups = list(val());
        else if (a === "--models") o.models = list(val());
        else if (a === "--targets" || a === "--engines") o.targets = list(val());
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
    if (o.reps !== null && (!Number.isInteger(o.reps) || o.reps < 1)) { log("--reps must be a positive integer"); usage(1); }
    if (!(o.quietWait >= 0)) { log("--quiet-wait takes seconds (>= 0)"); usage(1); }
    if (o.prompt !== undefined) {
        if (!(Number.isInteger(o.prompt) && o.prompt >= 2 && o.prompt <= 4096)) { log("--prompt takes 2..4096 tokens"); usage(1); }
    }
    if (o.decode !== undefined) {
        if (!(Number.isInteger(o.decode) && o.decode >= 1 && o.decode <= 4096)) { log("--decode takes 1..4096 steps"); usage(1); }
    }
    if (o.threads.some((t) => !Number.isInteger(t) || t < 1)) { log("--threads takes positive integers"); usage(1); }
    if (!o.threads.includes(1)) o.threads.unshift(1);
    o.threads = [...new Set(o.threads)].sort((a, b) => a - b);
    if (o.quick) o.reps = 1;
    if (o.groups?.some((g) => !PLAN.some((p) => p.id === g))) { log(`--groups takes ${PLAN.map((p) => p.id).join(", ")}`); usage(1); }
    const unknown = (o.targets ?? []).filter((w) => !ALL_TARGETS.some((t) => targetMatches(t, [w])));
    if (unknown.length) { log(`--targets: no target is called ${unknown.join(", ")} (${ALL_TARGETS.join(", ")})`); usage(1); }
    return o;
}

// `chromium` keeps pocketlm-chromium, pocketlm-chromium-simd and wllama-chromium; a whole id keeps that one
const targetMatches = (id, words) => words.some((w) => w === id || id.split("-").includes(w));

// the plan after the subset options: [{ ...group, types, targets, threads, prompt, decode }]
function makePlan(o) {
    const threadsOf = (g) => (g.threads === "all" ? o.threads : g.threads);
    if (o.models) return [{ id: "models", title: "the given models", models: o.models, targets: ALL_TARGETS, threads: o.threads, prompt: 128, decode: 64 }]
        .map((g) => ({ ...g, reps: o.reps ?? 3, prompt: o.prompt ?? g.prompt, decode: o.decode ?? g.decode, targets: o.targets ? g.targets.filter((t) => targetMatches(t, o.targets)) : g.targets }));
    let groups = PLAN.filter((g) => (!o.groups || o.groups.includes(g.id)) && (!o.shapes || o.shapes.includes(g.shape)));
    for (const shape of o.shapes ?? []) { // a shape of gen-bench-model's that no group measures: every target on it
        if (!groups.some((g) => g.shape === shape)) groups.push({ ...PLAN[0], id: `shape-${shape}`, title: `${shape}`, shape, types: ["Q4_0"] });
    }
    if (o.types) {
        const kept = groups.map((g) => ({ ...g, types: g.types.filter((t) => o.types.includes(t)) }));
        const orphans = o.types.filter((t) => !kept.some((g) => g.types.includes(t)));
        groups = kept.filter((g) => g.types.length);
        for (const shape of [...new Set((o.shapes ?? [PLAN[1].shape]))]) {
            if (orphans.length) groups.push({ ...PLAN[1], id: `types-${shape}`, shape, title: `${shape}: the types asked for`, types: orphans });
        }
    }
    return groups.map((g) => ({
        ...g, threads: threadsOf(g), prompt: o.prompt ?? g.prompt, decode: o.decode ?? g.decode, reps: o.reps ?? g.reps ?? 3,
        types: o.quick ? g.types.slice(0, 1) : g.types,
        targets: o.targets ? g.targets.filter((t) => targetMatches(t, o.targets)) : g.targets,
    })).filter((g) => g.targets.length);
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

// samples the runnable tasks (/proc/loadavg's fourth field, "running/total") every 250 ms until stop(), which
// returns their mean (ours included: each engine thread, and this sampler while it reads), or null
function watchRunnable() {
    const seen = [];
    const read = () => {
        try { seen.push(Number(fs.readFileSync("/proc/loadavg", "utf8").split(" ")[3].split("/")[0])); } catch { /* none */ }
    };
    const timer = setInterval(read, 250);
    return { stop: () => { clearInterval(timer); return seen.length ? seen.reduce((a, b) => a + b, 0) / seen.length : null; } };
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

// the files of a group: [{ name, type, path, bytes }]
function ensureModels(g) {
    if (g.models) {
        return g.models.map((m) => path.resolve(ROOT, m)).filter((m) => {
            if (fs.existsSync(m)) return true;
            note(`model ${m} does not exist: skipped`);
            return false;
        }).map((p) => ({ name: path.basename(p, ".gguf"), type: null, path: p, bytes: fs.statSync(p).size }));
    }
    const out = [];
    for (const type of g.types) {
        const file = modelFile(g.shape, type);
        if (file) out.push({ name: `${g.shape}-${type}`, type, path: file, bytes: fs.statSync(file).size });
    }
    return out;
}

// build/bench/<shape>-<type>.gguf, made when missing or older than the generator's source (not on every relink);
// a preset with a suffix (Q4_K_M) is tools/quantize's mixture of the shape's F16 file. null when it cannot be made.
function modelFile(shape, type) {
    const file = path.join(ROOT, "build/bench", `${shape}-${type}.gguf`);
    const srcTime = fs.statSync(path.join(ROOT, "tools/gen-bench-model.c")).mtimeMs;
    if (fs.existsSync(file) && fs.statSync(file).mtimeMs >= srcTime) return file;
    const preset = /_[MSL]$/.test(type);
    const tool = path.join(ROOT, "build/native", preset ? "quantize" : "gen-bench-model");
    if (!fs.existsSync(tool)) make(rel(tool));
    if (!fs.existsSync(tool)) { note(`${rel(tool)} could not be built: ${shape}-${type} skipped`); return null; }
    const base = preset ? modelFile(shape, "F16") : null;
    if (preset && !base) return null;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const args = preset ? [base, file + ".tmp", type] : ["--shape", shape, "--type", type, "-o", file + ".tmp"];
    log(`generating ${rel(file)}: ${path.basename(tool)} ${args.map((x) => rel(path.resolve(ROOT, x))).join(" ")}`);
    const r = spawnSync(tool, args, { cwd: ROOT, stdio: ["ignore", 2, 2] });
    if (r.status === 0 && fs.existsSync(file + ".tmp")) { fs.renameSync(file + ".tmp", file); return file; }
    note(`${path.basename(tool)} for ${shape}-${type} failed (exit ${r.status}): skipped`);
    fs.rmSync(file + ".tmp", { force: true });
    return null;
}

function devModels() {
    note("no benchmark model could be generated: measuring the small models in models/ instead — figures for development only");
    return DEV_MODELS.map((m) => path.join(ROOT, m)).filter((m) => fs.existsSync(m))
        .map((p) => ({ name: path.basename(p, ".gguf"), type: null, path: p, bytes: fs.statSync(p).size }));
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
            measure: (m, t, _, g) => runBenchCommand(pocketlmBin, ["bench", "-m", m, "-p", g.prompt, "-n", g.decode, "--threads", t].map(String)),
        },
        {
            id: "llama.cpp-native", label: "llama.cpp native", threads: T, where: "native",
            available: () => {
                if (state.deps && fs.existsSync(path.join(BENCH_DIR, "node_modules/node-llama-cpp"))) return true;
                note("node-llama-cpp is not installed in tools/bench: llama.cpp native is skipped");
                return false;
            },
            measure: (m, t, _, g) => runBenchCommand(process.execPath,
                [path.join(BENCH_DIR, "lib/llamacpp.mjs"), "bench", "-m", m, "-p", g.prompt, "-n", g.decode, "--threads", t].map(String)),
        },
        {
            id: "pocketlm-wasi", label: "pocketlm wasm (WASI, Node)", threads: [1], where: "wasm",
            available: () => {
                const missing = ["tools/pocketlm.mjs", "build/wasi/pocketlm.wasm"].filter((f) => !fs.existsSync(path.join(ROOT, f)));
                if (!missing.length) return true;
                note(`${missing.join(" and ")} missing (make wasi): pocketlm WASI under Node is skipped`);
                return false;
            },
            measure: (m, t, _, g) => runBenchCommand(process.execPath,
                [path.join(ROOT, "tools/pocketlm.mjs"), "bench", "-m", m, "-p", g.prompt, "-n", g.decode, "--threads", t].map(String)),
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
            measure: (m, t, prompt, g) => state.browsers[browser].measure({ engine: "pocketlm", variant, modelPath: m, threads: t, text: prompt.text, warmText: WARM_TEXT, nDecode: g.decode, nCtx: browserCtx(g), byteTokens: prompt.byte_tokens }),
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
            measure: (m, t, prompt, g) => state.browsers.chromium.measure({ engine: "wllama", modelPath: m, threads: t, text: prompt.text, warmText: WARM_TEXT, nDecode: g.decode, nCtx: browserCtx(g), byteTokens: prompt.byte_tokens }),
        },
    ].filter((t) => o.plan.some((g) => g.targets.includes(t.id)));
}

// the browser engines' context: prompt + decode + 1, rounded up to 256 as node-llama-cpp rounds llama.cpp's
const browserCtx = (g) => Math.ceil((g.prompt + g.decode + 1) / 256) * 256;

// the browser engines take text: a text of nPrompt - 1 tokens for this model (+ BOS), counted by llama.cpp's tokenizer
async function promptFor(model, nPrompt, depsOk) {
    if (depsOk) {
        const r = await run(process.execPath, [path.join(BENCH_DIR, "lib/llamacpp.mjs"), "text", "-m", model, "--tokens", String(nPrompt - 1)]);
        const j = lastJson(r.stdout);
        if (r.code === 0 && j?.text) return j;
        note(`could not count prompt tokens for ${path.basename(model)} with llama.cpp's tokenizer: using an approximate text`);
    }
    return { text: PARAGRAPH.split(" ").slice(0, Math.round(nPrompt * 0.7)).join(" "), n_tokens: null, byte_tokens: [] };
}

// ------------------------------------------------------------------ main
async function main() {
    const o = parseArgs(process.argv.slice(2));
    if (o.report) { // print the Markdown of an earlier run again
        const report = upgrade(JSON.parse(fs.readFileSync(path.resolve(ROOT, o.report), "utf8")));
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

    o.plan = makePlan(o);
    if (!o.plan.length) { log("the subset options leave nothing to measure"); process.exit(1); }
    for (const g of o.plan) g.files = ensureModels(g);
    if (!o.plan.some((g) => g.files.length)) o.plan = [{ ...o.plan[0], id: "dev", title: "small real models (development only)", layout: null, files: devModels() }];
    if (!o.plan.some((g) => g.files.length)) { log("no model to measure"); process.exit(1); }
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
    const configsOf = (g) => live.filter((t) => g.targets.includes(t.id))
        .flatMap((t) => t.threads.filter((n) => g.threads.includes(n)).map((threads) => ({ target: t, threads })));
    for (const g of o.plan) {
        log(`${g.id}: ${g.files.length} model(s) × ${configsOf(g).length} configuration(s) × ${g.reps} round(s): ` +
            `${configsOf(g).map((c) => `${c.target.id}/${c.threads}t`).join(", ")}`);
    }

    const results = [];
    try {
        for (const g of o.plan) for (const m of g.files) {
            const configs = configsOf(g);
            const prompt = configs.some((c) => c.target.where === "browser") ? await promptFor(m.path, g.prompt, state.deps) : null;
            if (prompt?.n_tokens != null && prompt.n_tokens !== g.prompt - 1)
                note(`${m.name}: the browser prompt is ${prompt.n_tokens} tokens + BOS, not ${g.prompt} (tokenizer round trip)`);
            const slots = configs.map((c) => {
                const r = { group: g.id, model: m.name, type: m.type, target: c.target.id, label: c.target.label, threads: c.threads, samples: [], errors: [], info: null };
                results.push(r);
                return { ...c, r };
            });
            for (let rep = 0; rep < g.reps; rep++) {
                const order = rep % 2 ? [...slots].reverse() : slots;
                for (const s of order) {
                    // a target that failed every time so far and twice already is broken, not unlucky: stop trying
                    if (s.r.errors.length >= 2 && !s.r.samples.length) continue;
                    const busy = await quietMoment(o.quietWait);
                    const load = os.loadavg()[0];
                    const t0 = Date.now();
                    const watch = watchRunnable();
                    try {
                        const res = await s.target.measure(m.path, s.threads, prompt, g);
                        const runnable = watch.stop();
                        s.r.samples.push({ prefill_tok_s: res.prefill_tok_s, decode_tok_s: res.decode_tok_s, busy_before: busy, load1: load,
                            runnable_mean: runnable, load1_after: os.loadavg()[0], n_prompt: res.n_prompt, n_decode: res.n_decode });
                        const { prefill_tok_s, decode_tok_s, timings, model, ...info } = res;
                        s.r.info = info;
                        log(`${m.name} ${s.target.id} ${s.threads}t round ${rep + 1}: prefill ${fmt(res.prefill_tok_s)} tok/s, ` +
                            `decode ${fmt(res.decode_tok_s)} tok/s (${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
                            `machine ${busy == null ? "?" : Math.round(busy * 100)}% busy before, load ${load.toFixed(2)}, ` +
                            `runnable ${runnable == null ? "?" : runnable.toFixed(1)})`);
                    } catch (e) {
                        watch.stop();
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
        settings: { reps: o.reps, threads: o.threads, quick: o.quick, order: "interleaved, reversed every other round" },
        groups: o.plan.map((g) => ({ id: g.id, title: g.title, shape: g.shape, layout: g.layout ?? null, prompt: g.prompt, decode: g.decode, reps: g.reps,
            threads: g.threads, targets: g.targets, models: g.files.map((m) => ({ name: m.name, type: m.type, file: rel(m.path), bytes: m.bytes })) })),
        notes,
        results,
    };
    const outFile = path.resolve(ROOT, o.out);
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, JSON.stringify(report, null, 1) + "\n");
    log(`wrote ${rel(outFile)}`);
    process.stdout.write(markdown(report));
    if (o.store !== false && fs.existsSync(path.join(ROOT, "dist", "store.js"))) {
        log("the model store (tools/bench/store.mjs)");
        const r = spawnSync(process.execPath, [path.join(BENCH_DIR, "store.mjs"), "--reps", String(o.quick ? 1 : o.reps ?? 3)],
            { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
        if (r.status === 0) process.stdout.write("\n" + r.stdout);
        else log(`NOTE: the store bench failed (exit ${r.status}): its figures are missing`);
    }
}

main().catch((e) => { log(e?.stack ?? String(e)); process.exit(1); });
