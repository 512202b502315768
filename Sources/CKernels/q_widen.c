// Q8_0 and Q4_1 panels widened back to float32 rows: what a product with many rows (a training
// step's, a prompt's) multiplies by, one matrix at a time in scratch space, through the float32 or
// bfloat16 GEMM. A frozen weight kept in a block format then costs its blocks' bytes between products.
//   Q8_0: w = d · q              (q8_rows.c gives the layout: q stored as q + 128)
//   Q4_1: w = d · q + m          (q4_rows.c; d, m float16; a multiply then an add, never fused)
// Each weight is one float multiply (and add) of the block's values, the same in every kernel.
#include "finch_kernels.h"
#include "q_panels.h"
#include <immintrin.h>

// Row j of a panel-block: Q8_0 byte k of the row is at (k / 4) · 64 + 4j + k % 4.
static void q8_block_portable(const uint8_t *qb, const float *ds, long n, float *out, long ldo) {
    for (long j = 0; j < n; j++) {
        for (int k = 0; k < 32; k++) out[j * ldo + k] = ds[j] * (float)((int32_t)qb[(k / 4) * 64 + j * 4 + k % 4] - 128);
    }
}

__attribute__((target("avx2")))
static void q8_block_avx2(const uint8_t *qb, const float *ds, long n, float *out, long ldo) {
    if (n < PANEL) return q8_block_portable(qb, ds, n, out, ldo);
    const __m256i bias = _mm256_set1_epi32(128);
    for (long j = 0; j < PANEL; j += 2) {
        // Rows j and j + 1 as lanes 0–3 and 4–7: their four bytes of each step are adjacent.
        const __m256 d = _mm256_setr_ps(ds[j], ds[j], ds[j], ds[j], ds[j + 1], ds[j + 1], ds[j + 1], ds[j + 1]);
        for (int s = 0; s < 8; s++) {
            const __m128i bytes = _mm_loadl_epi64((const __m128i *)(qb + s * 64 + j * 4));
            const __m256 w = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(bytes), bias)));
            _mm_storeu_ps(out + j * ldo + s * 4, _mm256_castps256_ps128(w));
            _mm_storeu_ps(out + (j + 1) * ldo + s * 4, _mm256_extractf128_ps(w, 1));
        }
    }
}

// Row j of a Q4_1 panel-block: vector v's bytes 4j..4j+3 hold values 8v..8v+3 (low nibbles) and
// 8v+4..8v+7 (high nibbles); the panel's scales are 16 d then 16 m.
static void q4_block_portable(const uint8_t *qb, const uint16_t *sc, long n, float *out, long ldo) {
    for (long j = 0; j < n; j++) {
        const float d = finch_half_to_float(sc[j]), m = finch_half_to_float(sc[PANEL + j]);
        for (int k = 0; k < 32; k++) {
            const int v = k / 8, high = (k % 8) / 4, t = k % 4;
            const int q = (qb[v * 64 + j * 4 + t] >> (4 * high)) & 0x0F;
            const float dq = d * (float)q;
            out[j * ldo + k] = dq + m;
        }
    }
}

__attribute__((target("avx2")))
static void q4_block_avx2(const uint8_t *qb, const uint16_t *sc, long n, float *out, long ldo) {
    if (n < PANEL) return q4_block_portable(qb, sc, n, out, ldo);
    const __m256i low = _mm256_set1_epi32(0x0F);
    for (long j = 0; j < PANEL; j += 2) {
        const float d0 = finch_half_to_float(sc[j]), d1 = finch_half_to_float(sc[j + 1]);
        const float m0 = finch_half_to_float(sc[PANEL + j]), m1 = finch_half_to_float(sc[PANEL + j + 1]);
        const __m256 d = _mm256_setr_ps(d0, d0, d0, d0, d1, d1, d1, d1), m = _mm256_setr_ps(m0, m0, m0, m0, m1, m1, m1, m1);
        for (int v = 0; v < 4; v++) {
            const __m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qb + v * 64 + j * 4)));
            const __m256 lo = _mm256_add_ps(_mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_and_si256(bytes, low))), m);
            const __m256 hi = _mm256_add_ps(_mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_srli_epi32(bytes, 4))), m);
            _mm_storeu_ps(out + j * ldo + v * 8, _mm256_castps256_ps128(lo));
            _mm_storeu_ps(out + j * ldo + v * 8 + 4, _mm256_castps256_ps128(hi));
            _mm_storeu_ps(out + (j + 1) * ldo + v * 8, _mm256_extractf128_ps(lo, 1));
            _mm_storeu_ps(out + (j + 1) * ldo + v * 8 + 4, _mm256_extractf128_ps(hi, 1));
        }
    }
}

typedef void (*widen_fn)(const uint8_t *qb, const void *scales, long n, float *out, long ldo);

static void q8_portable(const uint8_t *qb, const void *s, long n, float *out, long ldo) { q8_block_portable(qb, s, n, out, ldo); }
static void q8_avx2(const uint8_t *qb, const void *s, long n, float *out, long ldo) { q8_block_avx2(qb, s, n, out, ldo); }
static void q4_portable(const uint8_t *qb, const void *s, long n, float *out, long ldo) { q4_block_portable(qb, s, n, out, ldo); }
static void q4_avx2(const uint8_t *qb, const void *s, long n, float *out, long ldo) { q4_block_avx2(qb, s, n, out, ldo); }

// Rows [r0, r1) through `fn`, panel by panel and block by block; `out` is row r0's start.
static int widen(widen_fn fn, const uint8_t *panels, long block_bytes, const void *scales, long scale_bytes, long cols,
                 float *out, long ldo, long r0, long r1) {
    const long nb = cols / 32;
    for (long p = r0 / PANEL; p * PANEL < r1; p++) {
        const long first = p * PANEL, n = r1 - first < PANEL ? r1 - first : PANEL;
        for (long b = 0; b < nb; b++) {
            fn(panels + (p * nb + b) * block_bytes, (const char *)scales + (p * nb + b) * scale_bytes, n,
               out + (first - r0) * ldo + b * 32, ldo);
        }
    }
    return 1;
}

// AVX2 where the products have it (kernel 1 or 2), the portable loop otherwise; both give the same bits.
static int widen_kernel(int kernel) { return kernel < 0 ? (finch_q8_kernel_index() >= 1) : kernel; }

int finch_q8_widen(int kernel, const uint8_t *panels, const float *panel_scales, long cols, float *out, long ldo, long r0, long r1) {
    if (kernel > 1 || (kernel == 1 && finch_q8_best_kernel() < 1)) return 0;
    return widen(widen_kernel(kernel) ? q8_avx2 : q8_portable, panels, PANEL * 32, panel_scales, PANEL * sizeof(float), cols,
                 out, ldo, r0, r1);
}

int finch_q4_widen(int kernel, const uint8_t *panels, const uint16_t *scales, long cols, float *out, long ldo, long r0, long r1) {
    if (kernel > 1 || (kernel == 1 && finch_q8_best_kernel() < 1)) return 0;
    return widen(widen_kernel(kernel) ? q4_avx2 : q4_portable, panels, PANEL * 16, scales, 2 * PANEL * sizeof(uint16_t), cols,
                 out, ldo, r0, r1);
}
