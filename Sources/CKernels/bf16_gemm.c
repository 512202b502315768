// C = alpha · op(A) · op(B) + beta · C with bfloat16 products and float32 sums (AVX512_BF16).
//
// GotoBLAS's loop nest, as OpenBLAS runs its float32 kernels: a KC × NC block of op(B) is packed
// (rounded to bfloat16) once and stays in L2/L3, an MC × KC block of op(A) is packed into L2, and a
// 12 × 32 micro-kernel keeps its tile of C in 24 registers while it walks K two values at a time:
//
//   C[i, j] += Σ_p  a[i, 2p] · b[2p, j] + a[i, 2p+1] · b[2p+1, j]        (one vdpbf16ps per 16 j)
//
// Packed layouts, one 32-bit word per pair of bfloat16 along K (the even k in the low half, as
// vdpbf16ps pairs them):
//   A micro-panel: word [p][r]    = (a[r, 2p], a[r, 2p+1])          r < MR, broadcast per row
//   B micro-panel: word [p][j]    = (b[2p, j], b[2p+1, j])          j < NR, two vectors per p
// Rows or columns past the matrix, and a K past an odd end, are packed as zeros.
//
// Every element of C is summed in the same order wherever its tile lies (pairs in order within a
// KC block, blocks in order), so a product split into row or column blocks equals the whole one.
#include "finch_kernels.h"
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MR = 12, NR = 32, MC = 240, NC = 3072, KC_MAX = 320 };

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// The first n lanes of 16 (none for n ≤ 0, all for n ≥ 16).
static inline __mmask16 first_lanes(long n) {
    return (__mmask16)(n >= 16 ? 0xFFFF : n <= 0 ? 0 : (1u << n) - 1);
}

// Two bfloat16 rows of w ≤ 16 values (r1 may be null: zeros), interleaved into w pair words at dst.
BF16_TARGET static inline void pack_interleaved16(const float *r0, const float *r1, long w, uint32_t *dst) {
    __mmask16 m = first_lanes(w);
    __m512 lo = _mm512_maskz_loadu_ps(m, r0);
    __m512 hi = r1 ? _mm512_maskz_loadu_ps(m, r1) : _mm512_setzero_ps();
    // Low 16 words: r0 rounded (to nearest even); high 16: r1. Interleave to (r0[x], r1[x]) words.
    __m512i both = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
    const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                           23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    _mm512_mask_storeu_epi32(dst, m, _mm512_permutexvar_epi16(order, both));
}

// rows[i] word j ← rows[j] word i: 32-bit unpacks within 128-bit lanes, then lanes across vectors.
BF16_TARGET static inline void transpose16(__m512i r[16]) {
    __m512i t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    // u[4i + c], lane L: rows 4i..4i+3 of column 4L + c.
    for (int i = 0; i < 4; i++) {
        u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int c = 0; c < 4; c++) {
        __m512i ab_lo = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44), ab_hi = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xEE);
        __m512i cd_lo = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44), cd_hi = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xEE);
        r[c] = _mm512_shuffle_i32x4(ab_lo, cd_lo, 0x88);
        r[4 + c] = _mm512_shuffle_i32x4(ab_lo, cd_lo, 0xDD);
        r[8 + c] = _mm512_shuffle_i32x4(ab_hi, cd_hi, 0x88);
        r[12 + c] = _mm512_shuffle_i32x4(ab_hi, cd_hi, 0xDD);
    }
}

// Packs a panel of `width` words per pair: element (k, x) of the source is src[k * sk + x * sx],
// for k < kc and x < w (the rest of the width is zeros). `pairs` = ceil(kc / 2) words deep.
BF16_TARGET static void pack_panel(const float *src, long sk, long sx, long kc, long w, long width, uint32_t *dst) {
    const long pairs = (kc + 1) / 2;
    if (w < width) {
        for (long p = 0; p < pairs; p++) memset(dst + p * width + w, 0, (size_t)(width - w) * 4);
    }
    if (sx == 1) {
        // Contiguous along the panel: two source rows per pair word.
        for (long p = 0; p < pairs; p++) {
            const float *r0 = src + 2 * p * sk;
            const float *r1 = 2 * p + 1 < kc ? r0 + sk : NULL;
            for (long x = 0; x < w; x += 16) {
                long n = w - x < 16 ? w - x : 16;
                pack_interleaved16(r0 + x, r1 ? r1 + x : NULL, n, dst + p * width + x);
            }
        }
        return;
    }
    // Contiguous along K (sk == 1): 16 source lines at a time give 16 pair words each per 32
    // floats, and a 16 × 16 transpose turns them into 16 rows of the panel.
    for (long x0 = 0; x0 < w; x0 += 16) {
        long lines = w - x0 < 16 ? w - x0 : 16;
        __mmask16 store = first_lanes(width - x0);
        for (long k = 0; k < kc; k += 32) {
            long n = kc - k < 32 ? kc - k : 32;
            __mmask16 m0 = first_lanes(n), m1 = first_lanes(n - 16);
            __m512i rows[16];
            for (long x = 0; x < 16; x++) {
                if (x >= lines) { rows[x] = _mm512_setzero_si512(); continue; }
                const float *line = src + (x0 + x) * sx + k;
                rows[x] = (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m1, line + 16), _mm512_maskz_loadu_ps(m0, line));
            }
            transpose16(rows);
            long np = (n + 1) / 2;
            for (long q = 0; q < np; q++) _mm512_mask_storeu_epi32(dst + (k / 2 + q) * width + x0, store, rows[q]);
        }
    }
}

