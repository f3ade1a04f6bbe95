#ifndef LIPSCOPE_CLP_EXT_H
#define LIPSCOPE_CLP_EXT_H
/* Extension of CLP's C API: a stop token and progress callback attached through a
   ClpEventHandler (works with presolve, from any thread), and silencing of CLP's output. */
#include <stdio.h>
#include <coin/Clp_C_Interface.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clpx_stop clpx_stop;

/* Called from the solving thread at the end of every simplex iteration and at every
   refactorization. event: 0 = iteration, 1 = factorization. algorithm: < 0 dual, > 0 primal.
   Return non-zero to stop the solve (status 5, solution not meaningful). */
typedef int (*clpx_progress_fn)(void *ctx, int event, int iteration, double objective,
                                double sum_primal_infeasibilities, double sum_dual_infeasibilities,
                                int algorithm);

clpx_stop *clpx_stop_new(void);
void clpx_stop_free(clpx_stop *stop);
/* Thread-safe; the solve stops at its next iteration or factorization. */
void clpx_stop_request(clpx_stop *stop);
int clpx_stop_requested(const clpx_stop *stop);

/* Installs the event handler (the model keeps a clone that shares the token). fn may be NULL. */
void clpx_attach(Clp_Simplex *model, clpx_stop *stop, clpx_progress_fn fn, void *ctx);

/* Sends CLP's message output to fp; NULL sends it to /dev/null. Also sets log level 0. */
void clpx_set_log_file(Clp_Simplex *model, FILE *fp);

/* Called from the solving thread after every interior-point iteration of clpx_barrier_solve.
   Return non-zero to stop the solve. */
typedef int (*clpx_barrier_fn)(void *ctx, int iteration, double primal_objective, double dual_objective,
                               double complementarity, double sum_primal_infeasibilities,
                               double sum_dual_infeasibilities);

/* Sets the interior-point progress function (called with the ctx given to clpx_attach). */
void clpx_attach_barrier_progress(clpx_stop *stop, clpx_barrier_fn fn);

/* CLP's primal-dual interior-point method (ClpInterior, predictor-corrector, Clp's own sparse
   Cholesky), no presolve, no crossover: the returned point is interior-optimal to the barrier's
   tolerances, not a vertex. Returns CLP's status (0 optimal, 5 stopped, others as Clp_status);
   the solution is left in the model (Clp_getColSolution, Clp_getRowPrice, ...). */
int clpx_barrier_solve(Clp_Simplex *model, clpx_stop *stop);

/* Dual simplex with presolve (ClpSolve), returns CLP's status. */
int clpx_initial_dual_solve(Clp_Simplex *model);

#ifdef __cplusplus
}
#endif
#endif
