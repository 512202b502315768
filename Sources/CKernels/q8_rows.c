// Q8_0 for decoding: quantisation, and matrix-vector products. The block dot products are integer
// arithmetic, exact in any order; only how the float accumulation runs matters for the result, and
// every variant below keeps it: acc0 += dot(b) * (d[b] * xd[b]) over even b, acc1 over odd b,
// y = acc0 + acc1 (compiled with -ffp-contract=off, so no multiply-add is fused where none is written).
//
// The weights are kept in panels of 16 rows, so one vector holds one int32 sum per row and a
// product needs no horizontal reduction: within a panel, block b is 8 steps of 64 bytes, step s
// holding bytes 4s..4s+3 of the block for each of the 16 rows (row j at bytes 4j..4j+3), each
// stored as q + 128 (an unsigned byte, what vpdpbusd multiplies by a signed one). The scales of
// block b are the panel's 16 rows' d, side by side. One panel-block is 512 contiguous bytes, so
// a product reads the matrix as one stream:
//   Σ_j (q_j + 128) · x_j = Σ_j q_j · x_j + 128 · Σ_j x_j,  so  dot = vpdpbusd sums − 128 · xsum[b].
#include "finch_kernels.h"
#include "q_panels.h"
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PANEL_BLOCK = PANEL * 32 };

// Q8_0's quantisation of blocks of 32: d = max|x| / 127, q = round(x / d) as x · (1/d), rounded half
// away from zero (Swift's rounded()), q = 0 where d is 0. NaN and infinities give q = 0 where x · (1/d) is
// not a number, and q is clamped to [-127, 127], so no input leaves the int8 range.
static inline float quantize_block_portable(const float *x, int8_t *q) {
    float amax = 0;
    for (int j = 0; j < 32; j++) {
        const float a = fabsf(x[j]);
        if (a > amax) amax = a;
    }
    const float d = amax / 127, inv = d == 0 ? 0 : 1 / d;
    for (int j = 0; j < 32; j++) {
        const float v = roundf(x[j] * inv);  // half away from zero
        q[j] = v != v ? 0 : v > 127 ? 127 : v < -127 ? -127 : (int8_t)v;
    }
    return d;
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
static float quantize_block_avx512(const float *x, int8_t *q) {
    const __m512 a0 = _mm512_abs_ps(_mm512_loadu_ps(x)), a1 = _mm512_abs_ps(_mm512_loadu_ps(x + 16));
    // max|x| with NaN skipped, as the scalar loop's a > amax skips it.
    const __mmask16 n0 = _mm512_cmp_ps_mask(a0, a0, _CMP_ORD_Q), n1 = _mm512_cmp_ps_mask(a1, a1, _CMP_ORD_Q);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_maskz_mov_ps(n0, a0), _mm512_maskz_mov_ps(n1, a1)));
    const float d = amax / 127, inv = d == 0 ? 0 : 1 / d;
    const __m512 vinv = _mm512_set1_ps(inv), half = _mm512_set1_ps(0.5f);
    for (int h = 0; h < 2; h++) {
        const __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + 16 * h), vinv);
        // Half away from zero: t = trunc(v), plus sign(v) where |v − t| ≥ 0.5 (v − t is exact).
        const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), half, _CMP_GE_OQ);
        __m512 r = _mm512_mask_add_ps(t, up, t, _mm512_or_ps(_mm512_set1_ps(1.0f), _mm512_and_ps(v, _mm512_set1_ps(-0.0f))));
        r = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(-127)), _mm512_set1_ps(127));
        const __mmask16 ord = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
        _mm_storeu_si128((void *)(q + 16 * h), _mm512_cvtsepi32_epi8(_mm512_maskz_cvtps_epi32(ord, r)));
    }
    return d;
}

static int quantize_avx512;  // set with the product kernel's choice, before main

static inline float quantize_block(const float *x, int8_t *q) {
    return quantize_avx512 ? quantize_block_avx512(x, q) : quantize_block_portable(x, q);
}

void finch_q8_quantize(const float *x, long blocks, int8_t *q, float *d, int32_t *sums) {
    for (long b = 0; b < blocks; b++) {
        d[b] = quantize_block(x + b * 32, q + b * 32);
        if (sums) {
            int32_t s = 0;
            for (int j = 0; j < 32; j++) s += q[b * 32 + j];
            sums[b] = s;
        }
    }
}

void finch_q8_pack(const float *w, long rows, long cols, uint8_t *panels, float *panel_scales, long p0, long p1) {
    const long nb = cols / 32;
    for (long p = p0; p < p1; p++) {
        for (long b = 0; b < nb; b++) {
            uint8_t *out = panels + (p * nb + b) * PANEL_BLOCK;
            float *ds = panel_scales + (p * nb + b) * PANEL;
            for (long j = 0; j < PANEL; j++) {
                const long r = p * PANEL + j;
                int8_t q[32] = {0};
                ds[j] = r < rows ? quantize_block(w + r * cols + b * 32, q) : 0;
                for (long k = 0; k < 32; k++) out[(k / 4) * 64 + j * 4 + k % 4] = (uint8_t)(q[k] + 128);
            }
        }
    }
}

