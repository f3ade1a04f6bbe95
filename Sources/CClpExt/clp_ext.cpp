#define CLP_EXTERN_C
#include <coin/ClpSimplex.hpp>
#include <coin/ClpEventHandler.hpp>
#include <coin/ClpSolve.hpp>
#include <coin/ClpInterior.hpp>
#include <coin/ClpCholeskyBase.hpp>
#include <coin/CoinMessageHandler.hpp>
#include <suitesparse/amd.h>
#include "clp_ext.h"

#include <atomic>
#include <memory>

namespace {
struct StopState {
    std::atomic<bool> requested{false};
    clpx_progress_fn fn = nullptr;
    void *ctx = nullptr;
    clpx_barrier_fn barrierFn = nullptr;
    /* Set while clpx_barrier_solve runs: the interior model whose iterations are reported. */
    ClpInterior *interior = nullptr;
};
}  // namespace

/* The token handed to C/Swift; handler clones inside CLP share the state. */
struct clpx_stop {
    std::shared_ptr<StopState> state = std::make_shared<StopState>();
};

namespace {

class StopHandler : public ClpEventHandler {
public:
    explicit StopHandler(std::shared_ptr<StopState> s) : state_(std::move(s)) {}
    StopHandler(const StopHandler &o) : ClpEventHandler(o), state_(o.state_) {}
    StopHandler &operator=(const StopHandler &o) {
        if (this != &o) { ClpEventHandler::operator=(o); state_ = o.state_; }
        return *this;
    }
    ClpEventHandler *clone() const override { return new StopHandler(*this); }

    int event(Event which) override {
        if (state_->requested.load(std::memory_order_relaxed)) return 0;
        /* During clpx_barrier_solve the handler (shared with the borrowed ClpInterior) still
           points at the simplex model, whose counters do not move: report the interior's. */
        if (state_->interior) {
            if (which != endOfIteration) return -1;
            ClpInterior *b = state_->interior;
            if (state_->barrierFn &&
                state_->barrierFn(state_->ctx, b->numberIterations(), (double)b->primalObjective(),
                                  (double)b->dualObjective(), (double)b->complementarityGap(),
                                  (double)b->sumPrimalInfeasibilities(), (double)b->sumDualInfeasibilities())) {
                state_->requested.store(true);
                return 0;
            }
            return -1;
        }
        if ((which == endOfIteration || which == endOfFactorization) && state_->fn && model_) {
            int stop = state_->fn(state_->ctx, which == endOfIteration ? 0 : 1, model_->numberIterations(),
                                  model_->objectiveValue(), model_->sumPrimalInfeasibilities(),
                                  model_->sumDualInfeasibilities(), model_->algorithm());
            if (stop) {
                state_->requested.store(true);
                return 0;
            }
        }
        return -1;
    }

private:
    std::shared_ptr<StopState> state_;
};

FILE *devnull() {
    static FILE *f = fopen("/dev/null", "w");
    return f;
}

}  // namespace

namespace {
/* CLP's barrier Cholesky with SuiteSparse's AMD ordering instead of CLP's own (`orderAMD`, a
   translation of WSSMP's approximate minimum fill without dense-row detection). A Handelman LP
   has one nearly dense row (the constant monomial: every product has a constant term), which
   makes AᴰAᵀ's graph a star on top of the mesh; CLP's ordering then updates that row's
   adjacency at every elimination and took 90 % of a 124 s solve of the verivital avg-pool net's
   LP (114 195 rows, ten outputs, the ordering repeated for each). AMD sets rows of degree above
   max(16, 10√n) aside and orders them last. The symbolic and numeric factorization stay CLP's. */
class ClpCholeskySuiteSparseAMD : public ClpCholeskyBase {
public:
    ClpCholeskySuiteSparseAMD() : ClpCholeskyBase() {}
    ClpCholeskySuiteSparseAMD(const ClpCholeskySuiteSparseAMD &rhs) : ClpCholeskyBase(rhs) {}
    ClpCholeskyBase *clone() const override { return new ClpCholeskySuiteSparseAMD(*this); }

