#!/usr/bin/env node
// Generates src/unicode_data.c: the Unicode tables the tokenizers' pre-tokenizers need, straight from the
// Unicode Character Database: a directory of its files (UnicodeData.txt, PropList.txt; Debian's `unicode-data`
// puts them in /usr/share/unicode), or the npm package of one Unicode version's data, `@unicode/unicode-X.Y.Z`.
//
//   node tools/gen-unicode.mjs node_modules/@unicode/unicode-15.1.0 > src/unicode_data.c
//
// The version must be llama.cpp's: its src/unicode-data.cpp has Unicode 15.1 (CJK Extension I, U+2EBF0..U+2EE5D,
// are letters to it, unassigned in 15.0, and that changes how the pre-tokenizers split text around them).
//
// What is emitted (all const, all compact):
//   plm_ucd_ranges[]  (start << 9) | flags, sorted by start; a range runs up to the next start. flags are the
//                     general-category class (\p{N}, \p{L}, \p{Z}, \p{M}, \p{P}, \p{S}, \p{C}, or UNDEFINED for
//                     unassigned code points) plus WHITESPACE for the PropList.txt White_Space property.
//                     This is the classification llama.cpp's unicode tables use (one flag per category class).
//   plm_ucd_lower[]   simple lowercase mappings (UnicodeData.txt field 13) as runs {start, count, stride, delta}:
//                     code points start, start+stride, ... (count of them) map to cpt + delta.
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2] || '/usr/share/unicode';
const MAX = 0x110000;

const F = {
  UNDEFINED: 0x001, NUMBER: 0x002, LETTER: 0x004, SEPARATOR: 0x008, MARK: 0x010,
  PUNCTUATION: 0x020, SYMBOL: 0x040, CONTROL: 0x080, WHITESPACE: 0x100,
};
const CAT = {
  Cn: F.UNDEFINED, Cc: F.CONTROL, Cf: F.CONTROL, Co: F.CONTROL, Cs: F.CONTROL,
  Ll: F.LETTER, Lm: F.LETTER, Lo: F.LETTER, Lt: F.LETTER, Lu: F.LETTER,
  Mc: F.MARK, Me: F.MARK, Mn: F.MARK,
  Nd: F.NUMBER, Nl: F.NUMBER, No: F.NUMBER,
  Pc: F.PUNCTUATION, Pd: F.PUNCTUATION, Pe: F.PUNCTUATION, Pf: F.PUNCTUATION, Pi: F.PUNCTUATION,
  Po: F.PUNCTUATION, Ps: F.PUNCTUATION,
  Sc: F.SYMBOL, Sk: F.SYMBOL, Sm: F.SYMBOL, So: F.SYMBOL,
  Zl: F.SEPARATOR, Zp: F.SEPARATOR, Zs: F.SEPARATOR,
};

const flags = new Uint16Array(MAX).fill(F.UNDEFINED);
const lower = []; // [cpt, lower]

// @unicode/unicode-X.Y.Z: code point lists per general category, White_Space, simple lowercase mapping
async function fromNpmPackage(pkg) {
  const load = async (p) => (await import(pathToFileURL(resolve(pkg, p, 'code-points.mjs')).href)).default;
  const unassigned = new Set(await load('General_Category/Unassigned'));
  const classes = [['Letter', F.LETTER], ['Mark', F.MARK], ['Number', F.NUMBER], ['Punctuation', F.PUNCTUATION],
    ['Symbol', F.SYMBOL], ['Separator', F.SEPARATOR], ['Other', F.CONTROL]];
  for (const [name, flag] of classes) for (const c of await load(`General_Category/${name}`)) if (!unassigned.has(c)) flags[c] = flag;
  for (const c of await load('Binary_Property/White_Space')) flags[c] |= F.WHITESPACE;
  for (const [c, l] of await load('Simple_Case_Mapping/Lowercase')) lower.push([c, l]);
  return JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).name.replace(/^@unicode\/unicode-/, '');
}

const npmVersion = existsSync(join(dir, 'General_Category')) ? await fromNpmPackage(dir) : null;

