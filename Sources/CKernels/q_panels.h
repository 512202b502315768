// What the Q8_0 and Q4_1 products share: the panel loop and the input's 4-byte loads.
#ifndef FINCH_Q_PANELS_H
#define FINCH_Q_PANELS_H
#include <stdint.h>
#include <string.h>

enum { PANEL = 16 };

static inline int32_t load_i32(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

// One panel (16 rows) times one input: out[j] for the panel's rows. `scales` are the panel's.
typedef void (*panel_fn)(const uint8_t *panel, const void *scales, long nb, const int8_t *x, const float *xd,
                         const int32_t *xsum, float *out);

// Rows [r0, r1) (r0 a multiple of 16) for every input, panels outermost, so a panel is read from
// memory once for all the inputs. A panel's blocks take `block_bytes` of values and `scale_bytes`
// of scales each.
static inline void panel_rows(panel_fn fn, const uint8_t *panels, long block_bytes, const void *scales, long scale_bytes,
                              long cols, const int8_t *xq, const float *xd, const int32_t *xsum, long inputs,
                              float *y, long y_stride, long r0, long r1) {
    const long nb = cols / 32;
    for (long p = r0 / PANEL; p * PANEL < r1; p++) {
        const long first = p * PANEL, n = (r1 - first < PANEL ? r1 - first : PANEL);
        for (long i = 0; i < inputs; i++) {
            float out[PANEL];
            fn(panels + p * nb * block_bytes, (const char *)scales + p * nb * scale_bytes, nb, xq + i * cols, xd + i * nb,
               xsum + i * nb, out);
            memcpy(y + i * y_stride + first, out, (size_t)n * sizeof(float));
        }
    }
}
#endif
