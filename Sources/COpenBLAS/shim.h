// OpenBLAS's CBLAS interface. Debian installs it as cblas-openblas.h (cblas.h is an
// alternatives link that may point at another BLAS); prefer the OpenBLAS header so
// openblas_set_num_threads is declared.
#if __has_include(<cblas-openblas.h>)
#include <cblas-openblas.h>
#else
#include <cblas.h>
#endif