// UnicodeData.txt: code;name;category;...;uppercase(12);lowercase(13);titlecase(14)
// Ranges are given as two lines "<Name, First>" and "<Name, Last>".
let first = -1;
for (const line of npmVersion ? [] : readFileSync(join(dir, 'UnicodeData.txt'), 'utf8').split('\n')) {
  if (!line) continue;
  const f = line.split(';');
  const cpt = parseInt(f[0], 16);
  const cat = f[2];
  if (!(cat in CAT)) throw new Error(`unknown category ${cat} at ${f[0]}`);
  if (f[1].endsWith(', First>')) { first = cpt; continue; }
  const lo = f[1].endsWith(', Last>') ? first : cpt;
  for (let c = lo; c <= cpt; c++) flags[c] = CAT[cat];
  first = -1;
  if (f[13]) lower.push([cpt, parseInt(f[13], 16)]);
}

// PropList.txt: "0009..000D    ; White_Space # ..."
let nws = npmVersion ? 20 : 0;
for (const line of npmVersion ? [] : readFileSync(join(dir, 'PropList.txt'), 'utf8').split('\n')) {
  const m = /^([0-9A-F]+)(?:\.\.([0-9A-F]+))?\s*;\s*White_Space\b/.exec(line);
  if (!m) continue;
  const a = parseInt(m[1], 16), b = m[2] ? parseInt(m[2], 16) : a;
  for (let c = a; c <= b; c++) { flags[c] |= F.WHITESPACE; nws++; }
}
if (nws < 20) throw new Error('White_Space property not found in PropList.txt');

// Ranges of equal flags.
const ranges = [];
for (let c = 0; c < MAX; c++) {
  if (c === 0 || flags[c] !== flags[c - 1]) ranges.push((c * 512 + flags[c]) >>> 0);
}

// Lowercase runs: consecutive mappings with the same stride (1 or 2) and the same delta.
lower.sort((a, b) => a[0] - b[0]);
const runs = [];
for (const [c, l] of lower) {
  const d = l - c;
  const r = runs[runs.length - 1];
  if (r && r.delta === d && r.count < 65535) {
    const last = r.start + (r.count - 1) * r.stride;
    if (r.count === 1 && (c - last === 1 || c - last === 2)) { r.stride = c - last; r.count++; continue; }
    if (c - last === r.stride) { r.count++; continue; }
  }
  runs.push({ start: c, count: 1, stride: 1, delta: d });
}

const version = npmVersion ?? (() => {
  try {
    const m = /Version\s+([0-9.]+)/.exec(readFileSync(join(dir, 'ReadMe.txt'), 'utf8'));
    if (m) return m[1];
  } catch { /* ReadMe.txt is optional */ }
  const m2 = /DerivedAge-([0-9.]+)\.txt/.exec(readFileSync(join(dir, 'DerivedAge.txt'), 'utf8'));
  return m2 ? m2[1].replace(/\.$/, '') : 'unknown';
})();

const out = [];
out.push('/* Generated by tools/gen-unicode.mjs from the Unicode Character Database ' + version + ' (general categories,');
out.push(' * White_Space, simple lowercase mappings). Do not edit: regenerate with');
out.push(` * \`node tools/gen-unicode.mjs node_modules/@unicode/unicode-${version} > src/unicode_data.c\`. */`);
out.push('#include "unicode.h"');
out.push('');
out.push('/* (first code point << 9) | PLM_UCD_* flags; each range runs up to the next entry\'s first code point. */');
out.push(`const uint32_t plm_ucd_ranges[${ranges.length}] = {`);
for (let i = 0; i < ranges.length; i += 8) {
  out.push('    ' + ranges.slice(i, i + 8).map((v) => '0x' + v.toString(16).padStart(8, '0') + 'u').join(', ') + ',');
}
out.push('};');
out.push(`const size_t plm_ucd_ranges_n = ${ranges.length};`);
out.push('');
out.push('/* Simple lowercase mappings: start, start + stride, ... (count code points) map to cpt + delta. */');
out.push(`const plm_ucd_case_run plm_ucd_lower[${runs.length}] = {`);
for (let i = 0; i < runs.length; i += 4) {
  out.push('    ' + runs.slice(i, i + 4).map((r) =>
    `{0x${r.start.toString(16)}, ${r.count}, ${r.stride}, ${r.delta}}`).join(', ') + ',');
}
out.push('};');
out.push(`const size_t plm_ucd_lower_n = ${runs.length};`);
process.stdout.write(out.join('\n') + '\n');