// The 12 × 32 tile: acc = Σ_p a-pairs · b-pairs over `pairs` words, then stored into the mr × nr
// corner of C as alpha · acc + beta · C (first K block) or C + alpha · acc (later blocks).
BF16_TARGET static void micro_kernel(long pairs, const uint32_t *a, const uint32_t *b, float *c, long ldc,
                                     long mr, long nr, float alpha, float beta, int first) {
    __m512 acc[MR][2];
    for (int r = 0; r < MR; r++) { acc[r][0] = _mm512_setzero_ps(); acc[r][1] = _mm512_setzero_ps(); }
    for (long p = 0; p < pairs; p++) {
        __m512bh b0 = (__m512bh)_mm512_load_si512((const void *)b);
        __m512bh b1 = (__m512bh)_mm512_load_si512((const void *)(b + 16));
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[r]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
        }
        a += MR;
        b += NR;
    }
    __mmask16 m0 = first_lanes(nr), m1 = first_lanes(nr - 16);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < MR; r++) {
        if (r >= mr) break;
        float *row = c + r * ldc;
        __m512 v0 = _mm512_mul_ps(va, acc[r][0]), v1 = _mm512_mul_ps(va, acc[r][1]);
        if (!first) {
            v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, row), v0);
            v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, row + 16), v1);
        } else if (beta != 0) {
            v0 = _mm512_add_ps(v0, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m0, row)));
            v1 = _mm512_add_ps(v1, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m1, row + 16)));
        }
        _mm512_mask_storeu_ps(row, m0, v0);
        _mm512_mask_storeu_ps(row + 16, m1, v1);
    }
}

// Per-thread packing buffers, grown as needed and kept: products come in the same few shapes.
static __thread uint32_t *packed_a, *packed_b;
static __thread size_t packed_a_words, packed_b_words;

static uint32_t *scratch(uint32_t **buffer, size_t *have, size_t words) {
    if (*have < words) {
        free(*buffer);
        void *p = NULL;
        if (posix_memalign(&p, 64, words * 4) != 0) { *buffer = NULL; *have = 0; return NULL; }
        *buffer = p;
        *have = words;
    }
    return *buffer;
}

BF16_TARGET static int gemm_bf16(int ta, int tb, long m, long n, long k, float alpha, const float *a, long lda,
                                 const float *b, long ldb, float beta, float *c, long ldc) {
    // K in equal blocks of at most KC_MAX, each even, so no block but the last ends mid-pair.
    long blocks = (k + KC_MAX - 1) / KC_MAX;
    long kc_step = ((k + blocks - 1) / blocks + 1) / 2 * 2;
    uint32_t *pa = scratch(&packed_a, &packed_a_words, (size_t)MC * (KC_MAX / 2));
    uint32_t *pb = scratch(&packed_b, &packed_b_words, (size_t)NC * (KC_MAX / 2));
    if (!pa || !pb) return 0;
    // op(A)[i, k] = a[i * lda + k], or a[k * lda + i] when transposed; op(B)[k, j] likewise.
    const long ask = ta ? lda : 1, asi = ta ? 1 : lda;
    const long bsk = tb ? 1 : ldb, bsj = tb ? ldb : 1;
    for (long jc = 0; jc < n; jc += NC) {
        long nc = n - jc < NC ? n - jc : NC;
        for (long pc = 0; pc < k; pc += kc_step) {
            long kc = k - pc < kc_step ? k - pc : kc_step;
            long pairs = (kc + 1) / 2;
            for (long j = 0; j < nc; j += NR) {
                long w = nc - j < NR ? nc - j : NR;
                pack_panel(b + pc * bsk + (jc + j) * bsj, bsk, bsj, kc, w, NR, pb + (j / NR) * pairs * NR);
            }
            for (long ic = 0; ic < m; ic += MC) {
                long mc = m - ic < MC ? m - ic : MC;
                for (long i = 0; i < mc; i += MR) {
                    long h = mc - i < MR ? mc - i : MR;
                    pack_panel(a + pc * ask + (ic + i) * asi, ask, asi, kc, h, MR, pa + (i / MR) * pairs * MR);
                }
                for (long j = 0; j < nc; j += NR) {
                    long w = nc - j < NR ? nc - j : NR;
                    const uint32_t *bp = pb + (j / NR) * pairs * NR;
                    for (long i = 0; i < mc; i += MR) {
                        long h = mc - i < MR ? mc - i : MR;
                        micro_kernel(pairs, pa + (i / MR) * pairs * MR, bp, c + (ic + i) * ldc + jc + j, ldc,
                                     h, w, alpha, beta, pc == 0);
                    }
                }
            }
        }
    }
    return 1;
}

static int has_bf16 = 0;

// Decided before main runs, so threads only ever read it.
__attribute__((constructor)) static void detect_bf16(void) {
    __builtin_cpu_init();
    has_bf16 = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl");
}

int finch_bf16_supported(void) { return has_bf16; }

int finch_bf16_gemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                    const float *b, long ldb, float beta, float *c, long ldc) {
    if (!has_bf16) return 0;
    if (m <= 0 || n <= 0) return 1;
    if (k <= 0) {
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
        return 1;
    }
    return gemm_bf16(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
