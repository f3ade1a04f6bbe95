#include <coin/CbcModel.hpp>
#include <coin/CbcEventHandler.hpp>
#include <coin/OsiClpSolverInterface.hpp>
#include <coin/CglMixedIntegerRounding2.hpp>
#include <coin/CglFlowCover.hpp>
#include <coin/CglKnapsackCover.hpp>
#include <coin/CglClique.hpp>
#include <coin/CbcHeuristic.hpp>
#include <coin/CbcHeuristicFPump.hpp>
#include <coin/CbcHeuristicLocal.hpp>
#include <coin/CbcHeuristicRINS.hpp>
#include <coin/CoinMessageHandler.hpp>
#include "cbc_ext.h"

#include <cmath>
#include <vector>

namespace {

struct Reporter {
    cbcx_progress_fn fn = nullptr;
    void *ctx = nullptr;
    int sense = 1;            /* +1 minimize, -1 maximize (CBC minimizes sense * objective) */
    bool stopped = false;
};

/* Clones made inside CBC share the reporter through the pointer. */
class ProgressHandler : public CbcEventHandler {
public:
    explicit ProgressHandler(Reporter *r) : reporter_(r) {}
    ProgressHandler(const ProgressHandler &o) : CbcEventHandler(o), reporter_(o.reporter_) {}
    ProgressHandler &operator=(const ProgressHandler &o) {
        if (this != &o) { CbcEventHandler::operator=(o); reporter_ = o.reporter_; }
        return *this;
    }
    CbcEventHandler *clone() const override { return new ProgressHandler(*this); }

    CbcAction event(CbcEvent which) override {
        if (reporter_->stopped) return stop;
        int kind;
        if (which == node || which == treeStatus) kind = 0;
        else if (which == solution || which == heuristicSolution) kind = 1;
        else return noAction;
        if (!reporter_->fn || !model_) return noAction;
        const double *best = model_->bestSolution();
        double incumbent = best ? model_->getObjValue() : NAN;
        if (kind == 1 && !best) return noAction;
        double bound = model_->getBestPossibleObjValue();
        if (reporter_->fn(reporter_->ctx, kind, incumbent, bound, model_->getNodeCount(), best,
                          model_->getNumCols())) {
            reporter_->stopped = true;
            return stop;
        }
        return noAction;
    }

private:
    Reporter *reporter_;
};

}  // namespace

extern "C" cbcx_result cbcx_solve(int columns, int rows, const int *start, const int *index, const double *value,
                                  const double *column_lower, const double *column_upper, const double *objective,
                                  const double *row_lower, const double *row_upper, const char *is_integer,
                                  int maximize, double relative_gap, double seconds, cbcx_progress_fn fn, void *ctx,
                                  double *solution) {
    cbcx_result result{3, NAN, NAN, 0, 0};
    OsiClpSolverInterface solver;
    solver.messageHandler()->setLogLevel(0);
    solver.loadProblem(columns, rows, start, index, value, column_lower, column_upper, objective, row_lower,
                       row_upper);
    solver.setObjSense(maximize ? -1.0 : 1.0);
    for (int j = 0; j < columns; j++)
        if (is_integer[j]) solver.setInteger(j);

    CbcModel model(solver);
    model.setLogLevel(0);
    model.messageHandler()->setLogLevel(0);
    model.solver()->messageHandler()->setLogLevel(0);
    model.setAllowableFractionGap(relative_gap);
    model.setAllowableGap(0);
    model.setIntegerTolerance(1e-9);
    model.setMaximumSeconds(seconds);
    model.setPrintFrequency(0);

    CglMixedIntegerRounding2 mir;
    CglFlowCover flow;
    CglKnapsackCover knapsack;
    CglClique clique;
    clique.setStarCliqueReport(false);
    clique.setRowCliqueReport(false);
    /* No Gomory cuts and no probing: on the big-M rows of tiny_relu_deep they cut off the
       optimum (ball of radius 100 at the origin: probing + Gomory, CBC "proved" 0.2307, the true
       value is 0.3570; ball of radius 2 at (0.3, −0.4): probing alone, 0.003332 for 0.003459).
       The remaining generators were checked alone on both cases. */
    model.addCutGenerator(&mir, -1, "MIR2");
    model.addCutGenerator(&flow, -1, "FlowCover");
    model.addCutGenerator(&knapsack, -1, "Knapsack");
    model.addCutGenerator(&clique, -1, "Clique");
    CbcRounding rounding(model);
    model.addHeuristic(&rounding);
    CbcHeuristicFPump pump(model);
    model.addHeuristic(&pump);
    CbcHeuristicLocal local(model);
    model.addHeuristic(&local);
    CbcHeuristicRINS rins(model);
    model.addHeuristic(&rins);

    Reporter reporter;
    reporter.fn = fn;
    reporter.ctx = ctx;
    reporter.sense = maximize ? -1 : 1;
    ProgressHandler handler(&reporter);
    model.passInEventHandler(&handler);

    model.initialSolve();
    if (model.solver()->isProvenPrimalInfeasible()) {
        result.status = 2;
        return result;
    }
    model.branchAndBound();

    result.nodes = model.getNodeCount();
    const double *best = model.bestSolution();
    if (best) {
        result.has_solution = 1;
        result.objective = model.getObjValue();
        for (int j = 0; j < columns; j++) solution[j] = best[j];
    }
    result.bound = model.getBestPossibleObjValue();
    if (model.isProvenOptimal()) result.status = 0;
    else if (model.isProvenInfeasible()) result.status = 2;
    else if (reporter.stopped || model.isSecondsLimitReached() || model.isNodeLimitReached() ||
             model.status() == 1)
        result.status = 1;
    return result;
}
