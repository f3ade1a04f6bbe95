#ifndef LIPSCOPE_CLAPACK_SHIM_H
#define LIPSCOPE_CLAPACK_SHIM_H
#include <cblas.h>
#include <lapacke.h>
/* OpenBLAS exposes these but cblas.h may not declare them on every build. */
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);
/* mallopt/malloc_trim: `HeapRetention` keeps large freed blocks in the heap during ECLipsE's
   chain and certificate (glibc serves blocks ≥ 32 MiB by fresh mmaps otherwise, each page
   faulted and zeroed again). */
#include <malloc.h>
#endif