// One panel times one input: out[j] for the panel's 16 rows.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static void panel_vnni(const uint8_t *panel, const void *scales, long nb, const int8_t *x, const float *xd,
                       const int32_t *xsum, float *out) {
    const float *ds = scales;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const uint8_t *qb = panel + b * PANEL_BLOCK;
        const int8_t *xb = x + b * 32;
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
        for (int s = 0; s < 8; s += 2) {
            s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512((const void *)(qb + s * 64)), _mm512_set1_epi32(load_i32(xb + s * 4)));
            s1 = _mm512_dpbusd_epi32(s1, _mm512_loadu_si512((const void *)(qb + s * 64 + 64)), _mm512_set1_epi32(load_i32(xb + s * 4 + 4)));
        }
        __m512i dot = _mm512_sub_epi32(_mm512_add_epi32(s0, s1), _mm512_set1_epi32(128 * xsum[b]));
        __m512 term = _mm512_mul_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(_mm512_loadu_ps(ds + b * PANEL), _mm512_set1_ps(xd[b])));
        if (b & 1) acc1 = _mm512_add_ps(acc1, term); else acc0 = _mm512_add_ps(acc0, term);
    }
    _mm512_storeu_ps(out, _mm512_add_ps(acc0, acc1));
}

// AVX2 has no unsigned-by-signed dot of four bytes that cannot saturate for q + 128, so it takes q
// back (flipping the top bit) and uses |x| · (sign(x) · q), whose pairs stay within int16.
__attribute__((target("avx2")))
static void panel_avx2(const uint8_t *panel, const void *scales, long nb, const int8_t *x, const float *xd,
                       const int32_t *xsum, float *out) {
    const float *ds = scales;
    (void)xsum;
    const __m256i flip = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
    __m256 acc0[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()}, acc1[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (long b = 0; b < nb; b++) {
        const uint8_t *qb = panel + b * PANEL_BLOCK;
        const int8_t *xb = x + b * 32;
        __m256i dot[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
        for (int s = 0; s < 8; s++) {
            const __m256i xv = _mm256_set1_epi32(load_i32(xb + s * 4)), xa = _mm256_sign_epi8(xv, xv);
            for (int h = 0; h < 2; h++) {
                __m256i q = _mm256_xor_si256(_mm256_loadu_si256((const void *)(qb + s * 64 + h * 32)), flip);
                __m256i p = _mm256_maddubs_epi16(xa, _mm256_sign_epi8(q, xv));
                dot[h] = _mm256_add_epi32(dot[h], _mm256_madd_epi16(p, ones));
            }
        }
        const __m256 xs = _mm256_set1_ps(xd[b]);
        for (int h = 0; h < 2; h++) {
            __m256 term = _mm256_mul_ps(_mm256_cvtepi32_ps(dot[h]), _mm256_mul_ps(_mm256_loadu_ps(ds + b * PANEL + h * 8), xs));
            if (b & 1) acc1[h] = _mm256_add_ps(acc1[h], term); else acc0[h] = _mm256_add_ps(acc0[h], term);
        }
    }
    for (int h = 0; h < 2; h++) _mm256_storeu_ps(out + h * 8, _mm256_add_ps(acc0[h], acc1[h]));
}

static void panel_portable(const uint8_t *panel, const void *scales, long nb, const int8_t *x, const float *xd,
                           const int32_t *xsum, float *out) {
    const float *ds = scales;
    (void)xsum;
    for (int j = 0; j < PANEL; j++) {
        float acc0 = 0, acc1 = 0;
        for (long b = 0; b < nb; b++) {
            const uint8_t *qb = panel + b * PANEL_BLOCK;
            int32_t dot = 0;
            for (int k = 0; k < 32; k++) dot += ((int32_t)qb[(k / 4) * 64 + j * 4 + k % 4] - 128) * x[b * 32 + k];
            const float term = (float)dot * (ds[b * PANEL + j] * xd[b]);
            if (b & 1) acc1 += term; else acc0 += term;
        }
        out[j] = acc0 + acc1;
    }
}

static int best_supported(void) {
    __builtin_cpu_init();
    return (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) ? 2
         : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") ? 1 : 0;
}

int finch_q8_best_kernel(void) { return best_supported(); }

static int chosen = -1;

// Chosen before main runs, so threads only ever read it.
__attribute__((constructor)) static void choose_kernel(void) {
    chosen = best_supported();
    quantize_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
                   && __builtin_cpu_supports("avx512vl");
    const char *forced = getenv("FINCH_Q8_KERNEL");  // for comparing the kernels on one machine
    if (forced && strcmp(forced, "avx2") == 0 && chosen >= 1) chosen = 1;
    if (forced && strcmp(forced, "portable") == 0) { chosen = 0; quantize_avx512 = 0; }
}

static const panel_fn fns[3] = {panel_portable, panel_avx2, panel_vnni};

void finch_q8_rows(const uint8_t *panels, const float *panel_scales, long cols, const int8_t *xq, const float *xd,
                   const int32_t *xsum, long inputs, float *y, long y_stride, long r0, long r1) {
    panel_rows(fns[chosen], panels, PANEL_BLOCK, panel_scales, PANEL * sizeof(float), cols, xq, xd, xsum, inputs, y, y_stride, r0, r1);
}

int finch_q8_rows_with(int kernel, const uint8_t *panels, const float *panel_scales, long cols, const int8_t *xq,
                       const float *xd, const int32_t *xsum, long inputs, float *y, long y_stride, long r0, long r1) {
    if (kernel < 0 || kernel > best_supported()) return 0;
    panel_rows(fns[kernel], panels, PANEL_BLOCK, panel_scales, PANEL * sizeof(float), cols, xq, xd, xsum, inputs, y, y_stride, r0, r1);
    return 1;
}

int finch_q8_kernel_index(void) { return chosen; }

const char *finch_q8_kernel(void) {
    static const char *names[3] = {"portable", "avx2", "avx512vnni"};
    return names[chosen];
}