    int order(ClpInterior *model) override {
        if (model->numberRows() <= 6 || doKKT_) return ClpCholeskyBase::order(model);
        model_ = model;
        /* The upper-triangular pattern of AAᵀ with its diagonal, rows sorted (as CLP's own
           ordering reads it); AMD orders the pattern of P + Pᵀ. */
        if (preOrder(false, true, false)) return -1;
        numberRowsDropped_ = 0;
        const int n = numberRows_;
        CoinBigIndex *perm = new CoinBigIndex[n];
        double control[AMD_CONTROL], info[AMD_INFO];
        amd_defaults(control);
        int status = amd_order(n, choleskyStart_, choleskyRow_, perm, control, info);
        if (status != AMD_OK && status != AMD_OK_BUT_JUMBLED) {
            /* AMD failed (out of memory, or a pattern it calls invalid): CLP's own ordering, from
               its own pre-ordering. */
            delete[] perm;
            delete[] rowsDropped_;
            rowsDropped_ = NULL;
            delete[] choleskyRow_;
            choleskyRow_ = NULL;
            delete[] choleskyStart_;
            choleskyStart_ = NULL;
            return ClpCholeskyBase::order(model);
        }
        permute_ = perm;            /* permute_[new] = old, as CLP's orderings leave it */
        permuteInverse_ = new CoinBigIndex[n];
        for (int i = 0; i < n; i++) permuteInverse_[permute_[i]] = i;
        delete[] choleskyRow_;
        choleskyRow_ = NULL;
        delete[] choleskyStart_;
        choleskyStart_ = NULL;
        return 0;
    }
};
}  // namespace

extern "C" {

clpx_stop *clpx_stop_new(void) { return new clpx_stop(); }

void clpx_stop_free(clpx_stop *stop) { delete stop; }

void clpx_stop_request(clpx_stop *stop) { stop->state->requested.store(true); }

int clpx_stop_requested(const clpx_stop *stop) { return stop->state->requested.load() ? 1 : 0; }

void clpx_attach(Clp_Simplex *model, clpx_stop *stop, clpx_progress_fn fn, void *ctx) {
    auto p = stop->state;
    p->fn = fn;
    p->ctx = ctx;
    StopHandler handler(p);
    model->model_->passInEventHandler(&handler);
}

void clpx_set_log_file(Clp_Simplex *model, FILE *fp) {
    model->model_->setLogLevel(0);
    model->model_->messageHandler()->setLogLevel(0);
    model->model_->messageHandler()->setFilePointer(fp ? fp : devnull());
}

int clpx_initial_dual_solve(Clp_Simplex *model) {
    ClpSolve options;
    options.setSolveType(ClpSolve::useDual);
    options.setPresolveType(ClpSolve::presolveOn);
    return model->model_->initialSolve(options);
}

void clpx_attach_barrier_progress(clpx_stop *stop, clpx_barrier_fn fn) { stop->state->barrierFn = fn; }

int clpx_barrier_solve(Clp_Simplex *model, clpx_stop *stop) {
    ClpSimplex *simplex = model->model_;
    ClpInterior barrier;
    barrier.borrowModel(*simplex);
    barrier.setCholesky(new ClpCholeskySuiteSparseAMD());   /* owned and deleted by barrier */
    stop->state->interior = &barrier;
    if (!stop->state->requested.load()) barrier.primalDual();
    else barrier.setProblemStatus(5);
    stop->state->interior = nullptr;
    int status = barrier.status();
    if (stop->state->requested.load()) status = 5;
    barrier.returnModel(*simplex);
    simplex->setProblemStatus(status);
    simplex->setNumberIterations(barrier.numberIterations());
    return status;
}

}  // extern "C"
