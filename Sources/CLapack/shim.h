#ifndef LIPSCOPE_CLAPACK_SHIM_H
#define LIPSCOPE_CLAPACK_SHIM_H
#include <cblas.h>
#include <lapacke.h>
/* OpenBLAS exposes these but cblas.h may not declare them on every build. */
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);
#endif
