// bench.js — runs one measurement in the page: window.benchRun({engine, threads, text, warmText, nDecode}).
// Served by tools/bench/lib/browser.mjs with cross-origin isolation (COOP + COEP), so both engines may use threads.
// Each measurement gets a fresh page: a fresh Worker and wasm instance, nothing cached between runs.
//
// Both engines get the same treatment, in every browser:
//   - the model file is fetched from the local server into a Blob and handed to the engine (no IndexedDB);
//   - one short warm-up completion first, so V8 has tiered the hot wasm functions up from its baseline compiler
//     (Liftoff) to the optimizing one (TurboFan) before the measured run (SpiderMonkey and JavaScriptCore tier
//     up alike): without it the first prefill measures the JIT, not the engine;
//   - then the measured completion: `text` (BOS + 127 tokens = 128), greedy, nDecode decode steps, and the
//     engine's own timings ({promptN, promptMs, predictedN, predictedMs} for pocketlm, llama-server's snake_case
//     names for wllama).
// window.benchVerbose = true before benchRun shows the engines' own logs in the console.

const MODEL_URL = "/model.gguf";
// what went wrong in the page, for the harness's error message (not every browser driver reports page errors)
window.benchErrors = [];
window.addEventListener("error", (e) => window.benchErrors.push(e.message));
window.addEventListener("unhandledrejection", (e) => window.benchErrors.push(String(e.reason)));

async function modelBlob() {
    const res = await fetch(MODEL_URL);
    if (!res.ok) throw new Error(`GET ${MODEL_URL}: ${res.status}`);
    return await res.blob();
}

// wllama (llama.cpp's server loop compiled to wasm). Its timings are llama-server's: predicted_ms runs from the
// end of the prompt batch to the last sampled token, so n tokens cost n - 1 decode steps; ask for nDecode + 1
// tokens and count nDecode steps (llama-server's own predicted_per_second is (n - 1) / predicted_ms too).
async function runWllama({ threads, text, warmText, nDecode, nCtx = 256, byteTokens }) {
    const { Wllama } = await import("/wllama/index.js");
    const quiet = () => {};
    const w = new Wllama({ default: "/wllama/wasm/wllama.wasm" }, {
        suppressNativeLog: !window.benchVerbose,
        logger: window.benchVerbose ? console : { debug: quiet, log: quiet, warn: console.warn, error: console.error },
    });
    const blob = await modelBlob();
    await w.loadModel([blob], { n_threads: threads, n_ctx: nCtx, n_gpu_layers: 0, warmup: false });
    const info = w.getLoadedContextInfo();
    // byteTokens: banned, else random weights sample lone UTF-8 bytes, and wllama fails to return invalid UTF-8
    const common = {
        temperature: 0, cache_prompt: false, ignore_eos: true, stream: false,
        ...(byteTokens?.length ? { logit_bias: byteTokens.map((t) => [t, false]) } : {}),
    };
    await w.createCompletion({ ...common, prompt: warmText, max_tokens: 4 });
    const r = await w.createCompletion({ ...common, prompt: text, max_tokens: nDecode + 1 });
    const t = r.timings;
    const out = {
        threads: w.isMultithread() ? w.getNumThreads() : 1,
        n_prompt: t.prompt_n,
        n_decode: t.predicted_n - 1,
        prefill_tok_s: t.prompt_n / (t.prompt_ms / 1000),
        decode_tok_s: (t.predicted_n - 1) / (t.predicted_ms / 1000),
        timings: t,
        context_size: info.n_ctx,
        batch_size: info.n_batch,
        version: `libllama ${Wllama.getLibllamaVersion?.() ?? "?"}`,
    };
    await w.exit();
    return out;
}

// pocketlm's JavaScript API (dist/pocketlm.js, see docs/architecture.md). Its timings count like llama-server's
// (js-bindings/engine.js): predictedMs runs from the end of the prompt to the last token, so n tokens cost n - 1
// decode steps: ask for nDecode + 1 tokens and count nDecode steps, as for wllama. cachePrompt: false so that the
// measured prompt is evaluated whole, not partly reused from the warm-up.
// variant: a forced variant (e.g. "simd" where relaxed SIMD would be picked), else load()'s choice.
async function runPocketlm({ variant, threads, text, warmText, nDecode, nCtx = 256 }) {
    const { PocketLM } = await import("/dist/pocketlm.js");
    const blob = await modelBlob();
    const lm = await PocketLM.load({ model: blob, variant: variant ?? undefined, threads, contextSize: nCtx });
    try {
        const common = { temperature: 0, cachePrompt: false };
        await lm.complete(warmText, { ...common, maxTokens: 4 });
        const r = await lm.complete(text, { ...common, maxTokens: nDecode + 1 });
        const t = r.timings; // camelCase: { promptN, promptMs, predictedN, predictedMs }
        return {
            threads: lm.info?.threads ?? threads,
            n_prompt: t.promptN,
            n_decode: t.predictedN - 1,
            prefill_tok_s: t.promptN / (t.promptMs / 1000),
            decode_tok_s: (t.predictedN - 1) / (t.predictedMs / 1000),
            timings: t,
            finish_reason: r.finishReason,
            backend: lm.info?.variant ?? null,
            // peak wasm memory against weights + KV cache (f16 K and V: 2 * 2 bytes * layers * context * kv width)
            wasm_memory_bytes: t.wasmMemoryBytes,
            weight_bytes: lm.info?.weightBytes,
            kv_bytes: 4 * lm.info.nLayer * (lm.info.contextSize ?? nCtx) * (lm.info.nEmbd / lm.info.nHead) * lm.info.nHeadKv,
        };
    } finally {
        await lm.unload();
    }
}

window.benchRun = async (opts) => {
    if (!crossOriginIsolated && opts.threads > 1) throw new Error("page is not cross-origin isolated: no threads");
    if (opts.engine === "wllama") return await runWllama(opts);
    if (opts.engine === "pocketlm") return await runPocketlm(opts);
    throw new Error(`unknown engine ${opts.engine}`);
};
window.benchReady = true;
