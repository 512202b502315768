// Q8_0 matrix-vector products for decoding. The block dot products are integer arithmetic, exact
// in any order; only how the float accumulation runs matters for the result, and every variant
// below keeps it: acc0 += dot(b) * (d[b] * xd[b]) over even b, acc1 over odd b, y = acc0 + acc1
// (compiled with -ffp-contract=off, so no multiply-add is fused where Swift's code has none).
#include "finch_kernels.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

// A u8 × s8 product needs an unsigned side: |x| times q with x's sign moved onto it (x·q = |x|·(sign(x)·q)),
// as llama.cpp does. Q8_0 values lie in [-127, 127], so |x| fits and nothing overflows.

// The one row loop every kernel runs: `pair` gives the exact dots of blocks b and b + 1, `single`
// of one block; always inlined, so each kernel's copy is compiled for its own instructions.
#define Q8_ROWS_BODY(pair, single)                                                          \
    const long nb = cols / 32;                                                              \
    for (long r = r0; r < r1; r++) {                                                        \
        const int8_t *q = quants + r * cols;                                                \
        const float *d = scales + r * nb;                                                   \
        for (long i = 0; i < inputs; i++) {                                                 \
            const int8_t *x = xq + i * cols;                                                \
            const float *dx = xd + i * nb;                                                  \
            float acc0 = 0, acc1 = 0;                                                       \
            long b = 0;                                                                     \
            for (; b + 2 <= nb; b += 2) {                                                   \
                int32_t dot0, dot1;                                                         \
                pair(x + b * 32, q + b * 32, &dot0, &dot1);                                 \
                acc0 += (float)dot0 * (d[b] * dx[b]);                                       \
                acc1 += (float)dot1 * (d[b + 1] * dx[b + 1]);                               \
            }                                                                               \
            if (b < nb) acc0 += (float)single(x + b * 32, q + b * 32) * (d[b] * dx[b]);    \
            y[i * y_stride + r] = acc0 + acc1;                                              \
        }                                                                                   \
    }

#define Q8_ROWS_PARAMS const int8_t *quants, const float *scales, long cols, const int8_t *xq, const float *xd, \
                       long inputs, float *y, long y_stride, long r0, long r1

__attribute__((target("avx2"), always_inline))
static inline int32_t dot32_avx2(const int8_t *x, const int8_t *q) {
    __m256i xv = _mm256_loadu_si256((const void *)x), qv = _mm256_loadu_si256((const void *)q);
    // Pairs of u8 × s8 products summed to int16 (at most 2 · 127 · 127, no saturation), then to int32.
    __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(xv, xv), _mm256_sign_epi8(qv, xv));
    __m256i s = _mm256_madd_epi16(p, _mm256_set1_epi16(1));
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    t = _mm_hadd_epi32(t, t); t = _mm_hadd_epi32(t, t);
    return _mm_cvtsi128_si32(t);
}

__attribute__((target("avx2"), always_inline))
static inline void pair_avx2(const int8_t *x, const int8_t *q, int32_t *dot0, int32_t *dot1) {
    *dot0 = dot32_avx2(x, q);
    *dot1 = dot32_avx2(x + 32, q + 32);
}

// Two blocks in one 64-byte vector: vpdpbusd gives block b's partial sums in lanes 0-7, b + 1's in 8-15.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))
static inline void pair_vnni(const int8_t *x, const int8_t *q, int32_t *dot0, int32_t *dot1) {
    __m512i xv = _mm512_loadu_si512((const void *)x), qv = _mm512_loadu_si512((const void *)q);
    __mmask64 neg = _mm512_movepi8_mask(xv);
    __m512i sq = _mm512_mask_sub_epi8(qv, neg, _mm512_setzero_si512(), qv);
    __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(xv), sq);
    __m256i h = _mm256_hadd_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1));
    h = _mm256_hadd_epi32(h, h);  // [b 0..3, b+1 0..3, ., . | b 4..7, b+1 4..7, ., .]
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    *dot0 = _mm_cvtsi128_si32(t);
    *dot1 = _mm_extract_epi32(t, 1);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))
static inline int32_t single_vnni(const int8_t *x, const int8_t *q) {
    __m256i xv = _mm256_loadu_si256((const void *)x), qv = _mm256_loadu_si256((const void *)q);
    __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(xv, xv), _mm256_sign_epi8(qv, xv));
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    t = _mm_hadd_epi32(t, t); t = _mm_hadd_epi32(t, t);
    return _mm_cvtsi128_si32(t);
}

static inline int32_t dot32_portable(const int8_t *x, const int8_t *q) {
    int32_t s = 0;
    for (int j = 0; j < 32; j++) s += (int32_t)x[j] * (int32_t)q[j];
    return s;
}

static inline void pair_portable(const int8_t *x, const int8_t *q, int32_t *dot0, int32_t *dot1) {
    *dot0 = dot32_portable(x, q);
    *dot1 = dot32_portable(x + 32, q + 32);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static void rows_vnni(Q8_ROWS_PARAMS) { Q8_ROWS_BODY(pair_vnni, single_vnni) }

__attribute__((target("avx2")))
static void rows_avx2(Q8_ROWS_PARAMS) { Q8_ROWS_BODY(pair_avx2, dot32_avx2) }

static void rows_portable(Q8_ROWS_PARAMS) { Q8_ROWS_BODY(pair_portable, dot32_portable) }

typedef void (*rows_fn)(const int8_t *, const float *, long, const int8_t *, const float *, long, float *, long, long, long);

static int best_supported(void) {
    __builtin_cpu_init();
    return (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) ? 2
         : __builtin_cpu_supports("avx2") ? 1 : 0;
}

static int chosen = -1;

// Chosen before main runs, so threads only ever read it.
__attribute__((constructor)) static void choose_kernel(void) {
    chosen = best_supported();
    const char *forced = getenv("FINCH_Q8_KERNEL");  // for comparing the kernels on one machine
    if (forced && strcmp(forced, "avx2") == 0 && chosen >= 1) chosen = 1;
    if (forced && strcmp(forced, "portable") == 0) chosen = 0;
}

static const rows_fn fns[3] = {rows_portable, rows_avx2, rows_vnni};

void finch_q8_rows(const int8_t *quants, const float *scales, long cols, const int8_t *xq, const float *xd,
                   long inputs, float *y, long y_stride, long r0, long r1) {
    fns[chosen](quants, scales, cols, xq, xd, inputs, y, y_stride, r0, r1);
}

int finch_q8_rows_with(int kernel, const int8_t *quants, const float *scales, long cols, const int8_t *xq, const float *xd,
                       long inputs, float *y, long y_stride, long r0, long r1) {
    if (kernel < 0 || kernel > best_supported()) return 0;
    fns[kernel](quants, scales, cols, xq, xd, inputs, y, y_stride, r0, r1);
    return 1;
}

const char *finch_q8_kernel(void) {
    static const char *names[3] = {"portable", "avx2", "avx512vnni"};
    return names[chosen];
}
