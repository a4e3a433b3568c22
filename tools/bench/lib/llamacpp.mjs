#!/usr/bin/env node
// llamacpp.mjs — llama.cpp (native, CPU) as a benchmark peer, through node-llama-cpp's prebuilt binaries.
//
//   node tools/bench/lib/llamacpp.mjs bench -m MODEL.gguf [-p 128] [-n 64] [--threads N]
//       one JSON line, the same fields as `pocketlm bench`: prefill_tok_s, decode_tok_s, ...
//   node tools/bench/lib/llamacpp.mjs text -m MODEL.gguf [--tokens 127]
//       one JSON line {text, n_tokens, byte_tokens}: a plain-English text that this model's tokenizer turns into
//       exactly --tokens tokens (BOS not counted; the browser engines take text, not token ids), and the ids of
//       the model's byte tokens
//
// The measurement mirrors tools/pocketlm.c cmd_bench so that both do the same work:
//   - the same 128 prompt ids (the same 64-bit LCG, seed 42, id = (x >> 33) % n_vocab), evaluated as one batch;
//     prefill time = that batch, plus greedy sampling of the next token (a few microseconds);
//   - then 64 decode steps, each evaluating one token and sampling the next one greedily;
//   - a fresh context sized like pocketlm's (prompt + decode + 1, rounded up by node-llama-cpp to 256),
//     batch size = context size (>= 128, so the prompt is one batch), flash attention and KV cache types left
//     at their defaults ("auto" -> llama.cpp enables flash attention on CPU; K/V f16);
//   - weights read into memory at load (useMmap: false), as pocketlm does, so page faults of a memory-mapped
//     file are not charged to the first prefill; no warm-up run (pocketlm bench has none either).
// Wall-clock time is taken in JavaScript around each evaluation; node-llama-cpp's per-call overhead is well
// under a millisecond, against tens of milliseconds per token on a 110M model.
//
// getLlama({gpu: false, build: "never", skipDownload: true}): prebuilt CPU binaries only, never a download or
// a compile (see tools/record-reference.mjs for the same setup).

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BENCH_DIR = path.dirname(HERE);

function die(msg) {
    process.stderr.write(`llamacpp.mjs: ${msg}\n`);
    process.exit(1);
}

function parseArgs(argv) {
    const o = { cmd: argv[0], p: 128, n: 64, threads: 1, tokens: 127 };
    for (let i = 1; i < argv.length; i++) {
        const a = argv[i], v = argv[i + 1];
        if (a === "-m") o.model = v, i++;
        else if (a === "-p") o.p = Number(v), i++;
        else if (a === "-n") o.n = Number(v), i++;
        else if (a === "--threads") o.threads = Number(v), i++;
        else if (a === "--tokens") o.tokens = Number(v), i++;
        else die(`unknown argument ${a}`);
    }
    if (!o.model) die("-m MODEL.gguf is required");
    if (!fs.existsSync(o.model)) die(`no such model: ${o.model}`);
    for (const k of ["p", "n", "threads", "tokens"])
        if (!Number.isInteger(o[k]) || o[k] < (k === "n" ? 0 : 1)) die(`bad value for ${k}: ${o[k]}`);
    return o;
}

async function loadNlc() {
    const req = createRequire(path.join(BENCH_DIR, "package.json"));
    let resolved;
    try { resolved = req.resolve("node-llama-cpp"); }
    catch { die(`node-llama-cpp is not installed: run NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --omit=optional --prefix ${path.relative(process.cwd(), BENCH_DIR) || "."}`); }
    const pkgDir = resolved.slice(0, resolved.lastIndexOf(`${path.sep}dist${path.sep}`));
    const version = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
    return { mod: await import(pathToFileURL(resolved).href), version };
}

// llama.cpp's LLAMA_COMMIT string, stored just before the build-info format string (best effort)
function findCommit(libDir) {
    try {
        const buf = fs.readFileSync(path.join(libDir, "libllama-common.so")).toString("latin1");
        const at = buf.indexOf("\0version: %s (build %d, commit %s)");
        if (at < 0) return null;
        const m = /\0([0-9a-f]{7,40})\0*$/.exec(buf.slice(Math.max(0, at - 64), at));
        return m ? m[1] : null;
    } catch { return null; }
}

// the prompt ids of tools/pocketlm.c cmd_bench
export function benchPromptIds(n, nVocab) {
    const ids = [];
    let x = 42n;
    const mask = (1n << 64n) - 1n;
    for (let i = 0; i < n; i++) {
        x = (x * 6364136223846793005n + 1442695040888963407n) & mask;
        ids.push(Number((x >> 33n) % BigInt(nVocab)));
    }
    return ids;
}

// plain text for the browser engines; any text costs the same per token, this one just reads as text
export const PARAGRAPH =
    "Once upon a time, in a small town near the sea, there lived an old clockmaker named Arthur. Every morning he " +
    "opened his shop at seven, wound the tall clock by the door, and swept the floor while the kettle boiled. " +
    "Children stopped at the window to watch the tiny gears turn, and fishermen brought him compasses that the " +
    "salt had frozen. One winter a girl called Mira came in with a broken music box that had belonged to her " +
    "grandmother. The spring was rusted, two teeth of the comb were missing, and the little dancer had lost an arm. " +
    "Arthur said it would take a week. It took a month, because he had to cut new teeth from a spoon and tune each " +
    "one by ear, late at night, when the street was quiet and the only sound was the ticking of forty clocks. ";

