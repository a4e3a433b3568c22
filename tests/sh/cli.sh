#!/usr/bin/env bash
# The CLI contract (docs/architecture.md, "Tools"): run prints only generated text on stdout (llama.cpp's, for the reference prompt),
# timings on stderr; info and bench print JSON; chat answers a piped conversation; tokenize prints a JSON array.
set -euo pipefail
bin=build/native/pocketlm
fail=0
check() { if eval "$2"; then echo "  ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

want=$(node -e 'process.stdout.write(require("./models/REFERENCE.json")["stories260K.gguf"][0].text)')
out=$($bin run -m models/stories260K.gguf -p "Once upon a time" -n 100 2>build/cli-stderr.txt)
check "run: stdout is exactly llama.cpp's continuation" '[ "$out" == "$want" ]'
check "run: timings on stderr" 'grep -q "decode:.*tok/s" build/cli-stderr.txt'

ids=$($bin tokenize -m models/stories260K.gguf -p "Once upon a time" 2>/dev/null)
check "tokenize: reference prompt ids" '[ "$ids" == "[1, 403, 407, 261, 378]" ]'

$bin info -m models/TinyStories-656K-Q8_0.gguf 2>/dev/null > build/cli-info.json
check "info: JSON with metadata and tensors" 'node -e "const j=require(\"./build/cli-info.json\"); if (j.metadata[\"llama.block_count\"] !== 2 || j.tensors.length < 10 || j.tensors[0].type === undefined) process.exit(1)"'

$bin bench -m models/stories260K.gguf -p 16 -n 8 --threads 2 2>/dev/null > build/cli-bench.json
check "bench: JSON with prefill_tok_s and decode_tok_s" 'node -e "const j=require(\"./build/cli-bench.json\"); if (!(j.prefill_tok_s > 0 && j.decode_tok_s > 0 && j.threads === 2)) process.exit(1)"'

reply=$(printf 'Tell me a story.\nAnd another one.\n' | $bin chat -m models/stories260K.gguf -n 16 2>build/cli-stderr.txt)
check "chat: two turns answered, template reported" '[ $(printf "%s\n" "$reply" | grep -c .) -ge 1 ] && grep -q "chat template" build/cli-stderr.txt'

seed1=$($bin run -m models/stories260K.gguf -p "Tom" -n 30 --temp 0.8 --seed 7 2>/dev/null)
seed2=$($bin run -m models/stories260K.gguf -p "Tom" -n 30 --temp 0.8 --seed 7 2>/dev/null)
seed3=$($bin run -m models/stories260K.gguf -p "Tom" -n 30 --temp 0.8 --seed 8 2>/dev/null)
check "run: same seed, same text; another seed, other text" '[ "$seed1" == "$seed2" ] && [ "$seed1" != "$seed3" ]'

rm -f build/cli-stderr.txt build/cli-info.json build/cli-bench.json
[ $fail -eq 0 ] && echo "cli: all checks passed"
exit $fail
