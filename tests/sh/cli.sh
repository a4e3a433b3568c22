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

check "info: the inspect facts (supported, the Q8_0 tensors, the weights as the tensor table sums them)" 'node -e "const j=require(\"./build/cli-info.json\"), i=j.inspect; const q8=j.tensors.filter((t)=>t.type===\"Q8_0\"); if (!i.supported || i.architecture !== \"llama\" || i.types.Q8_0.tensors !== q8.length || i.types.Q8_0.bytes !== q8.reduce((s,t)=>s+t.bytes,0) || i.memory.weights !== j.weight_bytes) process.exit(1)"'

check "info and --version: the package's version" 'node -e "const j=require(\"./build/cli-info.json\"); if (j.pocketlm_version !== require(\"./package.json\").version) process.exit(1)" && [ "$($bin --version)" == "pocketlm $(node -p "require(\"./package.json\").version")" ]'

$bin bench -m models/stories260K.gguf -p 16 -n 8 --threads 2 2>/dev/null > build/cli-bench.json
check "bench: JSON with prefill_tok_s and decode_tok_s" 'node -e "const j=require(\"./build/cli-bench.json\"); if (!(j.prefill_tok_s > 0 && j.decode_tok_s > 0 && j.threads === 2)) process.exit(1)"'

# chat: each turn's reply is the greedy continuation of the conversation so far rendered with ChatML (the template
# the CLI reports for this model), the same as `run` on that text; the replies follow each other, one per turn.
printf 'Tell me a story.\nAnd another one.\n' | $bin chat -m models/stories260K.gguf -n 16 >build/cli-chat.txt 2>build/cli-stderr.txt
turn() { $bin run -m models/stories260K.gguf --parse-special -n 16 -p "$1" 2>/dev/null; }
u1=$'<|im_start|>user\nTell me a story.<|im_end|>\n'
turn "${u1}<|im_start|>assistant"$'\n' >build/cli-turn1.txt
r1=$(cat build/cli-turn1.txt; printf x); r1=${r1%x}
turn "${u1}<|im_start|>assistant"$'\n'"${r1}<|im_end|>"$'\n<|im_start|>user\nAnd another one.<|im_end|>\n<|im_start|>assistant\n' >build/cli-turn2.txt
{ cat build/cli-turn1.txt; echo; cat build/cli-turn2.txt; echo; } >build/cli-turns.txt
check "chat: two turns answered (each the greedy reply to the conversation so far), template reported" \
  '[ -s build/cli-turn1.txt ] && [ -s build/cli-turn2.txt ] && cmp -s build/cli-chat.txt build/cli-turns.txt && grep -q "chat template: chatml" build/cli-stderr.txt'

seed1=$($bin run -m models/stories260K.gguf -p "Tom" -n 30 --temp 0.8 --seed 7 2>/dev/null)
seed2=$($bin run -m models/stories260K.gguf -p "Tom" -n 30 --temp 0.8 --seed 7 2>/dev/null)
seed3=$($bin run -m models/stories260K.gguf -p "Tom" -n 30 --temp 0.8 --seed 8 2>/dev/null)
check "run: same seed, same text; another seed, other text" '[ "$seed1" == "$seed2" ] && [ "$seed1" != "$seed3" ]'

rm -f build/cli-stderr.txt build/cli-info.json build/cli-bench.json build/cli-chat.txt build/cli-turn1.txt build/cli-turn2.txt build/cli-turns.txt
[ $fail -eq 0 ] && echo "cli: all checks passed"
exit $fail
