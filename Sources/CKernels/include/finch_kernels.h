// Kernels Finch writes in C for instructions Swift cannot name (AVX-512 VNNI, AVX2's byte
// products), chosen at run time by what the CPU has.
#ifndef FINCH_KERNELS_H
#define FINCH_KERNELS_H
#include <stdint.h>

/// Q8_0's quantisation of `blocks` blocks of 32 floats, for weights, activations and GGUF files alike:
/// d = max|x| / 127 and q = round(x / d) (computed as x · (1/d), halves away from zero; q = 0 where d = 0).
/// NaN and infinite inputs give values in [-127, 127] too. `sums` (if not NULL) gets each block's Σ q.
void finch_q8_quantize(const float *x, long blocks, int8_t *q, float *d, int32_t *sums);

/// Rows 16 · p0 ..< 16 · p1 of a float32 matrix [rows, cols] quantised to Q8_0 (finch_q8_quantize's
/// blocks) in the panel layout the products read (q8_rows.c describes it): `panels` holds
/// ⌈rows/16⌉ · 16 · cols bytes and `panel_scales` ⌈rows/16⌉ · 16 · cols/32 floats; rows past `rows` are zero.
void finch_q8_pack(const float *w, long rows, long cols, uint8_t *panels, float *panel_scales, long p0, long p1);

/// y[i * y_stride + r] = Σ_b d[r,b] · xd[i,b] · Σ_j q[r,b,j] · xq[i,b,j] for rows r in [r0, r1)
/// (r0 a multiple of 16) and `inputs` quantised vectors, Q8_0 blocks of 32 on both sides, the
/// matrix in finch_q8_pack's panels; xsum[i,b] = Σ_j xq[i,b,j]. The block sums are exact; the float
/// sums run in a fixed order (even blocks into one accumulator, odd into another, then added), so
/// every kernel gives the same bits.
void finch_q8_rows(const uint8_t *panels, const float *panel_scales, long cols, const int8_t *xq, const float *xd,
                   const int32_t *xsum, long inputs, float *y, long y_stride, long r0, long r1);

/// finch_q8_rows through one kernel (0 portable, 1 AVX2, 2 AVX-512 VNNI), for tests that compare
/// them; returns 0 (and does nothing) when this CPU lacks it.
int finch_q8_rows_with(int kernel, const uint8_t *panels, const float *panel_scales, long cols, const int8_t *xq,
                       const float *xd, const int32_t *xsum, long inputs, float *y, long y_stride, long r0, long r1);

/// Which kernel finch_q8_rows uses on this CPU: "avx512vnni", "avx2" or "portable".
const char *finch_q8_kernel(void);

/// The index of that kernel (0 portable, 1 AVX2, 2 AVX-512 VNNI; the Q4_1 products use the same
/// choice), and the best one this CPU has.
int finch_q8_kernel_index(void);
int finch_q8_best_kernel(void);

/// float16 (bits) to float32 and back (round to nearest even), the same on every CPU.
float finch_half_to_float(uint16_t h);
uint16_t finch_float_to_half(float f);

/// Q4_1's quantisation of one block of 32, as llama.cpp writes it: d = (max − min) / 15 and m = min
/// (stored as float16), q = min(15, ⌊(x − min) / d + 0.5⌋) computed with d in float32, 0 where d = 0.
void finch_q4_1_quantize(const float *x, uint16_t *d, uint16_t *m, uint8_t *q);

/// Rows 16 · p0 ..< 16 · p1 of a float32 matrix [rows, cols] quantised to Q4_1 in the panel layout
/// (q4_rows.c describes it): `panels` holds ⌈rows/16⌉ · 8 · cols bytes and `scales` ⌈rows/16⌉ · cols/16
/// float16 values; rows past `rows` are zero.
void finch_q4_pack(const float *w, long rows, long cols, uint8_t *panels, uint16_t *scales, long p0, long p1);

/// finch_q8_rows for a matrix in Q4_1 panels: y = Σ_b dot_b · (d · xd) + m · (xd · xsum), in the same
/// fixed order, so every kernel gives the same bits.
void finch_q4_rows(const uint8_t *panels, const uint16_t *scales, long cols, const int8_t *xq, const float *xd,
                   const int32_t *xsum, long inputs, float *y, long y_stride, long r0, long r1);

/// finch_q4_rows through one kernel, for the tests; returns 0 when this CPU lacks it.
int finch_q4_rows_with(int kernel, const uint8_t *panels, const uint16_t *scales, long cols, const int8_t *xq,
                       const float *xd, const int32_t *xsum, long inputs, float *y, long y_stride, long r0, long r1);

/// Rows [r0, r1) (r0 a multiple of 16) of a matrix in Q8_0 panels widened to float32 (w = d · q), row
/// after row `ldo` floats apart from `out` (row r0's start). `kernel` is -1 for the best this CPU has,
/// 0 portable or 1 AVX2 (the same bits); returns 0, touching nothing, when this CPU lacks that kernel.
int finch_q8_widen(int kernel, const uint8_t *panels, const float *panel_scales, long cols, float *out, long ldo, long r0, long r1);

/// finch_q8_widen for Q4_1 panels: w = d · q + m (a multiply, then an add).
int finch_q4_widen(int kernel, const uint8_t *panels, const uint16_t *scales, long cols, float *out, long ldo, long r0, long r1);

/// Gives the heap's free pages back to the system (glibc's malloc_trim).
void finch_release_heap(void);

/// Whether this CPU has the bfloat16 dot products (AVX512_BF16) finch_bf16_gemm needs.
int finch_bf16_supported(void);

/// C = alpha · op(A) · op(B) + beta · C on row-major float32 buffers (op(X) = Xᵀ when trans_x),
/// with A and B rounded to bfloat16 (to nearest even) and every sum in float32; one thread.
/// Returns 0, touching nothing, on a CPU without AVX512_BF16 (or when out of memory).
int finch_bf16_gemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                    const float *b, long ldb, float beta, float *c, long ldc);

/// AdamW's update of `count` elements: m = b1·m + (1 − b1)·g, v = b2·v + (1 − b2)·g·g,
/// w = w·decay − lr·(m / c1) / (√(v / c2) + eps), in that order of operations.
void finch_adamw_update(float *w, const float *g, float *m, float *v, long count, float lr, float b1, float b2,
                        float c1, float c2, float eps, float decay);
#endif
