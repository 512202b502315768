// AdamW's update in C: Swift's SIMD16<Float>.squareRoot() becomes sixteen calls to a scalar
// square root, which made the update twice as slow as streaming its seven floats; here the
// compiler's vector square root runs. The operations and their order are the scalar
// formula's (no contraction into multiply-adds), so every element gets the same bits.
#include "finch_kernels.h"

void finch_adamw_update(float *w, const float *g, float *m, float *v, long count, float lr, float b1, float b2,
                        float c1, float c2, float eps, float decay) {
    const float a1 = 1 - b1, a2 = 1 - b2;
    for (long i = 0; i < count; i++) {
        float gi = g[i];
        float mi = b1 * m[i] + a1 * gi, vi = b2 * v[i] + a2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * decay - lr * (mi / c1) / (__builtin_sqrtf(vi / c2) + eps);
    }
}
