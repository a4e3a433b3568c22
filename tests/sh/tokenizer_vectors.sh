#!/usr/bin/env bash
# llama.cpp's tokenizer test vectors through the CLI: every input of models/vocab/<vocab>.gguf.inp is tokenized with
# `build/native/pocketlm tokenize -m <vocab>.gguf -f <file> --no-bos` and compared with the same line of .out.
# Run from the repo root after `make native`.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=build/native/pocketlm
[ -x "$BIN" ] || { echo "tokenizer_vectors: $BIN not built" >&2; exit 1; }
command -v node >/dev/null || { echo "tokenizer_vectors: FAIL: node is needed to compare the vectors (apt-get install nodejs)" >&2; exit 1; }
node - "$BIN" models/vocab/ggml-vocab-llama-spm.gguf models/vocab/ggml-vocab-gpt-2.gguf <<'JS'
const { readFileSync, writeFileSync, mkdtempSync, rmSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const os = require('node:os');
const [bin, ...vocabs] = process.argv.slice(2);
const tmp = mkdtempSync(join(os.tmpdir(), 'plm-vectors-'));
let pass = 0, fail = 0;
try {
  for (const vocab of vocabs) {
    const inp = readFileSync(vocab + '.inp');
    const outLines = readFileSync(vocab + '.out', 'utf8').split('\n');
    const sep = Buffer.from('\n__ggml_vocab_test__\n');
    const cases = [];
    for (let pos = 0; pos < inp.length;) {
      const next = inp.indexOf(sep, pos);
      const end = next < 0 ? inp.length : next;
      cases.push(inp.subarray(pos, end));
      pos = next < 0 ? inp.length : end + sep.length;
    }
    let ok = 0;
    cases.forEach((text, i) => {
      const want = outLines[i].trim() === '' ? [] : outLines[i].trim().split(/\s+/).map(Number);
      const file = join(tmp, 'case.txt');
      writeFileSync(file, text);
      let got;
      try {
        got = JSON.parse(execFileSync(bin, ['tokenize', '-m', vocab, '-f', file, '--no-bos'],
                                      { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
      } catch (e) { got = String(e.message).split('\n')[0]; }
      if (JSON.stringify(got) === JSON.stringify(want)) { ok++; pass++; } else {
        fail++;
        console.error(`FAIL ${vocab} case ${i + 1} ${JSON.stringify(text.toString())}\n  want ${JSON.stringify(want)}\n  got  ${JSON.stringify(got)}`);
      }
    });
    console.log(`${vocab}: ${ok}/${cases.length} cases exact through the CLI`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
JS
