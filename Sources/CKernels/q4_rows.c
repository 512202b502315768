// Q4_1 matrix-vector products for decoding: half the bytes of Q8_0 per weight, read as the 4-bit
// blocks llama.cpp's Q4_1 files hold. A block of 32 weights is w = d · q + m with q in 0...15 and d, m
// in float16 (d = (max − min) / 15, m = min). Against a Q8_0 input x = xd · xq:
//   y[r] = Σ_b (float)dot_b · (d[r,b] · xd[b]) + m[r,b] · (xd[b] · (float)xsum[b]),  dot_b = Σ_j q[r,b,j] · xq[b,j]
// with the float sums in a fixed order (even blocks into one accumulator, odd into another, then
// added; -ffp-contract=off), so every kernel gives the same bits.
//
// Panels of 16 rows as in q8_rows.c, at 4 bits: block b of a panel is 256 bytes, four vectors of
// 64; vector v holds, for each row j at bytes 4j..4j+3, bytes 8v..8v+3 of the row's block in the
// low nibbles and 8v+4..8v+7 in the high ones. q is unsigned, as vpdpbusd's first operand wants it.
// A panel's float16 scales are 16 d then 16 m per block.
#include "finch_kernels.h"
#include "q_panels.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

enum { Q4_PANEL_BLOCK = PANEL * 16 };

// float16 <-> float32, exactly (round to nearest even), as every CPU computes them.
static inline float half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            uint32_t e = 113, m = mant;
            while (!(m & 0x400)) { m <<= 1; e--; }
            bits = sign | (e << 23) | ((m & 0x3FF) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000 | (mant << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    const uint32_t ax = x & 0x7FFFFFFF;
    if (ax >= 0x7F800000) return sign | 0x7C00 | (ax > 0x7F800000 ? 0x200 : 0);  // inf, NaN
    if (ax >= 0x477FF000) return sign | 0x7C00;  // rounds past 65504
    if (ax < 0x38800000) {  // subnormal or zero in float16
        if (ax < 0x33000000) return sign;  // below half the smallest subnormal
        const uint32_t e = ax >> 23, m = (ax & 0x7FFFFF) | 0x800000;
        const uint32_t shift = 126 - e;  // m · 2^(e − 150) in units of 2^−24
        uint32_t q = m >> shift;
        const uint32_t rest = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (q & 1))) q++;
        return sign | (uint16_t)q;
    }
    uint32_t r = ax + 0xC8000FFF + ((ax >> 13) & 1);  // rebias (−112 << 23) and round to nearest even
    return sign | (uint16_t)(r >> 13);
}

float finch_half_to_float(uint16_t h) { return half_to_float(h); }
uint16_t finch_float_to_half(float f) { return float_to_half(f); }

void finch_q4_1_quantize(const float *x, uint16_t *d, uint16_t *m, uint8_t *q) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < 32; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    const float step = (hi - lo) / 15, inv = step != 0 ? 1 / step : 0;
    *d = float_to_half(step);
    *m = float_to_half(lo);
    for (int j = 0; j < 32; j++) {
        float v = (x[j] - lo) * inv + 0.5f;
        v = v >= 0 ? (v < 15 ? v : 15) : 0;  // NaN and the ends land in 0...15
        q[j] = (uint8_t)v;
    }
}

