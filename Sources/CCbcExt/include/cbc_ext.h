#ifndef LIPSCOPE_CBC_EXT_H
#define LIPSCOPE_CBC_EXT_H
/* A mixed-integer LP solved in-process by COIN-OR CBC (CbcModel on OsiClpSolverInterface with
   the usual cut generators), with a CbcEventHandler that reports every node and every new
   incumbent to a callback and stops the search when the callback asks (CBC's C API has no hook
   for either). */
#ifdef __cplusplus
extern "C" {
#endif

/* Called from the solving thread after every node and on every new incumbent (event 0 node,
   1 solution). incumbent/bound are in the problem's own sense (maximization when maximize != 0);
   solution is the incumbent's column values (NULL when there is none yet). Return non-zero to
   stop the search at the next node. */
typedef int (*cbcx_progress_fn)(void *ctx, int event, double incumbent, double bound, int nodes,
                                const double *solution, int columns);

typedef struct {
    int status;            /* 0 proven optimal, 1 stopped (callback, time or node limit), 2 infeasible, 3 other */
    double objective;      /* incumbent value (NaN when none) */
    double bound;          /* best possible objective (CBC's dual bound) */
    int nodes;
    int has_solution;
} cbcx_result;

/* Column-major constraint matrix (start has columns+1 entries). is_integer: 1 for binary/integer
   columns. solution receives the incumbent (columns entries) when has_solution. */
cbcx_result cbcx_solve(int columns, int rows, const int *start, const int *index, const double *value,
                       const double *column_lower, const double *column_upper, const double *objective,
                       const double *row_lower, const double *row_upper, const char *is_integer,
                       int maximize, double relative_gap, double seconds, cbcx_progress_fn fn, void *ctx,
                       double *solution);

#ifdef __cplusplus
}
#endif
#endif
