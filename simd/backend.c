/* Backend selection and weight layout: which kernel table runs, and in which layout (a kernel variant of simd.h,
 * repacked or not) a weight matrix is handed to it. src/model.c asks both once, when a model is bound, and keeps
 * the answers in the model, so a matrix's layout and the table that reads it cannot disagree.
 *
 * The backend is fixed at build time (one SIMD file per build); on x86-64 the AVX2 table is only used when the CPU
 * has AVX2+FMA+F16C. Natively, PLM_BACKEND=scalar in the environment forces the reference kernels (debugging,
 * benchmarks). No mutable state: the answer is recomputed on every call.
 */
#include "simd.h"

#include <stdlib.h>
#include <string.h>

#if defined(PLM_BACKEND_X86)
extern const plm_kernels plm_kernels_x86;
#elif defined(PLM_BACKEND_NEON)
extern const plm_kernels plm_kernels_neon;
#elif defined(PLM_BACKEND_WASM_RELAXED)
extern const plm_kernels plm_kernels_wasm_relaxed;
#elif defined(PLM_BACKEND_WASM128)
extern const plm_kernels plm_kernels_wasm128;
#endif

#if defined(PLM_BACKEND_X86) && (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#define PLM_HAVE_CPUID 1
/* AVX2 + FMA + F16C, and the OS saves the YMM registers (cpuid + xgetbv; clang 14's __builtin_cpu_supports does
 * not know "f16c"). */
static int x86_usable(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned need = (1u << 12) | (1u << 27) | (1u << 28) | (1u << 29); /* FMA, OSXSAVE, AVX, F16C */
    if ((c & need) != need) return 0;
    unsigned xlo, xhi;
    __asm__("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    (void)xhi;
    if ((xlo & 6u) != 6u) return 0; /* XMM and YMM state enabled */
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 5) & 1u; /* AVX2 */
}
#endif

static const plm_kernels *build_backend(void) {
#if defined(PLM_HAVE_CPUID)
    return x86_usable() ? &plm_kernels_x86 : &plm_kernels_scalar;
#elif defined(PLM_BACKEND_X86)
    return &plm_kernels_scalar; /* no way to check the CPU: stay safe */
#elif defined(PLM_BACKEND_NEON)
    return &plm_kernels_neon;
#elif defined(PLM_BACKEND_WASM_RELAXED)
    return &plm_kernels_wasm_relaxed;
#elif defined(PLM_BACKEND_WASM128)
    return &plm_kernels_wasm128;
#else
    return &plm_kernels_scalar;
#endif
}

const plm_kernels *plm_kern(void) {
#if !defined(__EMSCRIPTEN__) && !defined(__wasi__)
    const char *env = getenv("PLM_BACKEND");
    if (env && strcmp(env, "scalar") == 0) return &plm_kernels_scalar;
#endif
    return build_backend();
}

const plm_kernels *plm_kern_for(int exact) {
    const plm_kernels *k = plm_kern();
    return exact && k->exact ? k->exact : k;
}

/* The summation order llama.cpp's x86 CPU backend uses for a weight matrix depends on its shape (simd.h, kernel
 * variants): Q4_0, Q4_K, IQ4_NL and Q2_K matrices with a multiple of 8 rows are repacked (CPU_REPACK buffer,
 * q4_0_8x8 / q4_K_8x8 / iq4_nl_8x8 / q2_K_8x8, the last on AVX-512 CPUs such as the recording machine's), and
 * F32/F16/BF16 matrices with rows a multiple of 16 long and a multiple of 4 rows go through llamafile's tinyBLAS
 * when a batch has 2+ rows. Then the backend's own layout where it has one (plm_kernels.repack; Q8_0 has no
 * llama.cpp variant, but a fast table may still rearrange it). */
int plm_weight_layout(const plm_kernels *k, int type, void *w, int64_t n, int64_t nr, int may_repack) {
    int t = type;
    if (nr <= 1) return t;
    if ((type == PLM_T_Q4_0 || type == PLM_T_Q4_K || type == PLM_T_IQ4_NL || type == PLM_T_Q2_K) && nr % 8 == 0)
        t = PLM_T_VARIANT | type;
    if ((type == PLM_T_F32 || type == PLM_T_F16 || type == PLM_T_BF16) && n % 16 == 0 && nr % 4 == 0)
        t = PLM_T_VARIANT | type;
    if (may_repack && k->repack && (t != type || type == PLM_T_Q8_0)) t = k->repack(t, w, (int)n, (int)nr);
    return t;
}