void finch_q4_pack(const float *w, long rows, long cols, uint8_t *panels, uint16_t *scales, long p0, long p1) {
    const long nb = cols / 32;
    for (long p = p0; p < p1; p++) {
        for (long b = 0; b < nb; b++) {
            uint8_t *out = panels + (p * nb + b) * Q4_PANEL_BLOCK;
            uint16_t *ds = scales + (p * nb + b) * 2 * PANEL;
            memset(out, 0, Q4_PANEL_BLOCK);
            for (long j = 0; j < PANEL; j++) {
                const long r = p * PANEL + j;
                uint8_t q[32] = {0};
                ds[j] = ds[PANEL + j] = 0;
                if (r < rows) finch_q4_1_quantize(w + r * cols + b * 32, &ds[j], &ds[PANEL + j], q);
                for (int k = 0; k < 32; k++) {
                    const int v = k / 8, high = (k % 8) / 4, t = k % 4;
                    out[v * 64 + j * 4 + t] |= (uint8_t)(q[k] << (4 * high));
                }
            }
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static void panel_vnni(const uint8_t *panel, const void *panel_scales, long nb, const int8_t *x, const float *xd,
                       const int32_t *xsum, float *out) {
    const uint16_t *scales = panel_scales;
    const __m512i low = _mm512_set1_epi8(0x0F);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (long b = 0; b < nb; b++) {
        const uint8_t *qb = panel + b * Q4_PANEL_BLOCK;
        const int8_t *xb = x + b * 32;
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
        for (int v = 0; v < 4; v++) {
            const __m512i bytes = _mm512_loadu_si512((const void *)(qb + v * 64));
            s0 = _mm512_dpbusd_epi32(s0, _mm512_and_si512(bytes, low), _mm512_set1_epi32(load_i32(xb + v * 8)));
            s1 = _mm512_dpbusd_epi32(s1, _mm512_and_si512(_mm512_srli_epi16(bytes, 4), low), _mm512_set1_epi32(load_i32(xb + v * 8 + 4)));
        }
        const __m512 dv = _mm512_cvtph_ps(_mm256_loadu_si256((const void *)(scales + b * 2 * PANEL)));
        const __m512 mv = _mm512_cvtph_ps(_mm256_loadu_si256((const void *)(scales + b * 2 * PANEL + PANEL)));
        const __m512 t1 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), _mm512_mul_ps(dv, _mm512_set1_ps(xd[b])));
        const __m512 t2 = _mm512_mul_ps(mv, _mm512_set1_ps(xd[b] * (float)xsum[b]));
        const __m512 term = _mm512_add_ps(t1, t2);
        if (b & 1) acc1 = _mm512_add_ps(acc1, term); else acc0 = _mm512_add_ps(acc0, term);
    }
    _mm512_storeu_ps(out, _mm512_add_ps(acc0, acc1));
}

// AVX2: q (0...15) times x with maddubs (u8 · s8 pairs: at most 2 · 15 · 128, no saturation).
__attribute__((target("avx2,f16c")))
static void panel_avx2(const uint8_t *panel, const void *panel_scales, long nb, const int8_t *x, const float *xd,
                       const int32_t *xsum, float *out) {
    const uint16_t *scales = panel_scales;
    const __m256i low = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    __m256 acc0[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()}, acc1[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (long b = 0; b < nb; b++) {
        const uint8_t *qb = panel + b * Q4_PANEL_BLOCK;
        const int8_t *xb = x + b * 32;
        __m256i dot[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
        for (int v = 0; v < 4; v++) {
            const __m256i x0 = _mm256_set1_epi32(load_i32(xb + v * 8)), x1 = _mm256_set1_epi32(load_i32(xb + v * 8 + 4));
            for (int h = 0; h < 2; h++) {
                const __m256i bytes = _mm256_loadu_si256((const void *)(qb + v * 64 + h * 32));
                const __m256i p0 = _mm256_maddubs_epi16(_mm256_and_si256(bytes, low), x0);
                const __m256i p1 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), low), x1);
                dot[h] = _mm256_add_epi32(dot[h], _mm256_add_epi32(_mm256_madd_epi16(p0, ones), _mm256_madd_epi16(p1, ones)));
            }
        }
        const __m256 xs = _mm256_set1_ps(xd[b]), ms = _mm256_set1_ps(xd[b] * (float)xsum[b]);
        for (int h = 0; h < 2; h++) {
            const __m256 dv = _mm256_cvtph_ps(_mm_loadu_si128((const void *)(scales + b * 2 * PANEL + h * 8)));
            const __m256 mv = _mm256_cvtph_ps(_mm_loadu_si128((const void *)(scales + b * 2 * PANEL + PANEL + h * 8)));
            const __m256 term = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(dot[h]), _mm256_mul_ps(dv, xs)), _mm256_mul_ps(mv, ms));
            if (b & 1) acc1[h] = _mm256_add_ps(acc1[h], term); else acc0[h] = _mm256_add_ps(acc0[h], term);
        }
    }
    for (int h = 0; h < 2; h++) _mm256_storeu_ps(out + h * 8, _mm256_add_ps(acc0[h], acc1[h]));
}

static void panel_portable(const uint8_t *panel, const void *panel_scales, long nb, const int8_t *x, const float *xd,
                           const int32_t *xsum, float *out) {
    const uint16_t *scales = panel_scales;
    for (int j = 0; j < PANEL; j++) {
        float acc0 = 0, acc1 = 0;
        for (long b = 0; b < nb; b++) {
            const uint8_t *qb = panel + b * Q4_PANEL_BLOCK;
            int32_t dot = 0;
            for (int k = 0; k < 32; k++) {
                const int v = k / 8, high = (k % 8) / 4, t = k % 4;
                dot += ((qb[v * 64 + j * 4 + t] >> (4 * high)) & 0x0F) * x[b * 32 + k];
            }
            const float d = half_to_float(scales[b * 2 * PANEL + j]), m = half_to_float(scales[b * 2 * PANEL + PANEL + j]);
            const float term = (float)dot * (d * xd[b]) + m * (xd[b] * (float)xsum[b]);
            if (b & 1) acc1 += term; else acc0 += term;
        }
        out[j] = acc0 + acc1;
    }
}

static const panel_fn fns[3] = {panel_portable, panel_avx2, panel_vnni};

void finch_q4_rows(const uint8_t *panels, const uint16_t *scales, long cols, const int8_t *xq, const float *xd,
                   const int32_t *xsum, long inputs, float *y, long y_stride, long r0, long r1) {
    panel_rows(fns[finch_q8_kernel_index()], panels, Q4_PANEL_BLOCK, scales, 2 * PANEL * sizeof(uint16_t), cols, xq, xd, xsum, inputs,
               y, y_stride, r0, r1);
}

int finch_q4_rows_with(int kernel, const uint8_t *panels, const uint16_t *scales, long cols, const int8_t *xq,
                       const float *xd, const int32_t *xsum, long inputs, float *y, long y_stride, long r0, long r1) {
    if (kernel < 0 || kernel > finch_q8_best_kernel()) return 0;
    panel_rows(fns[kernel], panels, Q4_PANEL_BLOCK, scales, 2 * PANEL * sizeof(uint16_t), cols, xq, xd, xsum, inputs, y, y_stride, r0, r1);
    return 1;
}
