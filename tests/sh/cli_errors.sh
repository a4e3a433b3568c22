#!/usr/bin/env bash
# CLI error contract (docs/architecture.md, "Tools"): on a bad model or a bad argument `pocketlm` exits with status exactly 1 (never a
# signal, never 0), says what is wrong on stderr and prints nothing on stdout.
#
# The malformed GGUF files come from the C suite (build/native/test_gguf --write-cases DIR): one NAME.gguf per case
# and NAME.expect holding the accepted status names (line 1, "A|B") and the message pattern (line 2: alternatives
# separated by '|', each a list of substrings joined by '&'; "!x" means x must not appear).
#
# Usage: bash tests/sh/cli_errors.sh   (from the repository root, after `make native build/native/test_gguf`)
#        POCKETLM=path/to/pocketlm to test another build (e.g. build/asan/pocketlm).
set -u
cd "$(dirname "$0")/../.."

BIN=${POCKETLM:-build/native/pocketlm}
GEN=${TEST_GGUF:-build/native/test_gguf}
for f in "$BIN" "$GEN"; do
    if [ ! -x "$f" ]; then echo "cli_errors: $f is missing (run: make native $GEN)" >&2; exit 1; fi
done

mkdir -p build
TMP=$(mktemp -d build/cli-errors.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
"$GEN" --write-cases "$TMP/cases" || { echo "cli_errors: $GEN --write-cases failed" >&2; exit 1; }

fails=0 checks=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run_cli LABEL ARGS... : runs the binary with a time limit; sets rc, out, err.
run_cli() {
    local label=$1; shift
    checks=$((checks + 1))
    timeout 60 "$BIN" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    rc=$?
    out=$(cat "$TMP/out")
    err=$(cat "$TMP/err")
    if [ "$rc" -eq 126 ] || [ "$rc" -eq 127 ]; then fail "$label: could not execute $BIN (exit $rc)"; return 1; fi
    if [ "$rc" -eq 124 ]; then fail "$label: timed out (a hang): $BIN $*"; return 1; fi
    if [ "$rc" -ge 128 ]; then fail "$label: killed by signal $((rc - 128)): $BIN $*"; echo "$err" | tail -5; return 1; fi
    return 0
}

# matches TEXT PATTERN: PATTERN as in .expect line 2.
matches() {
    local text=$1 pat=$2 alt part ok
    [ -z "$pat" ] && return 0
    IFS='|' read -r -a alts <<<"$pat"
    for alt in "${alts[@]}"; do
        ok=1
        IFS='&' read -r -a parts <<<"$alt"
        for part in "${parts[@]}"; do
            if [ "${part#!}" != "$part" ]; then
                case "$text" in *"${part#!}"*) ok=0 ;; esac # "!x": x must not appear
            else
                case "$text" in *"$part"*) ;; *) ok=0 ;; esac
            fi
        done
        [ "$ok" = 1 ] && return 0
    done
    return 1
}

# expect_error LABEL STATUSES PATTERN ARGS... : exit 1, "error [STATUS]" with an accepted status, message pattern,
# empty stdout.
expect_error() {
    local label=$1 statuses=$2 pat=$3; shift 3
    run_cli "$label" "$@" || return
    if [ "$rc" -ne 1 ]; then fail "$label: exit status $rc, expected 1 ($BIN $*)"; return; fi
    if [ -n "$out" ]; then fail "$label: stdout is not empty: $(printf %s "$out" | head -c 200)"; fi
    if [ -n "$statuses" ]; then
        local ok=0 s
        IFS='|' read -r -a sts <<<"$statuses"
        for s in "${sts[@]}"; do case "$err" in *"error [$s]"*) ok=1 ;; esac; done
        [ "$ok" = 1 ] || fail "$label: stderr has no 'error [$statuses]': $(printf %s "$err" | head -c 300)"
    fi
    # the file name itself must not satisfy the pattern (case files are named after what they break)
    local shown=$err a
    for a in "$@"; do case "$a" in "$TMP/cases/"*) shown=${shown//"$a"/FILE} ;; esac; done
    matches "$shown" "$pat" || fail "$label: stderr does not name the problem (want '$pat'): $(printf %s "$err" | head -c 300)"
}

expect_ok() {
    local label=$1; shift
    run_cli "$label" "$@" || return
    [ "$rc" -eq 0 ] || fail "$label: exit status $rc, expected 0: $(printf %s "$err" | tail -3)"
}

