# pocketlm — NEON and WebAssembly-SIMD kernel builds and their tests (included by the top-level Makefile, which
# defines CORE_SRC, HEADERS, CPPFLAGS, WARN, LDLIBS and apt_install).
#
#   make neon               build/neon/{pocketlm,test_kernels}: AArch64, baseline ARMv8.0 NEON (-march=armv8-a)
#                           build/neon-dotprod/{pocketlm,test_kernels}: ARMv8.2 SDOT (-march=armv8.2-a+dotprod)
#   make test-neon          both kernel tests under qemu-aarch64 (the baseline one on -cpu cortex-a53, which has no
#                           SDOT, so a post-v8.0 instruction would trap), then greedy decoding of the two reference
#                           models with each pocketlm under qemu must equal models/REFERENCE.json and report the
#                           neon backend
#   make test-wasm-kernels  tests/c/test_kernels.c for wasm32-wasi, scalar-only and SIMD128 builds, run by Node's
#                           node:wasi (tests/wasi-run.mjs); also builds the relaxed-SIMD one,
#                           build/wasi-kernels/relaxed/test_kernels.wasm, which runs in Chromium (Node 20's relaxed
#                           dot product is pre-standard)
#   make wasm-kernel-bench  tools/kernel-bench.c as wasm (SIMD128 build: scalar and wasm128 columns) under Node
#   make wasm-relaxed-kernel-bench  the relaxed-SIMD build of it (wasm-relaxed and, with -x, its exact table) in
#                           Chromium (tools/wasi-in-chromium.mjs); KERNEL_BENCH_ARGS="-T q6_K -S" and so on
#   make simd-deps          the Debian packages for all of this, installed only when missing
#
# Two NEON binaries rather than one with run-time detection: backend.c hands out one const table per build, and SDOT
# needs the feature at compile time; a dispatching build would carry two copies of every kernel behind target
# attributes and an AT_HWCAP check in backend.c. Both builds compute identical results (they differ only in how
# integer dot products are formed, which is exact), so which one a device runs never changes its output, only its
# speed; the baseline
# one runs on every ARMv8 CPU, the dotprod one on Cortex-A55/A75 and later, Apple M1 and later.

.PHONY: neon test-neon test-wasm-kernels wasm-kernel-bench wasm-relaxed-kernel-bench simd-deps

SIMD_APT_PKGS := gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user clang-19 lld-19 wasi-libc \
                 libclang-rt-19-dev-wasm32

simd-deps:
	$(call apt_install,$(SIMD_APT_PKGS))

# ---- NEON: cross-compiled with Debian's aarch64 gcc, run under qemu-user ----
NEON_CC      ?= aarch64-linux-gnu-gcc
NEON_CFLAGS  ?= -O2 -g
QEMU_AARCH64 ?= qemu-aarch64 -L /usr/aarch64-linux-gnu
NEON_SRC     := $(CORE_SRC) simd/neon.c
NEON_KSRC    := simd/scalar.c simd/libm_glibc.c simd/backend.c simd/neon.c tools/lib/quantize.c
NEON_ARCH_neon         := -march=armv8-a
NEON_ARCH_neon-dotprod := -march=armv8.2-a+dotprod

define NEON_BUILD
build/$(1)/obj/%.o: %.c $$(HEADERS) | simd-deps
	@mkdir -p $$(dir $$@)
	$$(NEON_CC) $$(CPPFLAGS) -DPLM_BACKEND_NEON $$(WARN) $$(NEON_CFLAGS) $$(NEON_ARCH_$(1)) -c $$< -o $$@

build/$(1)/pocketlm: $$(patsubst %.c,build/$(1)/obj/%.o,tools/pocketlm.c $$(NEON_SRC))
	$$(NEON_CC) $$(NEON_CFLAGS) -o $$@ $$^ $$(LDLIBS)

build/$(1)/test_kernels: $$(patsubst %.c,build/$(1)/obj/%.o,tests/c/test_kernels.c $$(NEON_KSRC))
	$$(NEON_CC) $$(NEON_CFLAGS) -o $$@ $$^ $$(LDLIBS)

