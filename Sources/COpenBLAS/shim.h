// OpenBLAS's CBLAS interface. Debian installs it as cblas-openblas.h (cblas.h is an
// alternatives link that may point at another BLAS); prefer the OpenBLAS header so
// openblas_set_num_threads is declared. Below it, the few CPU helpers FinchTensor needs from C.
#if __has_include(<cblas-openblas.h>)
#include <cblas-openblas.h>
#else
#include <cblas.h>
#endif

#include <stdlib.h>

// OpenBLAS built with DYNAMIC_ARCH (Debian's) picks its kernels for the CPU when it loads; these
// re-run that choice. Weak, so a build without them still links (finch_openblas_use_core returns 0).
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

/// Switches OpenBLAS to the named kernel set (as OPENBLAS_CORETYPE=name would at load). Call before
/// any BLAS work. Returns 0 when this OpenBLAS cannot switch.
static inline int finch_openblas_use_core(const char *name) {
    if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return 0;
    setenv("OPENBLAS_CORETYPE", name, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    return 1;
}

/// The widest vector extension OpenBLAS has kernels for on this CPU: 2 AVX-512F, 1 AVX2 with FMA, 0 other.
static inline int finch_cpu_vector_level(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

/// Tells the CPU this is a spin-wait (x86 `pause`, ARM `yield`): a spinning thread then leaves
/// more of a shared core to its sibling and uses less power.
static inline void finch_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