# ---- every malformed GGUF from the C suite, through info, run and tokenize ----
ncases=0
for g in "$TMP"/cases/*.gguf; do
    name=$(basename "$g" .gguf)
    [ -f "$TMP/cases/$name.expect" ] || continue
    statuses=$(sed -n 1p "$TMP/cases/$name.expect")
    pat=$(sed -n 2p "$TMP/cases/$name.expect")
    ncases=$((ncases + 1))
    expect_error "info $name" "$statuses" "$pat" info -m "$g"
    expect_error "run $name" "$statuses" "$pat" run -m "$g" -p "once upon" -n 4
    expect_error "tokenize $name" "$statuses" "$pat" tokenize -m "$g" -p "once upon"
done
[ "$ncases" -gt 50 ] || fail "only $ncases malformed cases were written"

# ---- files that are not models ----
expect_error "missing file" "IO" "cannot open&$TMP/no-such.gguf" info -m "$TMP/no-such.gguf"
expect_error "missing file (run)" "IO" "no-such.gguf" run -m "$TMP/no-such.gguf" -p hi
mkdir -p "$TMP/a-directory.gguf"
expect_error "directory" "IO|BAD_MODEL" "a-directory.gguf" info -m "$TMP/a-directory.gguf"
expect_error "directory (run)" "IO|BAD_MODEL" "a-directory.gguf" run -m "$TMP/a-directory.gguf" -p hi
: >"$TMP/empty.gguf"
expect_error "empty file" "BAD_MODEL" "empty.gguf&truncated|empty.gguf&empty" info -m "$TMP/empty.gguf"
expect_error "empty file (tokenize)" "BAD_MODEL" "empty.gguf" tokenize -m "$TMP/empty.gguf" -p hi
printf 'hello, this is a text file and not a model\n' >"$TMP/text.gguf"
expect_error "text file" "BAD_MODEL" "not a GGUF" info -m "$TMP/text.gguf"
cp models/stories260K.bin "$TMP/llama2c.bin" 2>/dev/null &&
    expect_error "llama2.c checkpoint" "BAD_MODEL" "not a GGUF" run -m "$TMP/llama2c.bin" -p hi

# ---- the valid files work ----
valid="$TMP/cases/valid.gguf"
expect_ok "valid info" info -m "$valid"
case "$out" in "{"*"}") ;; *) fail "valid info: stdout is not a JSON object: $(printf %s "$out" | head -c 100)" ;; esac
expect_ok "valid run" run -m "$valid" -p "once upon" -n 4
expect_ok "valid tokenize" tokenize -m "$valid" -p "once upon"
case "$out" in "["*"]") ;; *) fail "valid tokenize: stdout is not a JSON array: $out" ;; esac
expect_ok "vocab-only tokenize" tokenize -m "$TMP/cases/vocab_only.gguf" -p "once upon"
expect_error "vocab-only run" "" "vocabulary|vocab" run -m "$TMP/cases/vocab_only.gguf" -p "once upon"

# ---- bad arguments ----
expect_error "no arguments" "" "usage"
expect_error "unknown command" "" "usage" frobnicate -m "$valid"
expect_error "unknown option" "" "--bogus" run -m "$valid" -p hi --bogus 3
expect_error "unknown flag" "" "--bogus" info -m "$valid" --bogus
expect_error "-n abc" "" "-n&abc" run -m "$valid" -p hi -n abc
expect_error "-n empty" "" "-n" run -m "$valid" -p hi -n ""
expect_error "-n 1e30" "" "-n" run -m "$valid" -p hi -n 1e30
expect_error "-n 5x" "" "-n&5x" run -m "$valid" -p hi -n 5x
expect_error "--temp abc" "" "--temp" run -m "$valid" -p hi --temp abc
expect_error "--threads 0" "" "threads" run -m "$valid" -p hi --threads 0
expect_error "--threads 100000" "" "threads" run -m "$valid" -p hi --threads 100000
expect_error "-c 1e30" "" "-c|context" run -m "$valid" -p hi -c 1e30
expect_error "-c -5" "" "-c|context" run -m "$valid" -p hi -c -5
expect_error "-m without value" "" "-m" run -p hi -m
expect_error "-p without value" "" "-p" run -m "$valid" -p
expect_error "missing -m" "" "-m" run -p hi
expect_error "run without -p" "" "-p" run -m "$valid"
expect_error "tokenize without text" "" "-p|-f" tokenize -m "$valid"
expect_error "tokenize -p and -f" "" "-p|-f" tokenize -m "$valid" -p hi -f "$valid"
expect_error "tokenize missing -f file" "" "$TMP/no-such.txt" tokenize -m "$valid" -f "$TMP/no-such.txt"

echo "cli_errors: $ncases malformed files x 3 commands, $checks checks, $fails failures"
[ "$fails" -eq 0 ]