async function main() {
    const o = parseArgs(process.argv.slice(2));
    if (o.cmd !== "bench" && o.cmd !== "text") die("usage: llamacpp.mjs bench|text -m MODEL.gguf [...]");
    const nlc = await loadNlc();
    const { getLlama, LlamaLogLevel } = nlc.mod;
    const logs = [];
    const llama = await getLlama({
        gpu: false, build: "never", skipDownload: true, usePrebuiltBinaries: true, progressLogs: false,
        maxThreads: o.threads,
        logLevel: LlamaLogLevel.debug,
        logger: (level, message) => {
            logs.push(message);
            if (level === "error" || level === "fatal") process.stderr.write(`[llama.cpp ${level}] ${message}\n`);
        },
    });
    if (llama.gpu !== false) die(`expected the CPU backend, got gpu=${llama.gpu}`);
    const modelPath = path.resolve(o.model);

    if (o.cmd === "text") {
        const model = await llama.loadModel({ modelPath, gpuLayers: 0, vocabOnly: true });
        let toks = [];
        let para = PARAGRAPH;
        while ((toks = model.tokenize(para, false)).length < o.tokens) para += PARAGRAPH;
        let text = model.detokenize(toks.slice(0, o.tokens), false);
        // a cut between two tokens usually re-tokenizes to the same tokens; make sure it does
        for (let i = 0; i < 8; i++) {
            const t = model.tokenize(text, false);
            if (t.length === o.tokens) break;
            text = model.detokenize(t.slice(0, Math.min(o.tokens, t.length)), false).trimEnd();
        }
        // byte tokens (<0x80> ...) of a random-weight model make invalid UTF-8, which wllama cannot return
        // as JSON: the browser run bans them from sampling (they cost nothing to leave out)
        const meta = model.fileInfo.metadata;
        const nVocab = meta?.tokenizer?.ggml?.tokens?.length ?? 0;
        const byteTokens = [];
        for (let t = 0; t < nVocab; t++) if (model.getTokenAttributes(t).byte) byteTokens.push(t);
        process.stdout.write(JSON.stringify({ text, n_tokens: model.tokenize(text, false).length, byte_tokens: byteTokens }) + "\n");
        await model.dispose();
        await llama.dispose();
        return;
    }

    const model = await llama.loadModel({ modelPath, gpuLayers: 0, useMmap: false });
    const meta = model.fileInfo.metadata;
    const nVocab = meta?.tokenizer?.ggml?.tokens?.length ?? meta?.[meta?.general?.architecture]?.vocab_size;
    if (!nVocab) die("cannot tell the vocabulary size of the model");
    const logStart = logs.length;
    const ctx = await model.createContext({
        contextSize: o.p + o.n + 1,
        batchSize: o.p + o.n + 1, // capped at the context size by node-llama-cpp; >= o.p: the prompt is one batch
        sequences: 1,
        threads: { ideal: o.threads, min: o.threads },
        // flashAttention, kvCacheKeyType/ValueType: defaults
    });
    const seq = ctx.getSequence();
    const ids = benchPromptIds(o.p, nVocab);
    const gen = { generateNext: { token: true, options: { temperature: 0 } } };

    const t0 = performance.now();
    let out = await seq.controlledEvaluate([...ids.slice(0, -1), [ids[ids.length - 1], gen]]);
    const t1 = performance.now();
    let tok = out[out.length - 1]?.next?.token;
    if (tok == null) die("llama.cpp returned no token after the prompt");
    for (let i = 0; i < o.n; i++) {
        out = await seq.controlledEvaluate([[tok, gen]]);
        tok = out[0]?.next?.token;
        if (tok == null) die(`llama.cpp returned no token at decode step ${i}`);
    }
    const t2 = performance.now();

    const ctxLogs = logs.slice(logStart).join("\n");
    const fa = /Flash Attention (enabled|disabled)/i.exec(ctxLogs)?.[1]
        ?? /flash_attn\s*=\s*(\w+)/.exec(ctxLogs)?.[1] ?? "unknown";
    const backendLine = logs.find((l) => l.includes("loaded CPU backend from"));
    const libPath = backendLine ? backendLine.trim().split(/\s+/).pop() : null;
    const r = llama.llamaCppRelease;
    const commit = libPath ? findCommit(path.dirname(libPath)) : null;
    process.stdout.write(JSON.stringify({
        model: o.model,
        engine: "llama.cpp",
        version: `node-llama-cpp ${nlc.version}, llama.cpp ${r.repo} ${r.release}` + (commit ? ` (commit ${commit})` : ""),
        backend: libPath ? path.basename(libPath).replace(/^libggml-|\.so$/g, "") : "cpu",
        threads: o.threads,
        n_prompt: o.p,
        n_decode: o.n,
        prefill_tok_s: Number((o.p / ((t1 - t0) / 1000)).toFixed(2)),
        decode_tok_s: o.n > 0 ? Number((o.n / ((t2 - t1) / 1000)).toFixed(2)) : 0,
        context_size: ctx.contextSize,
        batch_size: ctx.batchSize,
        flash_attention: `${ctx.flashAttention} -> ${fa.toLowerCase()}`,
    }) + "\n");
    await ctx.dispose();
    await model.dispose();
    await llama.dispose();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    main().catch((e) => die(e?.stack ?? String(e)));
}
