#!/usr/bin/env node
// record-reference.mjs — record llama.cpp's own outputs as pocketlm conformance data.
//
// Not run by the tests: the tests only read what this wrote into tests/data/conformance/.
// It runs llama.cpp through the npm package node-llama-cpp (prebuilt CPU binaries from the
// npm registry; nothing is downloaded or compiled at run time). node-llama-cpp is NOT a
// project dependency; make it resolvable first, either in the project root:
//   NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm i --no-save --omit=optional node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1
// or in any folder DIR, then run this script with NODE_PATH=DIR/node_modules:
//   cd DIR && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm i --omit=optional node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1
// (~85 MB). The prebuilt llama.cpp binaries are in @node-llama-cpp/linux-x64 (elsewhere: the
// package for that platform); --omit=optional keeps the CUDA/Vulkan variants out. The package's
// postinstall (npm 11 skips it unless approved) is a no-op with NODE_LLAMA_CPP_SKIP_DOWNLOAD=true,
// and getLlama below uses build: "never", so llama.cpp is never downloaded or compiled.
//
// Setup, identical to models/REFERENCE.json: getLlama({gpu: false, build: "never",
// skipDownload: true}), 1 thread, context 512, batch 512, flash attention left at
// node-llama-cpp's default "auto" (llama.cpp resolves it to enabled on CPU), KV cache f16,
// prompt = [BOS] + tokenize(prompt, special tokens NOT parsed, no BOS/EOS added),
// greedy sampling (temperature 0 -> llama.cpp's greedy sampler; no repeat/presence/
// frequency/DRY penalty, no XTC, no token bias, no grammar), a fresh context per case.
//
// Commands (run from the project root):
//   node tools/record-reference.mjs verify [models/REFERENCE.json]
//       re-generate every sample of REFERENCE.json and compare token by token (exit 1 on mismatch)
//   node tools/record-reference.mjs generate [options] MODEL.gguf [MODEL.gguf ...]
//       --prompt-set stories|random   built-in prompt lists (default: stories)
//       --prompts FILE.json           JSON array of prompt strings
//       --prompts-from CONF.json      reuse the prompts of an existing conformance file
//       --prompt TEXT                 (repeatable) explicit prompts
//       --n N                         new tokens per prompt (default 100)
//       --out-dir DIR                 default tests/data/conformance; file = <model file name>.json
//       --ctx N  --threads N  --batch N  --flash-attention auto|on|off  --no-stop-at-eog
//       --check-stable                re-run every case with 2 threads, and with batch sizes 1 and 3, and drop
//                                     (with a message) a case whose tokens differ: random-weight models have
//                                     near-ties that llama.cpp itself breaks differently
//   node tools/record-reference.mjs tokenize [--texts FILE.json] [--out-dir DIR] VOCAB.gguf [...]
//       vocab-only load; writes <out-dir>/tokenize-<vocab file name without .gguf>.json:
//       {generator, command, model, model_sha256, cases: [{text, tokens}]} (tokens without BOS);
//       also checks llama.cpp's own test vectors VOCAB.gguf.inp/.out when they sit beside it.
//       --corpus N: the built-in corpus (tricky strings, llama.cpp's test-tokenizer-0 strings, special-token texts,
//       N seeded random strings) with, per case, also `special` (parse_special=true), `detok` and `detok_special`
//
// The recorded data (see tests/data/conformance/README.md):
//   generate: {generator, command, model, model_sha256, n_new_tokens,
//              cases: [{prompt, prompt_tokens, greedy_tokens, text, stop}]}
//   prompt_tokens starts with BOS; greedy_tokens are the N new tokens (fewer only when an
//   end-of-generation token came first: it is then the last entry and stop is "eog");
//   text is the continuation as llama.cpp detokenizes it: detokenize(prompt_tokens + greedy_tokens)
//   minus detokenize(prompt_tokens) (llama_detokenize, remove_special=false, unparse_special=false:
//   control tokens such as BOS/EOS give "", user-defined tokens their text).