build/$(1)/test_libm: $$(patsubst %.c,build/$(1)/obj/%.o,tests/c/test_libm.c simd/libm_glibc.c)
	$$(NEON_CC) $$(NEON_CFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach v,neon neon-dotprod,$(eval $(call NEON_BUILD,$(v))))

neon: build/neon/pocketlm build/neon/test_kernels build/neon-dotprod/pocketlm build/neon-dotprod/test_kernels \
      build/neon/test_libm

# Greedy ids of REFERENCE.json's prompt for one model ($(2)) from build/$(1)/pocketlm, which must say it runs the
# $(3) backend on stderr ("loaded ... (backend NAME)").
GREEDY_PROMPT := Once upon a time
GREEDY_CMP_JS := const fs = require("fs"); const [ref, model, prompt, file] = process.argv.slice(1); \
  const e = (JSON.parse(fs.readFileSync(ref, "utf8"))[model] || []).find((x) => x.prompt === prompt); \
  if (!e) { console.error("FAIL: no reference for " + model); process.exit(1); } \
  const got = JSON.parse(fs.readFileSync(file, "utf8")), want = e.greedy_tokens; let i = 0; \
  while (i < want.length && got[i] === want[i]) i++; \
  if (i === want.length && got.length === want.length) console.log("   ok: " + got.length + " ids equal the reference"); \
  else { console.error("FAIL: " + model + ": first difference at id " + i + " (got " + got[i] + ", want " + \
    want[i] + "), " + got.length + " ids"); process.exit(1); }

define NEON_GREEDY
@echo "== build/$(1)/pocketlm (qemu-aarch64): greedy ids of models/$(2)"
@$(QEMU_AARCH64) build/$(1)/pocketlm run -m models/$(2) -p "$(GREEDY_PROMPT)" -n 100 --print-ids \
  >build/$(1)/greedy-$(2).json 2>build/$(1)/greedy-$(2).log || { cat build/$(1)/greedy-$(2).log; exit 1; }
@grep -q "(backend $(3))" build/$(1)/greedy-$(2).log || \
  { echo "FAIL: build/$(1)/pocketlm did not run the $(3) backend:"; grep loaded build/$(1)/greedy-$(2).log; exit 1; }
@node -e '$(GREEDY_CMP_JS)' models/REFERENCE.json $(2) "$(GREEDY_PROMPT)" build/$(1)/greedy-$(2).json
endef

test-neon: neon
	@echo "== build/neon/test_kernels (qemu-aarch64 -cpu cortex-a53: ARMv8.0, no SDOT)"
	@$(QEMU_AARCH64) -cpu cortex-a53 build/neon/test_kernels
	@echo "== build/neon-dotprod/test_kernels (qemu-aarch64 -cpu max)"
	@$(QEMU_AARCH64) -cpu max build/neon-dotprod/test_kernels
	@echo "== build/neon/test_libm (qemu-aarch64): glibc's sinf/cosf/tanhf, reproduced"
	@$(QEMU_AARCH64) build/neon/test_libm
	$(call NEON_GREEDY,neon,stories260K.gguf,neon)
	$(call NEON_GREEDY,neon,TinyStories-656K-Q8_0.gguf,neon)
	$(call NEON_GREEDY,neon-dotprod,stories260K.gguf,neon-dotprod)
	$(call NEON_GREEDY,neon-dotprod,TinyStories-656K-Q8_0.gguf,neon-dotprod)
	@echo "test-neon passed"

