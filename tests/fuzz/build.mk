# libFuzzer build of the GGUF reader, streaming loader, model binding and tokenizer (tests/fuzz/fuzz_gguf.c).
# Included by the main Makefile, which defines CORE_SRC, CPPFLAGS and LDLIBS.
#
#   make fuzz                      build build/fuzz/fuzz_gguf (clang with -fsanitize=fuzzer,address,undefined)
#   make fuzz-smoke                60 s over the seed corpus (tests/fuzz/corpus); fails on any crash, leak or hang
#   make fuzz-run FUZZ_TIME=600    a longer run; new inputs go to build/fuzz/corpus, crashes to build/fuzz/crashes
#   make fuzz-regress              every saved reproducer in tests/fuzz/crashes must now run clean
#
# The kernels are the scalar reference (simd/scalar.c): strict C, so misaligned or out-of-bounds weight reads show.
.PHONY: fuzz fuzz-smoke fuzz-run fuzz-regress

FUZZ_CC ?= $(firstword $(shell command -v clang-19 clang-18 clang-17 clang-16 clang-15 clang-14 clang 2>/dev/null))
# Every UBSan check is on, clang's float-cast-overflow included (NaN activations from garbage weights once reached
# float-to-int conversions in simd/scalar.c: tests/fuzz/crashes/ub-nan-*). FUZZ_NO_SANITIZE=check turns one off.
FUZZ_NO_SANITIZE ?=
FUZZ_CFLAGS := -std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
               $(if $(FUZZ_NO_SANITIZE),-fno-sanitize=$(FUZZ_NO_SANITIZE))
FUZZ_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(CORE_SRC))
FUZZ_TIME ?= 600
FUZZ_OPTS := -max_len=65536 -timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=4096 -dict=tests/fuzz/gguf.dict \
             -print_final_stats=1

fuzz: build/fuzz/fuzz_gguf

build/fuzz/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@test -n "$(FUZZ_CC)" || { echo "fuzz: no clang found (apt-get install clang-19 libclang-rt-19-dev)"; exit 1; }
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/fuzz_gguf: build/fuzz/obj/tests/fuzz/fuzz_gguf.o $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz-smoke: build/fuzz/fuzz_gguf
	@mkdir -p build/fuzz/smoke-corpus build/fuzz/crashes
	build/fuzz/fuzz_gguf $(FUZZ_OPTS) -seed=1 -max_total_time=60 -artifact_prefix=build/fuzz/crashes/ \
	    build/fuzz/smoke-corpus tests/fuzz/corpus

fuzz-run: build/fuzz/fuzz_gguf
	@mkdir -p build/fuzz/corpus build/fuzz/crashes
	build/fuzz/fuzz_gguf $(FUZZ_OPTS) -max_total_time=$(FUZZ_TIME) -artifact_prefix=build/fuzz/crashes/ \
	    build/fuzz/corpus tests/fuzz/corpus

fuzz-regress: build/fuzz/fuzz_gguf
	@set -e; n=0; for f in tests/fuzz/crashes/*; do \
	    case "$$f" in *.md|*.txt|*'*') continue;; esac; n=$$((n+1)); \
	    build/fuzz/fuzz_gguf -runs=1 "$$f" >/dev/null 2>&1 || { echo "fuzz-regress: $$f still fails:"; \
	    build/fuzz/fuzz_gguf -runs=1 "$$f" 2>&1 | grep -E "ERROR|runtime error|#[0-9] " | head -12; exit 1; }; \
	done; echo "fuzz-regress: $$n reproducers run clean"