import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const NLC_WANTED_VERSION = "3.22.1";

// ---------------------------------------------------------------- prompt sets
const PROMPT_SETS = {
    // children's-story style, for stories260K / TinyStories-656K
    stories: [
        "Once upon a time",
        "The",
        "Lily and Ben went to the park. They saw a big dog",
        "Tom said, \"Can I play too?\"\nMom smiled and said,",
        "One day, 3 little birds found 12 red apples under a tree.",
        "The cat was very sad because",
        "Once upon a time, in a small town, there lived a kind old man who loved to grow flowers in his garden. Every morning he",
        "Timmy's dog wanted a bone. It ran to the kitchen and",
        "Tim was 5 years old. He had 2 red balls and 10 blue blocks. He",
    ],
    // general text, for the random-weight llama-2-tiny-random (32000-token vocab)
    random: [
        "Hello world",
        "The quick brown fox jumps over the lazy dog.",
        "Once upon a time",
        "1 + 2 = 3; naïve café, 日本語 🦙",
    ],
    // the random set and more, for the tiny generated models (gen-bench-model --shape llama3-tiny), some of whose
    // cases --check-stable may drop
    tiny: [
        "Hello world",
        "The quick brown fox jumps over the lazy dog.",
        "Once upon a time",
        "1 + 2 = 3; naïve café, 日本語 🦙",
        "In the beginning",
        "def main():\n    print(42)",
        "The capital of France is",
        "A B C D E F G",
        "It was a dark and stormy night; the rain fell in torrents",
        "Q: What is the answer?\nA:",
    ],
};

// tricky tokenizer inputs
const TOKENIZE_TEXTS = [
    "Hello world",
    " Hello world",
    "  two leading spaces",
    "multiple    spaces   inside  words",
    "trailing spaces   ",
    "tabs\tand\t\ttabs",
    "line1\nline2\r\nline3\n",
    "\n\n\n",
    "   \t  \n  mixed whitespace",
    " ",
    "a",
    "it's we'll they're I'd you've don't can't",
    "'s 'll 'S 'LL 're 've 'm 'd 't",
    "1234567890",
    "12345678901234567890123456789",
    "3.14159 and 2,718,281 and -42 and 1e10",
    "Hello123world456 x2y3",
    "naïve café résumé",
    "Ünïcödé ÀÉÎÕÜ ß ẞ åäö",
    "e\u0301 combining accent, and \u00a0non-breaking\u00a0space, zero\u200bwidth",
    "日本語のテキストです。",
    "中文分词测试：你好，世界！",
    "한국어 텍스트",
    "Привет, мир!",
    "مرحبا بالعالم",
    "emoji 🦙🚀👍🏽 and family 👨‍👩‍👧‍👦",
    "🤗",
    "supercalifragilisticexpialidocious",
    "pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "<s> </s> <unk> [INST] <|endoftext|>",
    "function foo(a, b) { return a+b; } // done",
    "http://example.com/path?q=1&r=2#frag",
    "!!!???... --- ***",
    "Once upon a time, there was a little girl named Lily.",
];