# ---- WebAssembly (wasm32-wasi, clang-19 + Debian's wasi-libc), the kernels only ----
# Linked without -O: at -O2 and above clang runs wasm-opt when it is on PATH, and Debian's binaryen 108 rejects the
# final relaxed-SIMD opcodes (the objects are compiled at -O3). Variants: scalar (no SIMD at all, like the browser's
# scalar build), wasm128 (-msimd128), relaxed (-mrelaxed-simd; its test also defines PLM_BACKEND_WASM128).
SIMD_WASI_CC      ?= clang-19
SIMD_WASI_TARGET  := --target=wasm32-wasi --sysroot=/usr -isystem /usr/include/wasm32-wasi
SIMD_WASI_CFLAGS  := -O3 $(CPPFLAGS) $(WARN) -DPLM_NO_THREADS
SIMD_WASI_LDFLAGS := -L/usr/lib/wasm32-wasi -fuse-ld=/usr/bin/wasm-ld-19 -Wl,-z,stack-size=1048576
SIMD_WASI_KSRC    := simd/scalar.c simd/libm_glibc.c simd/backend.c tools/lib/quantize.c
SIMD_WASI_DEFS_scalar  :=
SIMD_WASI_DEFS_wasm128 := -msimd128 -DPLM_BACKEND_WASM128
SIMD_WASI_DEFS_relaxed := -msimd128 -mrelaxed-simd -DPLM_BACKEND_WASM128 -DPLM_BACKEND_WASM_RELAXED
SIMD_WASI_SRC_scalar   := $(SIMD_WASI_KSRC)
SIMD_WASI_SRC_wasm128  := $(SIMD_WASI_KSRC) simd/wasm128.c
SIMD_WASI_SRC_relaxed  := $(SIMD_WASI_KSRC) simd/wasm128.c
KERNEL_BENCH_SRC := tools/kernel-bench.c

define SIMD_WASI_BUILD
build/wasi-kernels/$(1)/obj/%.o: %.c $$(HEADERS) | simd-deps
	@mkdir -p $$(dir $$@)
	$$(SIMD_WASI_CC) $$(SIMD_WASI_TARGET) $$(SIMD_WASI_CFLAGS) $$(SIMD_WASI_DEFS_$(1)) -c $$< -o $$@

build/wasi-kernels/$(1)/test_kernels.wasm: $$(patsubst %.c,build/wasi-kernels/$(1)/obj/%.o,tests/c/test_kernels.c $$(SIMD_WASI_SRC_$(1)))
	$$(SIMD_WASI_CC) $$(SIMD_WASI_TARGET) $$(SIMD_WASI_LDFLAGS) -o $$@ $$^ -lm

build/wasi-kernels/$(1)/test_libm.wasm: $$(patsubst %.c,build/wasi-kernels/$(1)/obj/%.o,tests/c/test_libm.c simd/libm_glibc.c)
	$$(SIMD_WASI_CC) $$(SIMD_WASI_TARGET) $$(SIMD_WASI_LDFLAGS) -o $$@ $$^ -lm

build/wasi-kernels/$(1)/kernel-bench.wasm: $$(patsubst %.c,build/wasi-kernels/$(1)/obj/%.o,$$(KERNEL_BENCH_SRC) $$(SIMD_WASI_SRC_$(1)))
	$$(SIMD_WASI_CC) $$(SIMD_WASI_TARGET) $$(SIMD_WASI_LDFLAGS) -o $$@ $$^ -lm
endef
$(foreach v,scalar wasm128 relaxed,$(eval $(call SIMD_WASI_BUILD,$(v))))

test-wasm-kernels: $(foreach v,scalar wasm128 relaxed,build/wasi-kernels/$(v)/test_kernels.wasm) \
                   build/wasi-kernels/scalar/test_libm.wasm
	@echo "== build/wasi-kernels/scalar/test_libm.wasm (node:wasi)"
	@node tests/wasi-run.mjs build/wasi-kernels/scalar/test_libm.wasm
	@echo "== build/wasi-kernels/scalar/test_kernels.wasm (node:wasi)"
	@node tests/wasi-run.mjs build/wasi-kernels/scalar/test_kernels.wasm
	@echo "== build/wasi-kernels/wasm128/test_kernels.wasm (node:wasi)"
	@node tests/wasi-run.mjs build/wasi-kernels/wasm128/test_kernels.wasm
	@echo "built build/wasi-kernels/relaxed/test_kernels.wasm: runs in Chromium (relaxed SIMD), not in Node 20"

wasm-kernel-bench: build/wasi-kernels/wasm128/kernel-bench.wasm
	node tests/wasi-run.mjs build/wasi-kernels/wasm128/kernel-bench.wasm $(KERNEL_BENCH_ARGS)

wasm-relaxed-kernel-bench: build/wasi-kernels/relaxed/kernel-bench.wasm | js-deps browser-deps
	node tools/wasi-in-chromium.mjs build/wasi-kernels/relaxed/kernel-bench.wasm $(KERNEL_BENCH_ARGS)
