# pocketlm — WebAssembly builds and the JavaScript package (included by the top-level Makefile).
#
#   make wasm          dist/: pocketlm.js (+ Worker, .d.ts) and the wasm variants, sizes printed and checked
#   make wasi          build/wasi/pocketlm.wasm: the CLI (tools/pocketlm.c) for `node tools/pocketlm.mjs`
#   make test-node     node:test suites in tests/node (Node API, CLI under WASI)
#   make test-browser  tests/browser in Debian's Chromium (playwright-core), Firefox ESR (puppeteer-core over WebDriver
#                      BiDi) and WebKitGTK (WebKitWebDriver + MiniBrowser under xvfb-run): tests/browser/engines.mjs
#   make js-deps       Debian toolchain packages and node_modules, installed only when missing or stale
#
# Toolchain facts (docs/architecture.md, "WebAssembly variants"): Debian's emcc 3.1.6 drives clang-14 by default, which has no relaxed SIMD, and its
# binaryen 108 rejects the final relaxed opcodes. So every variant is compiled by clang-19 through emcc
# (EM_LLVM_ADD_VERSION=19), linked by wasm-ld-19 at -O1 (no wasm-opt pass), and Emscripten reads the wasm's
# metadata in Python instead of binaryen (EMCC_READ_METADATA=python). One pipeline for all variants also makes
# the JavaScript glue identical between variants of the same threading model, so dist/ ships it once.

WASM_APT_PKGS := chromium emscripten clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 binaryen
# The two other engines the browser tests and the bench run in (Chromium is above: the kernel tests need it too).
BROWSER_APT_PKGS := firefox-esr webkit2gtk-driver xvfb

EMCC := NODE_PATH=/usr/share/nodejs EM_LLVM_ADD_VERSION=19 EM_CLANG_ADD_VERSION=19 EMCC_READ_METADATA=python \
        EMCC_CFLAGS= emcc

# The runtime only (CORE_SRC: no GGUF writer, no weight quantizers); the SIMD variants add the SIMD128 kernels.
WASM128_SRC := simd/wasm128.c
WASM_SRC    := $(CORE_SRC) $(WASM128_SRC) js-bindings/wasm_api.c
WASM_SRC_NOSIMD := $(CORE_SRC) js-bindings/wasm_api.c
WASM_CFLAGS := -O3 $(CPPFLAGS) $(WARN)
WASM_VARIANTS := scalar simd relaxed mt-simd mt-relaxed

WV_SIMD    := -msimd128 -DPLM_BACKEND_WASM128
WV_RELAXED := -msimd128 -mrelaxed-simd -DPLM_BACKEND_WASM_RELAXED
WV_CFLAGS_scalar     := -DPLM_NO_THREADS
WV_CFLAGS_simd       := -DPLM_NO_THREADS $(WV_SIMD)
WV_CFLAGS_relaxed    := -DPLM_NO_THREADS $(WV_RELAXED)
WV_CFLAGS_mt-simd    := -pthread $(WV_SIMD)
WV_CFLAGS_mt-relaxed := -pthread $(WV_RELAXED)

# Glue name per threading model (st: single thread, mt: pthreads); the wasm is renamed per variant in dist/.
WV_GLUE_scalar     := st
WV_GLUE_simd       := st
WV_GLUE_relaxed    := st
WV_GLUE_mt-simd    := mt
WV_GLUE_mt-relaxed := mt
WV_SRC_scalar      := $(WASM_SRC_NOSIMD)
WV_SRC_simd        := $(WASM_SRC)
WV_SRC_relaxed     := $(WASM_SRC)
WV_SRC_mt-simd     := $(WASM_SRC)
WV_SRC_mt-relaxed  := $(WASM_SRC)

WASM_EXPORTS := _malloc,_free,_plm_tokenize,_plm_token_to_piece,_plm_token_is_eog,_plm_status_name
WASM_EXPORTS := $(WASM_EXPORTS),_plm_backend_name,_plm_model_free,_plm_model_info_json
# The heap grows by what is asked plus at most 16 MiB (emscripten's default over-allocates 20%, up to 96 MiB: 55 MiB
# past weights + KV cache on a 234 MB model, 28 MiB with this cap), so peak memory stays near what a model needs.
WASM_LDFLAGS := -O1 -sMODULARIZE -sEXPORT_ES6 -sEXPORT_NAME=createPocketLMModule \
  -sENVIRONMENT=web,worker,node -sALLOW_MEMORY_GROWTH -sMEMORY_GROWTH_GEOMETRIC_CAP=16MB -sMAXIMUM_MEMORY=4GB -sFILESYSTEM=0 -sWASM_BIGINT \
  -sDYNAMIC_EXECUTION=0 -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0 -sEXPORTED_FUNCTIONS=$(WASM_EXPORTS) \
  --pre-js js-bindings/glue-pre.js