// --corpus: TOKENIZE_TEXTS, llama.cpp's own test-tokenizer-0 strings (models/vocab/*.inp), the special-token texts
// of the vocabularies recorded with it, and N seeded random strings from multilingual, whitespace, digit, code and
// emoji fragments (the same strings on every run)
const SPECIAL_TEXTS = [
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "<think>\n\n</think>\n\nOK", "<tool_call>{\"a\":1}</tool_call>",
    "<|endoftext|>", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", "<|end_of_text|>x",
    "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n", "<eos><pad><unk><mask>", "<unused0><unused99>",
    "<start_of_image><end_of_image>", "[multimodal]", "<b>bold</b> <i>it</i> <div><span>x</span></div>", "<s></s>",
    "a<|im_end|>b", " <|im_start|> ", "<|im_start|", "<|fim_prefix|>x<|fim_suffix|>y<|fim_middle|>",
    // Unicode 15.1 additions, letters and symbols to llama.cpp (pocketlm's tables were 15.0: they split differently)
    "\u{2EBF0}'s \u{2ED60}'t x\u{2EE5D}y, \u2FFC\u2FFD\u2FFE\u2FFF'd \u31EF'm",
];
const FRAGMENTS = [
    "the", " the", "Hello", " world", " World", "don't", "I'm", " it's", "'ll", "'S", "'VE", "we'Re",
    "Straße", " Füße", " naïve", " café", "ÉCOLE", " niño", " señor", "Ægir", "øre", "İstanbul", " ıi",
    "Привет", " мир", " Ёлка", "Ελληνικά", " γλώσσα", "שלום", " עולם", "مرحبا", " بالعالم", "नमस्ते", " दुनिया",
    "สวัสดี", "ภาษาไทย", "Xin chào", " Tiếng Việt", "日本語", "の", "テキスト", "カタカナ", "中文", "你好", "，", "。",
    "世界", "한국어", " 텍스트", "ㄱㄴ", "🦙", "🚀", "👍🏽", "👨‍👩‍👧‍👦", "😶‍🌫️", "🇫🇷", "✅", "❤️", "1", "42", "3.14",
    "1234567", "0x7fff", "1e-9", "٣٤", "①②", "½", " ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n",
    "\r\n", " \n", "\n ", "\u00a0", "\u3000", "\u200b", "\u2581", "\u2581\u2581", "e\u0301", "...", "!!", "?!", "--",
    "==", "->", "=>", "::", "{", "}", "()", "[]", "<", ">", "</", "/>", "\"", "'", "`", "```", "#", "@", "$", "%", "&&",
    "def f(x):", "\n    return x", "int main(void) {", " printf(\"%d\\n\", i);", "<div class=\"a\">", "SELECT * FROM t;",
    "https://example.com/a?b=1", "user@mail.org", "C:\\path\\file.txt", "¿Qué?", "¡Hola!", "«»", "“quoted”", "—",
    "…", "•", "©", "™", "€100", "£5", "¥", "°C", "±", "×", "÷", "∑", "∞", "≠", "√", "λ", "∀x", "𝔘𝔫𝔦", "𝟙",
    "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<|endoftext|>", "<|eot_id|>", "<start_of_turn>",
    "<end_of_turn>", "<bos>", "<eos>", "<s>", "</s>", "<unk>", "<pad>", "[INST]",
];

function xorshift(seed) {
    let x = seed >>> 0 || 1;
    return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

function randomTexts(n) {
    const rnd = xorshift(0x9e3779b9);
    const ranges = [[0x21, 0x7e], [0xa1, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x6ff], [0x900, 0x97f],
        [0xe00, 0xe7f], [0x1100, 0x11ff], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x1f300, 0x1f64f],
        [0x1f900, 0x1f9ff], [0x300, 0x36f], [0x2000, 0x206f], [0x10000, 0x1ffff]];
    const out = [];
    for (let i = 0; i < n; i++) {
        let s = "";
        const k = 1 + (rnd() % 24);
        for (let j = 0; j < k; j++) {
            if (rnd() % 4) s += FRAGMENTS[rnd() % FRAGMENTS.length];
            else {
                const [lo, hi] = ranges[rnd() % ranges.length];
                s += String.fromCodePoint(lo + (rnd() % (hi - lo + 1)));
            }
        }
        out.push(s);
    }
    return out;
}

function corpusTexts(nRandom) {
    const ggml = fs.readFileSync("models/vocab/ggml-vocab-gpt-2.gguf.inp", "utf8").split("\n__ggml_vocab_test__\n");
    const all = [...TOKENIZE_TEXTS, ...ggml, ...SPECIAL_TEXTS, ...randomTexts(nRandom)];
    return [...new Set(all)].filter((t) => t !== "");
}

