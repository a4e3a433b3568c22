#!/usr/bin/env bash
# Model tools end to end: llama2c-to-gguf, quantize, gen-bench-model, checked by running the results with
# build/native/pocketlm. Run from the repository root after `make native` (make test does both).
set -euo pipefail

BIN=build/native
for b in pocketlm llama2c-to-gguf quantize gen-bench-model; do
    [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b is missing (run make native)" >&2; exit 1; }
done
mkdir -p build
T=$(mktemp -d build/tools-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'echo "FAIL: tests/sh/tools.sh line $LINENO: $BASH_COMMAND" >&2' ERR

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "  ok: $*"; }
PROMPT="Once upon a time"

# ---- llama2.c -> GGUF
echo "llama2c-to-gguf:"
"$BIN/llama2c-to-gguf" models/stories260K.bin models/tok512.bin "$T/conv.gguf" 2>"$T/log" || { cat "$T/log" >&2; fail "conversion"; }
"$BIN/pocketlm" run -m models/stories260K.gguf -p "$PROMPT" -n 100 >"$T/ref.txt" 2>/dev/null
"$BIN/pocketlm" run -m "$T/conv.gguf" -p "$PROMPT" -n 100 >"$T/conv.txt" 2>/dev/null
[ -s "$T/ref.txt" ] || fail "no output from models/stories260K.gguf"
cmp -s "$T/ref.txt" "$T/conv.txt" || { diff "$T/ref.txt" "$T/conv.txt" >&2 || true; fail "greedy output of the converted model differs from models/stories260K.gguf"; }
ok "stories260K.bin + tok512.bin -> GGUF: same 100 greedy tokens as models/stories260K.gguf"
# Default context_length is the checkpoint's seq_len (512); llama.cpp's file says 2048: that is the only difference.
ndiff=$(cmp -l "$T/conv.gguf" models/stories260K.gguf | wc -l || true)
[ "$ndiff" = 1 ] || fail "converted file differs from models/stories260K.gguf in $ndiff bytes (expected 1: context_length)"
"$BIN/llama2c-to-gguf" models/stories260K.bin models/tok512.bin "$T/conv2048.gguf" --ctx 2048 2>/dev/null
cmp "$T/conv2048.gguf" models/stories260K.gguf || fail "with --ctx 2048 the file is not byte-identical to models/stories260K.gguf"
ok "with --ctx 2048 byte-identical to models/stories260K.gguf (metadata, tokenizer, every tensor); default differs only in context_length"
"$BIN/llama2c-to-gguf" models/stories260K.bin models/tok512.bin "$T/tied.gguf" --tied 2>/dev/null
"$BIN/pocketlm" run -m "$T/tied.gguf" -p "$PROMPT" -n 100 >"$T/tied.txt" 2>/dev/null
cmp -s "$T/ref.txt" "$T/tied.txt" || fail "--tied (no output.weight) model generates differently"
ok "--tied (no output.weight): same greedy output"
# An untied checkpoint (vocab_size < 0, classifier after the rope tables): stories260K with its embedding appended as
# the classifier must convert to exactly the same file as the shared one.
{ head -c 20 models/stories260K.bin; printf '\x00\xfe\xff\xff'; tail -c +25 models/stories260K.bin;
  head -c $((28 + 512 * 64 * 4)) models/stories260K.bin | tail -c $((512 * 64 * 4)); } >"$T/untied.bin"
"$BIN/llama2c-to-gguf" "$T/untied.bin" models/tok512.bin "$T/untied.gguf" 2>/dev/null
cmp "$T/untied.gguf" "$T/conv.gguf" || fail "untied checkpoint (vocab_size -512 + classifier) converts differently"
ok "untied checkpoint (negative vocab_size, separate classifier): same file as the shared conversion"
head -c 100000 models/stories260K.bin >"$T/trunc.bin"
if "$BIN/llama2c-to-gguf" "$T/trunc.bin" models/tok512.bin "$T/bad.gguf" 2>"$T/log"; then fail "truncated checkpoint accepted"; fi
[ ! -e "$T/bad.gguf" ] || fail "a failed conversion left an output file"
grep -q "bytes" "$T/log" || fail "no message for a truncated checkpoint"
ok "truncated checkpoint: exit 1 with a message ($(head -c 80 "$T/log")...)"

# ---- quantize
echo "quantize:"
for ty in Q8_0 Q4_0; do
    "$BIN/quantize" models/stories260K.gguf "$T/s-$ty.gguf" "$ty" 2>"$T/log" || { cat "$T/log" >&2; fail "quantize $ty"; }
    grep -q "falling back to F16" "$T/log" || fail "quantize $ty: no fallback note for ffn_down (row 172)"
    "$BIN/pocketlm" run -m "$T/s-$ty.gguf" -p "$PROMPT" -n 20 >"$T/q.txt" 2>"$T/log" || { cat "$T/log" >&2; fail "pocketlm run on stories260K $ty"; }
    [ -s "$T/q.txt" ] || fail "stories260K $ty generated nothing"
    "$BIN/pocketlm" info -m "$T/s-$ty.gguf" >"$T/info.json" 2>/dev/null
    n=$(grep -o "\"type\":\"$ty\"" "$T/info.json" | wc -l)
    [ "$n" -ge 20 ] || fail "stories260K $ty has only $n tensors of type $ty"
    grep -q "\"general.file_type\":$([ $ty = Q8_0 ] && echo 7 || echo 2)" "$T/info.json" || fail "general.file_type not set for $ty"
    ok "stories260K.gguf -> $ty ($(stat -c %s "$T/s-$ty.gguf") bytes, $n $ty tensors, ffn_down F16 fallback): runs, $(wc -c <"$T/q.txt") bytes of text"
done
# Same input, same output: the quantizer is deterministic.
"$BIN/quantize" models/stories260K.gguf "$T/again.gguf" Q4_0 2>/dev/null
cmp -s "$T/again.gguf" "$T/s-Q4_0.gguf" || fail "quantize is not deterministic"
ok "deterministic (two Q4_0 runs byte-identical)"
"$BIN/quantize" models/TinyStories-656K-Q8_0.gguf "$T/ts-Q4_0.gguf" Q4_0 2>"$T/log" || { cat "$T/log" >&2; fail "requantize TinyStories"; }
# The committed quantized models (tests/data/models, inputs of the llama.cpp reference outputs) should be what the
# quantizer makes today; a difference is not an error of the files, but they should then be regenerated.
for pair in "stories260K-Q8_0:s-Q8_0" "stories260K-Q4_0:s-Q4_0" "TinyStories-656K-Q4_0:ts-Q4_0"; do
    f=${pair%%:*}
    if [ -e "tests/data/models/$f.gguf" ] && ! cmp -s "tests/data/models/$f.gguf" "$T/${pair#*:}.gguf"; then
        echo "  note: tests/data/models/$f.gguf differs from a fresh quantization (the quantizer changed?): regenerate it" \
             "with build/native/quantize and re-record its reference outputs"
    fi
done
grep -q "requantizing" "$T/log" || fail "no requantization note"
"$BIN/pocketlm" run -m "$T/ts-Q4_0.gguf" -p "$PROMPT" -n 20 >/dev/null 2>"$T/log" || { cat "$T/log" >&2; fail "run TinyStories Q4_0"; }
ok "TinyStories-656K Q8_0 -> Q4_0 (requantized, tied embeddings keep Q8_0 as llama.cpp): runs"
if "$BIN/quantize" models/tok512.bin "$T/bad.gguf" Q8_0 2>"$T/log"; then fail "quantize accepted a non-GGUF file"; fi
[ ! -e "$T/bad.gguf" ] || fail "a failed quantize left an output file"
if "$BIN/quantize" models/stories260K.gguf "$T/bad.gguf" IQ2_XXS 2>/dev/null; then fail "quantize accepted type IQ2_XXS"; fi
ok "non-GGUF input and unknown type: exit 1"

# ---- gen-bench-model
echo "gen-bench-model:"
start=$(date +%s%N)
"$BIN/gen-bench-model" --shape tiny --type Q4_0 -o "$T/tiny.gguf" --seed 7 2>"$T/log" || { cat "$T/log" >&2; fail "gen-bench-model"; }
ms=$(( ($(date +%s%N) - start) / 1000000 ))
"$BIN/pocketlm" bench -m "$T/tiny.gguf" -p 16 -n 8 >"$T/bench.json" 2>"$T/log" || { cat "$T/log" >&2; fail "pocketlm bench on the tiny model"; }
grep -q '"decode_tok_s"' "$T/bench.json" || fail "bench output has no decode_tok_s: $(cat "$T/bench.json")"
ok "tiny Q4_0 ($(stat -c %s "$T/tiny.gguf") bytes, ${ms} ms): pocketlm bench -> $(cat "$T/bench.json")"
"$BIN/gen-bench-model" --shape tiny --type Q4_0 -o "$T/tiny1.gguf" --seed 7 --threads 1 2>/dev/null
cmp -s "$T/tiny.gguf" "$T/tiny1.gguf" || fail "gen-bench-model output depends on the thread count"
ok "same seed -> same file with 1 thread"
"$BIN/gen-bench-model" --shape tiny --type F16 -o "$T/tiny-f16.gguf" 2>/dev/null
"$BIN/quantize" "$T/tiny-f16.gguf" "$T/tiny-q4km.gguf" Q4_K_M 2>"$T/log" || { cat "$T/log" >&2; fail "quantize Q4_K_M"; }
grep -q "output.weight .* -> Q6_K" "$T/log" || fail "Q4_K_M: output.weight is not Q6_K"
grep -q "blk.1.ffn_down.weight .* -> Q6_K" "$T/log" || fail "Q4_K_M: ffn_down of the last layer is not Q6_K"
grep -q "blk.0.ffn_up.weight .* -> Q4_K" "$T/log" || fail "Q4_K_M: ffn_up is not Q4_K"
"$BIN/pocketlm" run -m "$T/tiny-q4km.gguf" -p "$PROMPT" -n 8 >/dev/null 2>"$T/log" || { cat "$T/log" >&2; fail "run Q4_K_M"; }
ok "tiny F16 -> Q4_K_M (Q4_K + Q6_K for output/attn_v/ffn_down as llama.cpp): runs"
# The llama3-tiny, qwen2-tiny, qwen3-tiny, gemma3-tiny(-cap) and gemma2-tiny conformance models in tests/data/models are this tool's output: regenerated byte for
# byte (so the llama.cpp reference recorded on them in tests/data/conformance stays tied to the tool that made them).
for spec in "llama3-tiny:Q8_0:" "llama3-tiny:Q4_0:" "llama3-tiny:Q4_0:--tied" "qwen2-tiny:Q8_0:--tied" "qwen2-tiny:Q4_0:" \
            "qwen3-tiny:Q8_0:" "qwen3-tiny:Q4_0:--tied" "gemma3-tiny:Q8_0:" "gemma3-tiny:Q4_0:--tied" \
            "gemma3-tiny-cap:Q8_0:" "gemma2-tiny:Q8_0:--tied" "gemma2-tiny:Q4_0:--tied" \
            "phi3-tiny:Q8_0:" "phi3-tiny:Q4_0:--tied" "phi3-tiny-long:Q8_0:--tied" "phi3-tiny-long:Q4_0:"; do
    IFS=: read -r shape type tied <<<"$spec"
    f=$shape-$type${tied:+-tied}.gguf
    "$BIN/gen-bench-model" --shape "$shape" --type "$type" $tied -o "$T/$f" 2>/dev/null
    cmp -s "$T/$f" "tests/data/models/$f" || fail "gen-bench-model --shape $shape --type $type $tied differs from tests/data/models/$f"
    want=$(node -e "console.log(JSON.parse(require('fs').readFileSync('tests/data/conformance/$f.json','utf8')).model_sha256)")
    [ "$(sha256sum "$T/$f" | cut -d' ' -f1)" = "$want" ] || fail "$f: sha256 differs from the recorded reference's model_sha256"
done
ok "llama3-tiny Q8_0, Q4_0, Q4_0 --tied, qwen2-tiny Q8_0 --tied, Q4_0, qwen3-tiny and gemma3-tiny Q8_0, Q4_0 --tied, gemma3-tiny-cap Q8_0, gemma2-tiny Q8_0, Q4_0 --tied, phi3-tiny Q8_0, Q4_0 --tied, phi3-tiny-long Q8_0 --tied, Q4_0: byte-identical to tests/data/models, sha256 as recorded"
# One conformance model per weight type (the 256-block types in llama3-tiny-k's shape, BF16 with 1024 tokens), and
# the _M mixes tools/quantize makes from an F32 llama3-tiny-k, the way a user makes them from a converted model.
same_as_recorded() { # FILE.gguf in $T vs tests/data/models and its reference's model_sha256
    cmp -s "$T/$1" "tests/data/models/$1" || fail "$2 differs from tests/data/models/$1"
    want=$(node -e "console.log(JSON.parse(require('fs').readFileSync('tests/data/conformance/$1.json','utf8')).model_sha256)")
    [ "$(sha256sum "$T/$1" | cut -d' ' -f1)" = "$want" ] || fail "$1: sha256 differs from the recorded reference's model_sha256"
}
for spec in "Q5_K:llama3-tiny-k:--tied" "Q3_K:llama3-tiny-k:--tied" "IQ4_XS:llama3-tiny-k:--tied" \
            "Q2_K:llama3-tiny-k:--tied" "Q5_0:llama3-tiny:" "Q4_1:llama3-tiny:" "Q5_1:llama3-tiny:" \
            "IQ4_NL:llama3-tiny:" "BF16:llama3-tiny:--tied --n-vocab 1024"; do
    IFS=: read -r type shape flags <<<"$spec"
    f=llama3-tiny-$type.gguf
    [ -f "tests/data/conformance/$f.json" ] || continue
    "$BIN/gen-bench-model" --shape "$shape" --type "$type" $flags -o "$T/$f" 2>/dev/null
    same_as_recorded "$f" "gen-bench-model --shape $shape --type $type $flags"
done
"$BIN/gen-bench-model" --shape llama3-tiny-k --type F32 --tied -o "$T/l3k-f32.gguf" 2>/dev/null
for mix in Q4_K_M Q5_K_M Q3_K_M; do
    f=llama3-tiny-$mix.gguf
    "$BIN/quantize" "$T/l3k-f32.gguf" "$T/$f" $mix 2>"$T/log-$mix" || { cat "$T/log-$mix" >&2; fail "quantize $mix"; }
    [ -f "tests/data/conformance/$f.json" ] && same_as_recorded "$f" "quantize $mix of gen-bench-model --shape llama3-tiny-k --type F32 --tied"
done
# llama.cpp's mixture rules on a 2-layer model with 2 KV heads for 4 query heads (llama_tensor_get_type)
grep -q "token_embd.weight .* -> Q6_K" "$T/log-Q5_K_M" || fail "Q5_K_M: the tied output (token_embd) is not Q6_K"
grep -q "blk.1.attn_v.weight .* -> Q6_K" "$T/log-Q5_K_M" || fail "Q5_K_M: attn_v of the last layer is not Q6_K"
grep -q "blk.0.ffn_down.weight .* -> Q5_K" "$T/log-Q5_K_M" || fail "Q5_K_M: ffn_down of layer 0 is not Q5_K"
grep -q "blk.0.attn_v.weight .* -> Q5_K" "$T/log-Q3_K_M" || fail "Q3_K_M: the first attn_v is not Q5_K"
grep -q "blk.0.attn_output.weight .* -> Q4_K" "$T/log-Q3_K_M" || fail "Q3_K_M: attn_output is not Q4_K"
grep -q "blk.0.ffn_down.weight .* -> Q4_K" "$T/log-Q3_K_M" || fail "Q3_K_M: ffn_down is not Q4_K"
grep -q "blk.0.ffn_up.weight .* -> Q3_K" "$T/log-Q3_K_M" || fail "Q3_K_M: ffn_up is not Q3_K"
"$BIN/quantize" "$T/tiny-f16.gguf" "$T/tiny-q3km.gguf" Q3_K_M 2>"$T/log" || fail "quantize tiny Q3_K_M"
grep -q "blk.0.ffn_down.weight *\[768 x 256\] F16 -> Q4_K" "$T/log" || fail "Q3_K_M: ffn_down (rows of 768) should stay Q4_K"
"$BIN/quantize" "$T/l3k-f32.gguf" "$T/l3k-q3.gguf" Q3_K 2>/dev/null && cmp -s "$T/l3k-q3.gguf" "$T/llama3-tiny-Q3_K_M.gguf" \
    || fail "Q3_K is not Q3_K_M"
ok "per-type llama3-tiny models and the Q4_K_M/Q5_K_M/Q3_K_M mixes: byte-identical to tests/data/models; llama.cpp's mixture rules"
echo "tools: all checks passed"