# The pthread pool is sized at run time by PocketLM (threads - 1 workers, preloaded before the module resolves, so
# the engine may block on its workers right away).
WV_LDFLAGS_mt := -pthread -sPTHREAD_POOL_SIZE='Module["plmPoolSize"]' -Wno-pthreads-mem-growth
WV_LDFLAGS_st :=

# A stamp holding the compile flags: objects are rebuilt when the flags change.
define WASM_VARIANT
build/wasm-$(1)/cflags: plm-js-force
	@mkdir -p $$(dir $$@)
	@echo '$$(WASM_CFLAGS) $$(WV_CFLAGS_$(1))' | cmp -s - $$@ || echo '$$(WASM_CFLAGS) $$(WV_CFLAGS_$(1))' > $$@

build/wasm-$(1)/obj/%.o: %.c $$(HEADERS) build/wasm-$(1)/cflags
	@mkdir -p $$(dir $$@)
	$$(EMCC) $$(WASM_CFLAGS) $$(WV_CFLAGS_$(1)) -c $$< -o $$@

build/wasm-$(1)/pocketlm-$$(WV_GLUE_$(1)).js: $$(patsubst %.c,build/wasm-$(1)/obj/%.o,$$(WV_SRC_$(1))) js-bindings/glue-pre.js js-bindings/build.mk
	$$(EMCC) $$(WV_CFLAGS_$(1)) $$(WASM_LDFLAGS) $$(WV_LDFLAGS_$$(WV_GLUE_$(1))) \
	  $$(patsubst %.c,build/wasm-$(1)/obj/%.o,$$(WV_SRC_$(1))) -o $$@
endef
$(foreach v,$(WASM_VARIANTS),$(eval $(call WASM_VARIANT,$(v))))

WASM_OUTPUTS := $(foreach v,$(WASM_VARIANTS),build/wasm-$(v)/pocketlm-$(WV_GLUE_$(v)).js)
JS_SOURCES   := $(wildcard js-bindings/*.js js-bindings/*.d.ts)

.PHONY: wasm wasi js-deps js-deps-apt browser-deps test-node test-browser plm-js-force

wasm: js-deps-apt $(WASM_OUTPUTS)
	node js-bindings/build-dist.mjs $(WASM_VARIANTS)

# ---- WASI: the same CLI as native, run by Node's node:wasi (tools/pocketlm.mjs) ----
WASI_CC     := clang-19 --target=wasm32-wasi --sysroot=/usr -isystem /usr/include/wasm32-wasi
WASI_CFLAGS := -O3 $(CPPFLAGS) $(WARN) -DPLM_NO_THREADS $(WV_SIMD)
WASI_SRC    := $(CORE_SRC) $(WASM128_SRC) tools/pocketlm.c

build/wasi/cflags: plm-js-force
	@mkdir -p $(dir $@)
	@echo '$(WASI_CFLAGS)' | cmp -s - $@ || echo '$(WASI_CFLAGS)' > $@

build/wasi/obj/%.o: %.c $(HEADERS) build/wasi/cflags
	@mkdir -p $(dir $@)
	$(WASI_CC) $(WASI_CFLAGS) -c $< -o $@

# Linked without -O so clang does not run Debian's binaryen over it; 2 MiB of stack for the CLI's buffers.
build/wasi/pocketlm.wasm: $(patsubst %.c,build/wasi/obj/%.o,$(WASI_SRC))
	$(WASI_CC) -L/usr/lib/wasm32-wasi -fuse-ld=/usr/bin/wasm-ld-19 -Wl,-z,stack-size=2097152 -Wl,--strip-all \
	  -o $@ $^ -lm

wasi: js-deps-apt build/wasi/pocketlm.wasm

# ---- dependencies ----
js-deps-apt:
	$(call apt_install,$(WASM_APT_PKGS))

browser-deps:
	$(call apt_install,$(BROWSER_APT_PKGS))

js-deps: js-deps-apt
	@if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  npm ci --no-audit --no-fund; fi

# ---- tests ----
test-node: wasm wasi js-deps native $(VOCAB_GGUFS)
	node --test $(wildcard tests/node/*.test.mjs)

# kernels.test.mjs runs the relaxed-SIMD kernel tests (built by simd/build.mk) in Chromium; Node 20 cannot.
# store.test.mjs loads a generated 140 MB model (gen-bench-model) to measure the JavaScript heap.
test-browser: wasm wasi js-deps browser-deps build/wasi-kernels/relaxed/test_kernels.wasm build/native/gen-bench-model
	node --test $(wildcard tests/browser/*.test.mjs)