// ---------------------------------------------------------------- helpers
function die(msg) {
    process.stderr.write(`record-reference: ${msg}\n`);
    process.exit(2);
}

async function loadNodeLlamaCpp() {
    const bases = [process.cwd() + path.sep, path.dirname(new URL(import.meta.url).pathname) + path.sep];
    const extra = (process.env.NODE_PATH ?? "").split(path.delimiter).filter(Boolean);
    for (const base of bases) {
        try {
            const req = createRequire(base);
            const resolved = req.resolve("node-llama-cpp", { paths: [base, ...extra] });
            const pkgDir = resolved.slice(0, resolved.lastIndexOf(`${path.sep}dist${path.sep}`));
            const version = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
            return { mod: await import(pathToFileURL(resolved).href), version, pkgDir };
        } catch (e) {
            if (e.code !== "MODULE_NOT_FOUND") throw e;
        }
    }
    die("node-llama-cpp not found: run `npm i --no-save node-llama-cpp@3.22.1` in the project root, " +
        "or set NODE_PATH to a node_modules folder that has it");
}

function sha256(file) {
    return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

// JSON with arrays of numbers kept on one line
// JSON.stringify(value, null, 1), except that arrays of integers (token ids) stay on one line
function toJson(value) {
    const put = (v, ind) => {
        if (Array.isArray(v)) {
            if (!v.length) return "[]";
            if (v.every(Number.isInteger)) return "[" + v.join(",") + "]";
            return "[\n" + v.map((x) => ind + " " + put(x, ind + " ")).join(",\n") + "\n" + ind + "]";
        }
        if (v && typeof v === "object" && typeof v.toJSON !== "function") {
            const keys = Object.keys(v).filter((k) => v[k] !== undefined && typeof v[k] !== "function");
            if (!keys.length) return "{}";
            return "{\n" + keys.map((k) => ind + " " + JSON.stringify(k) + ": " + put(v[k], ind + " ")).join(",\n") + "\n" + ind + "}";
        }
        return JSON.stringify(v);
    };
    return put(value, "") + "\n";
}

function writeJson(file, value) {
    const text = toJson(value);
    if (Buffer.byteLength(text) > 1024 * 1024)
        die(`${file} would be ${Buffer.byteLength(text)} bytes (> 1 MiB): use fewer prompts or tokens`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    process.stderr.write(`wrote ${file} (${Buffer.byteLength(text)} bytes)\n`);
}

function parseArgs(argv) {
    const opts = { positional: [], prompt: [] };
    const multi = new Set(["prompt"]);
    const flags = new Set(["no-stop-at-eog", "check-stable"]);
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (!a.startsWith("--")) { opts.positional.push(a); continue; }
        let key = a.slice(2), val;
        const eq = key.indexOf("=");
        if (eq >= 0) { val = key.slice(eq + 1); key = key.slice(0, eq); }
        else if (flags.has(key)) val = true;
        else { if (i + 1 >= argv.length) die(`${a} needs a value`); val = argv[++i]; }
        if (multi.has(key)) opts[key].push(val); else opts[key] = val;
    }
    return opts;
}

function shellQuote(s) {
    return /^[\w@%+=:,./-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'";
}

// ---------------------------------------------------------------- llama.cpp session
class Recorder {
    constructor(nlc, opts) {
        this.nlc = nlc;
        this.threads = Number(opts.threads ?? 1);
        this.ctxSize = Number(opts.ctx ?? 512);
        this.batchSize = Math.min(Number(opts.batch ?? 512), this.ctxSize);
        this.maxThreads = opts["check-stable"] ? Math.max(this.threads, 2) : this.threads;
        const fa = opts["flash-attention"] ?? "auto";
        if (!["auto", "on", "off"].includes(fa)) die("--flash-attention must be auto, on or off");
        this.faOption = fa === "auto" ? "auto" : fa === "on";
        this.logs = [];
    }

    async init() {
        const { getLlama, LlamaLogLevel } = this.nlc.mod;
        this.llama = await getLlama({
            gpu: false,            // CPU backend only
            build: "never",        // never compile llama.cpp: prebuilt binaries or fail
            skipDownload: true,    // never download llama.cpp sources
            usePrebuiltBinaries: true,
            progressLogs: false,
            maxThreads: this.maxThreads,
            logLevel: LlamaLogLevel.debug,
            logger: (level, message) => {
                this.logs.push(message);
                if ((level === "error" || level === "fatal") && !this.quietErrors) process.stderr.write(`[llama.cpp ${level}] ${message}\n`);
            },
        });
        if (this.llama.gpu !== false) die(`expected the CPU backend, got gpu=${this.llama.gpu}`);
        const backendLine = this.logs.find((l) => l.includes("loaded CPU backend from"));
        this.cpuBackend = backendLine ? path.basename(backendLine.trim().split(/\s+/).pop()) : "unknown";
        this.commit = this.findCommit(backendLine);
    }

    // best effort: llama.cpp's LLAMA_COMMIT string, stored just before the build-info format string
    findCommit(backendLine) {
        try {
            const dir = path.dirname(backendLine.trim().split(/\s+/).pop());
            const buf = fs.readFileSync(path.join(dir, "libllama-common.so")).toString("latin1");
            const at = buf.indexOf("\0version: %s (build %d, commit %s)");
            if (at < 0) return null;
            const m = /\0([0-9a-f]{7,40})\0*$/.exec(buf.slice(Math.max(0, at - 64), at));
            return m ? m[1] : null;
        } catch { return null; }
    }

    generatorInfo(extra = {}) {
        const r = this.llama.llamaCppRelease;
        return {
            tool: `node-llama-cpp ${this.nlc.version}`,
            llama_cpp: `${r.repo} release ${r.release}` + (this.commit ? ` (LLAMA_COMMIT ${this.commit})` : ""),
            binaries: `${this.llama.buildType}, ${this.cpuBackend}`,
            device: "CPU (gpu: false)",
            threads: this.threads,
            ...extra,
        };
    }

    async loadModel(modelPath, vocabOnly = false) {
        // for a vocab-only GGUF, node-llama-cpp's memory simulator first tries a full load that fails
        // ("missing tensor 'token_embd.weight'") and falls back to a heuristic: harmless, so keep it quiet
        this.quietErrors = vocabOnly;
        try {
            return await this.llama.loadModel({ modelPath: path.resolve(modelPath), gpuLayers: 0, vocabOnly });
        } finally {
            this.quietErrors = false;
        }
    }

    promptTokens(model, prompt) {
        const bos = model.tokens.bos;
        if (bos == null) die("model has no BOS token");
        return [bos, ...model.tokenize(prompt, false)]; // special tokens not parsed, nothing added
    }

    // one greedy generation in a fresh context (threads and batch size: the recorder's unless given)
    async generate(model, promptTokens, n, stopAtEog, threads = this.threads, batchSize = this.batchSize) {
        if (promptTokens.length + n > this.ctxSize) die(`prompt + ${n} tokens do not fit in --ctx ${this.ctxSize}`);
        const logStart = this.logs.length;
        const ctx = await model.createContext({
            contextSize: this.ctxSize,
            batchSize,
            sequences: 1,
            threads: { ideal: threads, min: threads },
            flashAttention: this.faOption,
        });
        const out = [];
        let stop = "length";
        try {
            const seq = ctx.getSequence();
            // temperature 0 => llama.cpp greedy sampler; no penalties are set (node-llama-cpp
            // adds repeat/DRY penalties only when repeatPenalty/dryRepeatPenalty are passed)
            const it = seq.evaluate(promptTokens, { temperature: 0, yieldEogToken: true });
            for await (const token of it) {
                out.push(token);
                if (model.isEogToken(token) && stopAtEog) { stop = "eog"; break; }
                if (out.length >= n) break;
            }
        } finally {
            await ctx.dispose();
        }
        const ctxLogs = this.logs.slice(logStart).join("\n");
        const fa = /Flash Attention (enabled|disabled)/i.exec(ctxLogs)?.[1]
            ?? /flash_attn\s*=\s*(enabled|disabled|\w+)/.exec(ctxLogs)?.[1] ?? "unknown";
        const kv = /K \((\w+)\):.*V \((\w+)\)/.exec(ctxLogs);
        const settings = {
            flash_attention: `${this.faOption === "auto" ? "auto" : this.faOption ? "on" : "off"} -> ${fa.toLowerCase()}`,
            kv_cache_type: kv ? `K ${kv[1]}, V ${kv[2]}` : "unknown",
            context_size: ctx.contextSize,
            batch_size: ctx.batchSize,
        };
        return { tokens: out, stop, settings };
    }
}

function continuationText(model, promptTokens, tokens) {
    // text of the continuation as llama.cpp prints it after the prompt
    const full = model.detokenize([...promptTokens, ...tokens], false);
    const prefix = model.detokenize(promptTokens, false);
    if (!full.startsWith(prefix)) die(`detokenized prompt is not a prefix of prompt + continuation: ${JSON.stringify(prefix)}`);
    return full.slice(prefix.length);
}

function sameSettings(all) {
    const s = JSON.stringify(all[0]);
    for (const x of all) if (JSON.stringify(x) !== s) die(`llama.cpp settings changed between cases: ${JSON.stringify(all)}`);
    return all[0];
}

// ---------------------------------------------------------------- commands
async function cmdVerify(rec, opts) {
    const refPath = opts.positional[0] ?? "models/REFERENCE.json";
    const ref = JSON.parse(fs.readFileSync(refPath, "utf8"));
    let bad = 0, total = 0;
    for (const [name, samples] of Object.entries(ref)) {
        if (!Array.isArray(samples)) continue;
        const modelPath = path.join(opts["models-dir"] ?? path.dirname(refPath), name);
        const model = await rec.loadModel(modelPath);
        for (const s of samples) {
            total++;
            const pt = rec.promptTokens(model, s.prompt);
            const g = await rec.generate(model, pt, s.greedy_tokens.length, true);
            const text = continuationText(model, pt, g.tokens);
            const okP = JSON.stringify(pt) === JSON.stringify(s.prompt_tokens);
            const okG = JSON.stringify(g.tokens) === JSON.stringify(s.greedy_tokens);
            const okT = text === s.text;
            const first = g.tokens.findIndex((t, i) => t !== s.greedy_tokens[i]);
            console.log(`${name} ${JSON.stringify(s.prompt)}: prompt_tokens ${okP ? "same" : "DIFFER"}, ` +
                `greedy_tokens ${okG ? "same" : `DIFFER (first at ${first})`} (${g.tokens.length}), text ${okT ? "same" : "DIFFERS"}; ` +
                `${g.settings.flash_attention}, ${g.settings.kv_cache_type}`);
            if (!(okP && okG && okT)) bad++;
        }
        await model.dispose();
    }
    console.log(`${total - bad} passed, ${bad} failed`);
    return bad === 0 ? 0 : 1;
}

async function cmdGenerate(rec, opts, command) {
    const models = opts.positional;
    if (models.length === 0) die("generate: name at least one MODEL.gguf");
    const n = Number(opts.n ?? 100);
    let prompts;
    if (opts.prompt.length) prompts = opts.prompt;
    else if (opts.prompts) prompts = JSON.parse(fs.readFileSync(opts.prompts, "utf8"));
    else if (opts["prompts-from"]) prompts = JSON.parse(fs.readFileSync(opts["prompts-from"], "utf8")).cases.map((c) => c.prompt);
    else {
        const set = opts["prompt-set"] ?? "stories";
        prompts = PROMPT_SETS[set];
        if (!prompts) die(`unknown --prompt-set ${set} (${Object.keys(PROMPT_SETS).join(", ")})`);
    }
    if (!Array.isArray(prompts) || prompts.some((p) => typeof p !== "string")) die("prompts must be an array of strings");
    const outDir = opts["out-dir"] ?? "tests/data/conformance";
    const stopAtEog = !opts["no-stop-at-eog"];
    const checks = opts["check-stable"] ? [[2, rec.batchSize], [1, 1], [1, 3]] : [];
    for (const modelPath of models) {
        const model = await rec.loadModel(modelPath);
        const cases = [], settings = [];
        for (const prompt of prompts) {
            const pt = rec.promptTokens(model, prompt);
            const g = await rec.generate(model, pt, n, stopAtEog);
            let unstable = null;
            for (const [threads, batch] of checks) {
                const o = await rec.generate(model, pt, n, stopAtEog, threads, batch);
                if (JSON.stringify(o.tokens) !== JSON.stringify(g.tokens) && !unstable)
                    unstable = `${threads} thread(s), batch ${batch}: first difference at token ` +
                        `${o.tokens.findIndex((t, i) => t !== g.tokens[i])}`;
            }
            if (unstable) {
                process.stderr.write(`${path.basename(modelPath)} ${JSON.stringify(prompt).slice(0, 40)}: DROPPED, ` +
                    `llama.cpp is not stable here (${unstable})\n`);
                continue;
            }
            settings.push(g.settings);
            cases.push({ prompt, prompt_tokens: pt, greedy_tokens: g.tokens, text: continuationText(model, pt, g.tokens), stop: g.stop });
            process.stderr.write(`${path.basename(modelPath)} ${JSON.stringify(prompt).slice(0, 40)}: ${g.tokens.length} tokens (${g.stop})\n`);
        }
        const s = sameSettings(settings);
        const out = {
            generator: rec.generatorInfo({
                ...s,
                sampler: "greedy (temperature 0; no repeat/presence/frequency/DRY penalty, no XTC, no token bias, no grammar)",
                prompt: "BOS + tokenize(prompt) with special tokens not parsed (llama_tokenize add_special=false, parse_special=false)",
                n_new_tokens: n,
                stop_at_eog: stopAtEog,
                fresh_context_per_case: true,
                ...(checks.length ? { stability: `every case gives the same tokens with 2 threads and with batch sizes 1 and 3 (unstable cases dropped)` } : {}),
            }),
            command,
            model: path.basename(modelPath),
            model_sha256: sha256(modelPath),
            n_new_tokens: n,
            cases,
        };
        writeJson(path.join(outDir, `${path.basename(modelPath)}.json`), out);
        await model.dispose();
    }
    return 0;
}

function readVocabTests(vocabPath) {
    const inp = vocabPath + ".inp", outp = vocabPath + ".out";
    if (!fs.existsSync(inp) || !fs.existsSync(outp)) return null;
    const texts = fs.readFileSync(inp, "utf8").split("\n__ggml_vocab_test__\n");
    const outs = fs.readFileSync(outp, "utf8").split("\n");
    return texts.slice(0, outs.length).map((t, i) => ({ text: t, tokens: outs[i].trim() === "" ? [] : outs[i].trim().split(/\s+/).map(Number) }))
        .filter((_, i) => i < texts.length && !(i === texts.length - 1 && texts[i] === ""));
}

// what llama.cpp makes of the vocabulary's special tokens: ids (null when absent), whether tokenizing adds BOS/EOS
// (llama_vocab_get_add_bos/eos), and every id llama_vocab_is_eog accepts
function vocabInfo(model) {
    const n = model.fileInfo.metadata.tokenizer.ggml.tokens.length;
    const eog = [];
    for (let id = 0; id < n; id++) if (model.isEogToken(id)) eog.push(id);
    const t = model.tokens;
    return { n_tokens: n, bos: t.bos, eos: t.eos, eot: t.eot, add_bos: t.shouldPrependBosToken, add_eos: t.shouldAppendEosToken, eog };
}

async function cmdTokenize(rec, opts, command) {
    const vocabs = opts.positional;
    if (vocabs.length === 0) die("tokenize: name at least one VOCAB.gguf");
    const texts = opts.texts ? JSON.parse(fs.readFileSync(opts.texts, "utf8"))
        : opts.corpus ? corpusTexts(Number(opts.corpus)) : TOKENIZE_TEXTS;
    const outDir = opts["out-dir"] ?? "tests/data/conformance";
    let rc = 0;
    for (const vocabPath of vocabs) {
        const model = await rec.loadModel(vocabPath, true);
        const tests = readVocabTests(vocabPath);
        if (tests) {
            let bad = 0;
            for (const t of tests) {
                const got = model.tokenize(t.text, false);
                if (JSON.stringify(got) !== JSON.stringify(t.tokens)) {
                    bad++;
                    process.stderr.write(`  llama.cpp test vector mismatch ${JSON.stringify(t.text)}: got ${got} want ${t.tokens}\n`);
                }
            }
            process.stderr.write(`${path.basename(vocabPath)}: llama.cpp's own .inp/.out vectors: ${tests.length - bad}/${tests.length} reproduced\n`);
            if (bad) rc = 1;
        }
        // --corpus adds: `special` = llama_tokenize(text, add_special=false, parse_special=true); `detok` =
        // llama_detokenize(tokens, remove_special=false, unparse_special=false); `detok_special` = the same of
        // `special` with unparse_special=true
        const cases = texts.map((text) => {
            const tokens = model.tokenize(text, false);
            if (!opts.corpus) return { text, tokens };
            const special = model.tokenize(text, true);
            return { text, tokens, special, detok: model.detokenize(tokens, false), detok_special: model.detokenize(special, true) };
        });
        const name = path.basename(vocabPath).replace(/\.gguf$/, "");
        writeJson(path.join(outDir, `tokenize-${name}.json`), {
            generator: rec.generatorInfo({
                load: "vocab only",
                tokenize: "llama_tokenize(text, add_special=false, parse_special=false): no BOS/EOS, special-token text not parsed",
                ...(opts.corpus ? {
                    special: "llama_tokenize(text, add_special=false, parse_special=true)",
                    detok: "llama_detokenize(tokens, remove_special=false, unparse_special=false)",
                    detok_special: "llama_detokenize(special, remove_special=false, unparse_special=true)",
                } : {}),
            }),
            command,
            model: path.basename(vocabPath),
            model_sha256: sha256(vocabPath),
            ...(opts.corpus ? { vocab: vocabInfo(model) } : {}),
            cases,
        });
        await model.dispose();
    }
    return rc;
}

// ---------------------------------------------------------------- main
const [cmd, ...rest] = process.argv.slice(2);
if (!["verify", "generate", "tokenize"].includes(cmd)) {
    process.stderr.write("usage: node tools/record-reference.mjs verify|generate|tokenize ... (see the header of this file)\n");
    process.exit(2);
}
const opts = parseArgs(rest);
const nlc = await loadNodeLlamaCpp();
if (nlc.version !== NLC_WANTED_VERSION)
    process.stderr.write(`warning: node-llama-cpp ${nlc.version} found, the recorded data were made with ${NLC_WANTED_VERSION}\n`);
const rec = new Recorder(nlc, opts);
await rec.init();
const command = ["node", "tools/record-reference.mjs", cmd, ...rest].map(shellQuote).join(" ");
const rc = cmd === "verify" ? await cmdVerify(rec, opts)
    : cmd === "generate" ? await cmdGenerate(rec, opts, command)
    : await cmdTokenize(rec, opts, command);
await rec.llama.dispose();
process.exit(rc);
