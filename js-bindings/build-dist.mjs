// Assembles dist/ from the js-bindings sources and the wasm variants built under build/wasm-<variant>/, then prints
// and checks the sizes the package promises (gzipped: each wasm <= 250 KiB; the JavaScript one page downloads —
// the package's modules and one threading model's glue — <= 60 KiB).
// Usage: node js-bindings/build-dist.mjs <variant>...   (run by `make wasm` from the project root)
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const WASM_BUDGET = 250 * 1024;
const JS_BUDGET = 60 * 1024;
const variants = process.argv.slice(2);
if (!variants.length) throw new Error('usage: build-dist.mjs <variant>...');

const src = 'js-bindings';
const dist = 'dist';
fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(dist, { recursive: true });

// The package's own modules, copied as written (no bundler, no transpiler) except their whole-line // comments, which
// the browser need not download (the sources keep them; the .d.ts keeps its documentation).
const skip = new Set(['glue-pre.js']);
for (const f of fs.readdirSync(src).sort()) {
  if (!(f.endsWith('.js') || f.endsWith('.d.ts')) || skip.has(f)) continue;
  const text = fs.readFileSync(path.join(src, f), 'utf8');
  fs.writeFileSync(path.join(dist, f), f.endsWith('.d.ts') ? text : text.replace(/^[ \t]*\/\/.*\n/gm, ''));
}

// The pthreads glue hard-codes the address of one libc data symbol, which moves with the variant's data layout.
// The wasm exports it as a global: read it there at the time of use (only the main runtime thread uses it), so that
// one glue serves every variant of a threading model.
function normalizeGlue(js, v) {
  const sym = '__emscripten_allow_main_runtime_queued_calls';
  const decl = new RegExp(`(var ${sym} = Module\\["${sym}"\\] = )\\d+;`);
  if (!decl.test(js)) return js;
  const uses = js.split(`[${sym} >>> 2]`).length - 1;
  if (uses !== 2) throw new Error(`${v}: expected 2 uses of ${sym} in the glue, found ${uses}`);
  return js.replace(decl, '$10;')
    .replaceAll(`[${sym} >>> 2]`, `[Module["asm"]["${sym.slice(1)}"].value >>> 2]`);
}

// Emscripten output: one glue per threading model (identical across the variants of that model), one wasm each.
const glues = new Map();
for (const v of variants) {
  const glue = v.startsWith('mt-') ? 'mt' : 'st';
  const dir = path.join('build', `wasm-${v}`);
  const js = normalizeGlue(fs.readFileSync(path.join(dir, `pocketlm-${glue}.js`), 'utf8'), v);
  if (!/var require = Module\[["']plmRequire["']\]/.test(js)) throw new Error(`${dir}: glue lacks js-bindings/glue-pre.js`);
  if (glues.has(glue) && glues.get(glue) !== js) {
    throw new Error(`the ${glue} glue of ${v} differs from another variant's: the variants must export the same functions`);
  }
  glues.set(glue, js);
  fs.copyFileSync(path.join(dir, `pocketlm-${glue}.wasm`), path.join(dist, `pocketlm-${v}.wasm`));
  if (glue === 'mt') {
    const worker = path.join(dir, 'pocketlm-mt.worker.js');
    fs.copyFileSync(worker, path.join(dist, 'pocketlm-mt.worker.js'));
    // Node runs a pthread worker as CommonJS only with this extension (the package is "type": "module").
    fs.copyFileSync(worker, path.join(dist, 'pocketlm-mt.worker.cjs'));
  }
}
for (const [glue, js] of glues) fs.writeFileSync(path.join(dist, `pocketlm-${glue}.js`), js);

// Sizes.
const gz = (f) => zlib.gzipSync(fs.readFileSync(f), { level: 9 }).length;
const kib = (n) => (n / 1024).toFixed(1).padStart(6) + ' KiB';
// A page loads one glue: the single-thread one, or the pthreads one with its worker script.
const GLUE = { 'pocketlm-st.js': 'st', 'pocketlm-mt.js': 'mt', 'pocketlm-mt.worker.js': 'mt' };
let jsModules = 0;
const glueTotal = { st: 0, mt: 0 };
let over = false;
console.log('dist/ sizes (gzip -9):');
for (const f of fs.readdirSync(dist).sort()) {
  const p = path.join(dist, f);
  const g = gz(p);
  const raw = fs.statSync(p).size;
  let note = '';
  if (f.endsWith('.wasm') && g > WASM_BUDGET) { note = '  OVER the 250 KiB budget'; over = true; }
  // The .cjs twin of the pthread worker is only read by Node: it is not JavaScript a browser downloads.
  if (GLUE[f]) glueTotal[GLUE[f]] += g;
  else if (f.endsWith('.js')) jsModules += g;
  console.log(`  ${f.padEnd(28)} ${kib(g)}  (raw ${kib(raw)})${note}`);
}
const jsTotal = jsModules + Math.max(glueTotal.st, glueTotal.mt);
console.log(`  ${'JavaScript a page loads'.padEnd(28)} ${kib(jsTotal)}${jsTotal > JS_BUDGET ? '  OVER the 60 KiB budget' : ''}` +
  ` (modules ${kib(jsModules).trim()} + the larger glue)`);
if (over || jsTotal > JS_BUDGET) process.exit(1);
