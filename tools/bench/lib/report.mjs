// report.mjs — the Markdown of a bench run (build/bench/results.json): one table per group of the plan, the ratios
// of the medians, and issue 12's targets as PASS / FAIL lines with the ratios they were judged on.

export const fmt = (x) => (x == null || !Number.isFinite(x) ? "—" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtRatio = (x) => (x == null || !Number.isFinite(x) ? "—" : x.toFixed(2));
const MiB = (x) => (x / 2 ** 20).toFixed(1);
const pct = (x) => `${Math.round(x * 100)}%`;
const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

function finder(results) {
    const at = (group, model, target, threads) =>
        results.find((r) => r.group === group && r.model === model && r.target === target && r.threads === threads) ?? null;
    return { at, med: (...k) => at(...k)?.median ?? null };
}

// [name, a, b, threads of a, threads of b]: threads null = every thread count both have (same for a and b)
const RATIOS = [
    ["pocketlm ÷ llama.cpp, native", "pocketlm-native", "llama.cpp-native"],
    ["pocketlm ÷ wllama, Chromium", "pocketlm-chromium", "wllama-chromium"],
    ["pocketlm Chromium ÷ pocketlm native (wasm cost)", "pocketlm-chromium", "pocketlm-native"],
    ["pocketlm Chromium simd ÷ pocketlm native", "pocketlm-chromium-simd", "pocketlm-native", 1, 1],
    ["pocketlm WASI ÷ pocketlm native (wasm cost)", "pocketlm-wasi", "pocketlm-native", 1, 1],
    ["wllama ÷ llama.cpp native (peer's wasm cost)", "wllama-chromium", "llama.cpp-native"],
    ["pocketlm Chromium: simd forced ÷ relaxed", "pocketlm-chromium-simd", "pocketlm-chromium", 1, 1],
    ["pocketlm Firefox: simd forced ÷ relaxed", "pocketlm-firefox-simd", "pocketlm-firefox", 1, 1],
    ["pocketlm Firefox ÷ Chromium", "pocketlm-firefox", "pocketlm-chromium", 1, 1],
    ["pocketlm WebKit ÷ Chromium (Safari's engine ÷ Chrome's)", "pocketlm-webkit", "pocketlm-chromium", 1, 1],
    ["pocketlm WebKit ÷ Chromium simd (same variant)", "pocketlm-webkit", "pocketlm-chromium-simd", 1, 1],
    ["pocketlm WebKit ÷ pocketlm native", "pocketlm-webkit", "pocketlm-native", 1, 1],
    ["pocketlm native: 2 threads ÷ 1", "pocketlm-native", "pocketlm-native", 2, 1],
    ["llama.cpp native: 2 threads ÷ 1", "llama.cpp-native", "llama.cpp-native", 2, 1],
    ["pocketlm Chromium: 2 threads ÷ 1", "pocketlm-chromium", "pocketlm-chromium", 2, 1],
    ["wllama Chromium: 2 threads ÷ 1", "wllama-chromium", "wllama-chromium", 2, 1],
];

export function computeRatios(results, group) {
    const { med } = finder(results);
    const threadsSeen = [...new Set(results.filter((r) => r.group === group.id).map((r) => r.threads))].sort((x, y) => x - y);
    const out = [];
    for (const [name, a, b, ta, tb] of RATIOS) {
        for (const [x, y] of ta ? [[ta, tb]] : threadsSeen.map((t) => [t, t])) {
            const row = { name, threads: x === y ? String(x) : `${x} ÷ ${y}`, models: {} };
            let any = false;
            for (const m of group.models) {
                const p = med(group.id, m.name, a, x), q = med(group.id, m.name, b, y);
                const r = p && q ? { prefill: p.prefill_tok_s / q.prefill_tok_s, decode: p.decode_tok_s / q.decode_tok_s } : null;
                row.models[m.name] = r;
                if (r) any = true;
            }
            if (any) out.push(row);
        }
    }
    return out;
}

// the variant load() picked in a browser (the forced ones say so in their label)
function labelOf(results, r) {
    const inBrowser = r.target.startsWith("pocketlm-") && !/native|wasi|-simd$/.test(r.target);
    const variants = [...new Set(results.filter((x) => x.target === r.target && x.threads === r.threads && x.info?.backend)
        .map((x) => x.info.backend))];
    return `${r.label}${inBrowser && variants.length ? `: ${variants.join("/")}` : ""}`;
}

// engines as rows, models as columns (a few models, many engines)
function engineTable(L, report, g) {
    const rs = report.results.filter((r) => r.group === g.id);
    const { at } = finder(rs);
    const head = ["engine", "threads", ...g.models.flatMap((m) => [`${m.name} prefill`, `${m.name} decode`])];
    L.push(`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i < 1 ? "---" : "---:")).join("|")}|`);
    for (const key of [...new Set(rs.map((r) => `${r.target}\t${r.threads}`))]) {
        const [target, t] = key.split("\t");
        const cells = g.models.flatMap((m) => {
            const r = at(g.id, m.name, target, Number(t));
            return [fmt(r?.median?.prefill_tok_s), fmt(r?.median?.decode_tok_s)];
        });
        L.push(`| ${labelOf(report.results, rs.find((r) => r.target === target && r.threads === Number(t)))} | ${t} | ${cells.join(" | ")} |`);
    }
    const ratios = computeRatios(report.results, g);
    if (!ratios.length) return;
    L.push("", "Ratios of the medians (> 1: the first is faster):", "");
    const rh = ["ratio", "threads", ...g.models.flatMap((m) => [`${m.name} prefill`, `${m.name} decode`])];
    L.push(`| ${rh.join(" | ")} |`, `|${rh.map((_, i) => (i < 1 ? "---" : "---:")).join("|")}|`);
    for (const r of ratios) {
        const cells = g.models.flatMap((m) => [fmtRatio(r.models[m.name]?.prefill), fmtRatio(r.models[m.name]?.decode)]);
        L.push(`| ${r.name} | ${r.threads} | ${cells.join(" | ")} |`);
    }
}

// models (weight types) as rows, engines as columns, and the two ratios that show a slow kernel
function typeTable(L, report, g) {
    const { med } = finder(report.results);
    const targets = [...new Set(report.results.filter((r) => r.group === g.id && r.threads === 1).map((r) => r.target))];
    const label = (t) => report.results.find((r) => r.group === g.id && r.target === t).label.replace(/^pocketlm wasm \((.*)\)$/, "pocketlm $1");
    const pairs = [["pocketlm-native", "llama.cpp-native", "pocketlm ÷ llama.cpp native"],
        ["pocketlm-chromium", "pocketlm-native", "Chromium ÷ native"]]
        .filter(([a, b]) => targets.includes(a) && targets.includes(b));
    const head = ["type", "MiB", ...targets.flatMap((t) => [`${label(t)} prefill`, `${label(t)} decode`]),
        ...pairs.map(([, , n]) => `${n} (prefill / decode)`)];
    L.push(`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i < 1 ? "---" : "---:")).join("|")}|`);
    for (const m of g.models) {
        const cells = targets.flatMap((t) => { const x = med(g.id, m.name, t, 1); return [fmt(x?.prefill_tok_s), fmt(x?.decode_tok_s)]; });
        const rc = pairs.map(([a, b]) => {
            const x = med(g.id, m.name, a, 1), y = med(g.id, m.name, b, 1);
            return x && y ? `${fmtRatio(x.prefill_tok_s / y.prefill_tok_s)} / ${fmtRatio(x.decode_tok_s / y.decode_tok_s)}` : "—";
        });
        L.push(`| ${m.type ?? m.name} | ${MiB(m.bytes)} | ${cells.join(" | ")} | ${rc.join(" | ")} |`);
    }
}

// The machine's load during a set of samples: the CPU share busy with other work just before each (the harness is
// idle then), and the runnable tasks seen while it ran (ours included: 1 per engine thread + the sampler).
function loadNote(samples) {
    const busy = samples.map((s) => s.busy_before).filter((x) => x != null);
    const runq = samples.map((s) => s.runnable_mean).filter((x) => x != null);
    const load = samples.map((s) => s.load1).filter((x) => x != null);
    return [busy.length && `other work ${busy.map(pct).join(", ")} of the CPU just before`,
        runq.length && `runnable tasks while measuring ${runq.map((x) => x.toFixed(1)).join(", ")}`,
        load.length && `load average ${load.map((x) => x.toFixed(1)).join(", ")}`].filter(Boolean).join("; ");
}

// issue 12's targets, judged on the core group (110M Q8_0 / Q4_0 / Q4_K, 1 thread unless said)
export function targetLines(report) {
    const g = report.groups.find((x) => x.id === "core");
    if (!g) return [];
    const { at, med } = finder(report.results);
    const L = [];
    const judge = (title, a, b, ta, tb, field, min) => {
        const parts = [];
        let pass = true, any = false;
        for (const m of g.models) {
            const x = med(g.id, m.name, a, ta), y = med(g.id, m.name, b, tb);
            if (!x || !y) { parts.push(`${m.type ?? m.name} —`); continue; }
            const r = x[field] / y[field];
            any = true;
            if (!(r >= min)) pass = false;
            parts.push(`${m.type ?? m.name} ${fmtRatio(r)}${r >= min ? "" : " ✗"}`);
        }
        L.push(`- ${!any ? "NOT RUN" : pass ? "PASS" : "FAIL"} — ${title} ≥ ${min}: ${parts.join(", ")}`);
        return any;
    };
    judge("Chromium simd ÷ relaxed, decode", "pocketlm-chromium-simd", "pocketlm-chromium", 1, 1, "decode_tok_s", 0.8);
    judge("Chromium simd ÷ relaxed, prefill", "pocketlm-chromium-simd", "pocketlm-chromium", 1, 1, "prefill_tok_s", 0.7);
    judge("Chromium relaxed ÷ pocketlm native, decode", "pocketlm-chromium", "pocketlm-native", 1, 1, "decode_tok_s", 0.6);
    judge("pocketlm ÷ wllama (Chromium), decode", "pocketlm-chromium", "wllama-chromium", 1, 1, "decode_tok_s", 4);
    judge("pocketlm ÷ wllama (Chromium), prefill", "pocketlm-chromium", "wllama-chromium", 1, 1, "prefill_tok_s", 8);
    // two threads need both cores: when other work held them, the ratio measures the machine, not the engine
    const s1 = g.models.flatMap((m) => at(g.id, m.name, "pocketlm-chromium", 1)?.samples ?? []);
    const s2 = g.models.flatMap((m) => at(g.id, m.name, "pocketlm-chromium", 2)?.samples ?? []);
    const busy2 = s2.map((s) => s.busy_before).filter((x) => x != null);
    const quiet = busy2.filter((x) => x < 0.25).length;
    const at2 = L.length;
    if (judge("Chromium 2 threads ÷ 1 thread, decode", "pocketlm-chromium", "pocketlm-chromium", 2, 1, "decode_tok_s", 1.7)) {
        const best = g.models.map((m) => {
            const x = at(g.id, m.name, "pocketlm-chromium", 2)?.best, y = at(g.id, m.name, "pocketlm-chromium", 1)?.best;
            return x && y ? `${m.type ?? m.name} ${fmtRatio(x.decode_tok_s / y.decode_tok_s)}` : null;
        }).filter(Boolean);
        if (busy2.length && quiet < busy2.length / 2) L[at2] = L[at2].replace(/^- (PASS|FAIL)/, "- NOT MEASURABLE (machine busy)");
        L.push(`  - ${quiet} of ${busy2.length} two-thread runs started with under 25% of the CPU taken by other work; ` +
            `best round ÷ best round: ${best.join(", ")}.`);
        L.push(`  - 2-thread runs: ${loadNote(s2)}.`, `  - 1-thread runs: ${loadNote(s1)}.`);
    }
    const mem = report.results.filter((r) => r.info?.wasm_memory_bytes && r.info.weight_bytes);
    if (mem.length) {
        const rest = (r) => r.info.wasm_memory_bytes - r.info.weight_bytes - r.info.kv_bytes;
        const worst = mem.reduce((a, b) => (rest(b) > rest(a) ? b : a));
        const over = mem.filter((r) => rest(r) > 64 * 2 ** 20);
        L.push(`- ${over.length ? "FAIL" : "PASS"} — peak wasm memory ≤ weights + KV cache + 64 MiB in every browser run ` +
            `(${mem.length} configurations): at most ${MiB(rest(worst))} MiB over weights + KV ` +
            `(${worst.model} ${worst.label.replace(/^pocketlm /, "")} ${worst.threads}t: ${MiB(worst.info.wasm_memory_bytes)} MiB = ` +
            `${MiB(worst.info.weight_bytes)} + ${MiB(worst.info.kv_bytes)} + ${MiB(rest(worst))})` +
            (over.length ? `; over: ${over.map((r) => `${r.model} ${r.label} ${r.threads}t`).join(", ")}` : "") + ".");
    }
    const wk = g.models.map((m) => {
        const x = med(g.id, m.name, "pocketlm-webkit", 1), y = med(g.id, m.name, "pocketlm-chromium", 1);
        return x && y ? `${m.type ?? m.name} ${fmtRatio(x.decode_tok_s / y.decode_tok_s)} / ${fmtRatio(x.prefill_tok_s / y.prefill_tok_s)}` : null;
    }).filter(Boolean);
    if (wk.length) L.push(`- (no target) WebKit ÷ Chromium, decode / prefill, 1 thread: ${wk.join(", ")}.`);
    return L;
}

export function markdown(report) {
    const L = [];
    const mi = report.machine;
    L.push(`### ${report.generated_at.slice(0, 10)} — ${mi.cores}-core ${mi.arch === "x64" ? "x86-64" : mi.arch} (${mi.cpu}), ` +
        `load average ${mi.load1_start?.toFixed(1) ?? "?"} at the start, ${mi.load1_end?.toFixed(1) ?? "?"} at the end`);
    L.push("");
    L.push(`Tokens per second, each the median of its configuration's interleaved rounds ` +
        `(${report.generated_at.slice(11, 16)}–${report.finished_at.slice(11, 16)} UTC). Command: \`${report.command}\`.`);
    for (const g of report.groups) {
        if (!report.results.some((r) => r.group === g.id)) continue;
        const n = g.reps ?? report.settings.reps;
        L.push("", `#### ${g.title} (prompt ${g.prompt} tokens, then ${g.decode} decode steps; ${n} round${n > 1 ? "s" : ""})`, "");
        if (g.layout === "types") typeTable(L, report, g);
        else engineTable(L, report, g);
    }
    const tl = targetLines(report);
    if (tl.length) {
        const busy = report.results.filter((r) => r.group === "core").flatMap((r) => r.samples.map((x) => x.busy_before)).filter((x) => x != null);
        const hot = busy.filter((x) => x >= 0.25).length;
        L.push("", "#### Issue 12's targets (110M, one run)", "");
        if (hot > busy.length / 2) L.push(`${hot} of ${busy.length} of these measurements started with other work holding over 25% of the CPU: ` +
            "each ratio carries that noise, and those of two threads most.", "");
        L.push(...tl);
    }
    L.push("");
    const sw = report.software;
    const plm = [sw.pocketlm_backend && `native kernels ${sw.pocketlm_backend}`, sw.pocketlm_chromium_variant && `Chromium variants ${sw.pocketlm_chromium_variant}`].filter(Boolean);
    L.push(`- Versions: pocketlm${plm.length ? ` (${plm.join(", ")})` : ""}; ${sw.llama_cpp ?? "llama.cpp: not run"}` +
        `${sw.llama_cpp_cpu_variant ? ` (CPU variant ${sw.llama_cpp_cpu_variant})` : ""}; @wllama/wllama ${sw.wllama ?? "—"}` +
        `${sw.wllama_libllama ? ` (${sw.wllama_libllama})` : ""}; Chromium ${sw.chromium ?? "—"}; Firefox ${sw.firefox ?? "—"}; ` +
        `WebKitGTK ${sw.webkitgtk ?? "—"}; Node ${mi.node}.`);
    const samples = report.results.flatMap((r) => r.samples);
    const busy = samples.map((x) => x.busy_before).filter((x) => x != null);
    if (busy.length) {
        const hot = busy.filter((x) => x >= 0.25).length;
        const runq = samples.map((x) => x.runnable_mean).filter((x) => x != null);
        L.push(`- The machine: in the half second before each measurement, ${pct(Math.min(...busy))} to ${pct(Math.max(...busy))} ` +
            `of the CPU was busy with other work (median ${pct(busy.sort((a, b) => a - b)[busy.length >> 1])}; ${hot} of ${busy.length} ` +
            `measurements started on a busy machine, over 25%)` +
            (runq.length ? `; runnable tasks while measuring (ours included) ${avg(runq).toFixed(1)} on average` : "") + ".");
    }
    const spread = report.results.filter((r) => r.spread);
    const noisy = spread.filter((r) => r.spread.prefill > 0.15 || r.spread.decode > 0.15);
    if (noisy.length) {
        const worst = noisy.map((r) => ({ r, s: Math.max(r.spread.prefill, r.spread.decode) })).sort((a, b) => b.s - a.s).slice(0, 3);
        L.push(`- ${noisy.length} of ${spread.length} configurations spread by more than 15% between rounds ((max - min) / median); ` +
            `most: ${worst.map(({ r, s }) => `${r.label} ${r.threads}t on ${r.model} (${Math.round(s * 100)}%)`).join(", ")}. ` +
            "Every sample is in results.json.");
    }
    for (const r of report.results.filter((x) => x.errors.length)) L.push(`- Failed: ${r.label} ${r.threads}t on ${r.model}: ${r.errors[0]}`);
    for (const n of report.notes) L.push(`- Skipped / note: ${n}`);
    return L.join("\n") + "\n";
}

// results.json from before the plan had groups: one group of every model
export function upgrade(report) {
    if (report.groups) return report;
    const g = { id: "core", title: "models", prompt: report.settings.n_prompt, decode: report.settings.n_decode, models: report.models };
    for (const r of report.results) r.group = "core";
    return { ...report, groups: [g] };
}
