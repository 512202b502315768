// What Swift's Glibc module does not export: giving the heap's free pages back to the system.
#include "finch_kernels.h"
#include <malloc.h>

void finch_release_heap(void) { malloc_trim(0); }
