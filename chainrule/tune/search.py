"""``tune.search``: run an objective over a search space and keep the best.

Methods: ``grid``, ``random`` and ``coarse_to_fine`` are built in; ``bayes``
(Optuna's TPE or GP sampler), ``hyperband`` and ``asha`` (Optuna's pruners
on randomly sampled configurations) need Optuna.  ``pruner='curve'`` adds
learning-curve extrapolation to any method.
"""
import math
import multiprocessing
import os
import tempfile
import time
import traceback

import numpy as np

from ..errors import ArgumentError
from . import space as _space
from .curve import CurvePruner
from .study import Journal, Trial, TrialPruned, _check_value, now

BUILTIN = ("grid", "random", "coarse_to_fine")
OPTUNA = ("bayes", "hyperband", "asha")
_WAIT = object()


class SearchResult:
    """The outcome: ``best_params``, ``best_value``, ``best_trial``, ``trials``
    (a :class:`Trials` table), ``regions`` (coarse_to_fine's narrowed spaces)."""

    def __init__(self, trials, direction, method, study_path=None, regions=None):
        self.trials, self.direction, self.method = trials, direction, method
        self.study_path, self.regions = study_path, regions or []
        done = [t for t in trials if t.state == "COMPLETE"]
        if not done:
            self.best_trial = None
            self.best_params, self.best_value = None, None
            return
        pick = min if direction == "minimize" else max
        self.best_trial = pick(done, key=lambda t: t.value)
        self.best_params = self.best_trial.params
        self.best_value = self.best_trial.value

    def plot(self, path=None):
        """Objective vs trial, parameter slices and learning curves (see plots)."""
        from .plots import plot_search

        return plot_search(self, path)

    def __str__(self):
        head = (f"{self.method} search, {len(self.trials)} trials "
                f"({self.trials.count('COMPLETE')} complete, "
                f"{self.trials.count('PRUNED')} pruned, "
                f"{self.trials.count('FAIL')} failed); best value "
                f"{self.best_value} with {self.best_params}")
        return head + "\n" + self.trials.table()

    __repr__ = __str__


def search(objective, space, method="random", budget=20, direction="minimize",
           seed=0, *, n_jobs=1, study=None, pruner=None, grid_size=5, rounds=3,
           sampler=None, catch=(), verbose=False):
    """Search ``space`` for the params that optimise ``objective``.

    ``objective(params, trial) -> float``: ``params`` is a dict of values
    (conditional entries absent when inactive); it may call
    ``trial.report(value, step)`` and stop early when
    ``trial.should_prune()`` (raising :class:`TrialPruned` or returning).
    ``budget``: the number of finished (complete or pruned) trials, counting
    those already in ``study``.  ``direction``: 'minimize' or 'maximize'.
    ``n_jobs``: worker processes running trials at once (forked; they share
    the study file).  ``study``: a file path; the search records every trial
    there and continues an interrupted search found in it (trials that were
    running when it stopped are marked FAIL and run again).  ``pruner``:
    None, 'curve' (learning-curve extrapolation, or a :class:`CurvePruner`),
    and with Optuna also 'median', 'hyperband', 'asha'.  ``grid_size``: points
    per numeric entry for 'grid'.  ``rounds``: narrowing rounds of
    'coarse_to_fine'.  ``sampler``: 'tpe' (default) or 'gp' for 'bayes',
    'random' (default) or 'tpe' for 'hyperband'/'asha'.  ``catch``: exception
    types recorded as FAIL instead of ending the search.
    """
    if not callable(objective):
        raise ArgumentError(f"tune.search: objective must be callable(params, trial), "
                            f"got {type(objective).__name__}")
    _space.check_space(space)
    if method not in BUILTIN + OPTUNA:
        raise ArgumentError(f"tune.search: unknown method {method!r}; valid: "
                            + ", ".join(BUILTIN + OPTUNA))
    if direction not in ("minimize", "maximize"):
        raise ArgumentError(f"tune.search: direction must be 'minimize' or 'maximize', "
                            f"got {direction!r}")
    for v, n in ((budget, "budget"), (n_jobs, "n_jobs"), (grid_size, "grid_size"),
                 (rounds, "rounds")):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ArgumentError(f"tune.search: {n} must be an int >= 1, got {v!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ArgumentError(f"tune.search: seed must be an int, got {seed!r}")
    catch = tuple(catch)
    tmp = None
    if study is None and n_jobs > 1:
        tmp = tempfile.TemporaryDirectory()
        study = os.path.join(tmp.name, "study")
    try:
        if method in OPTUNA or pruner in ("median", "hyperband", "asha"):
            from ._optuna import run_optuna

            return run_optuna(objective, space, method, budget, direction, seed,
                              n_jobs, study, pruner, sampler, catch, verbose)
        return _run_builtin(objective, space, method, budget, direction, seed, n_jobs,
                            study, pruner, grid_size, rounds, catch, verbose)
    finally:
        if tmp is not None:
            tmp.cleanup()


def make_curve_pruner(pruner, who):
    if pruner is None or isinstance(pruner, CurvePruner):
        return pruner
    if pruner == "curve":
        return CurvePruner()
    raise ArgumentError(f"{who}: pruner must be None, 'curve', a CurvePruner, or "
                        f"(with Optuna) 'median', 'hyperband', 'asha'; got {pruner!r}")


# -- the built-in methods -------------------------------------------------------------
class _Proposer:
    """Chooses trial ``number``'s params from the trials so far (deterministic
    given the seed, so a resumed or parallel search proposes the same ones)."""

    def __init__(self, space, method, budget, seed, direction, grid_size, rounds):
        self.space, self.method, self.seed = space, method, seed
        self.direction = direction
        if method == "grid":
            self.points = _space.grid(space, grid_size)
        self.per_round = max(1, math.ceil(budget / rounds))
        self.regions = [space]

    def __call__(self, number, trials):
        if self.method == "grid":
            taken = [t.params for t in trials if t.state != "FAIL"]
            for p in self.points:
                if p not in taken:
                    return p
            return None
        rng = np.random.default_rng([self.seed, number])
        if self.method == "random":
            return _space.sample(self.space, rng)
        region = self.region(number // self.per_round, trials)
        return _WAIT if region is _WAIT else _space.sample(region, rng)

    def region(self, r, trials):
        """The space of round ``r``: round r-1's, narrowed around the best
        fifth (at least 3) of the trials finished in rounds before r."""
        while len(self.regions) <= r:
            k = len(self.regions)
            before = [t for t in trials if t.number < k * self.per_round]
            if any(t.state == "RUNNING" for t in before):
                return _WAIT
            done = sorted((t for t in before if t.state == "COMPLETE"),
                          key=lambda t: t.value,
                          reverse=self.direction == "maximize")
            top = done[:max(3, math.ceil(0.2 * len(done)))]
            prev = self.regions[-1]
            if not top:
                self.regions.append(prev)
                continue
            new = {}
            for name, dim in prev.items():
                vals = [t.params[name] for t in top if name in t.params]
                new[name] = dim.narrow(vals, 0.1) if vals else dim
            self.regions.append(new)
        return self.regions[r]


def _run_builtin(objective, space, method, budget, direction, seed, n_jobs, study,
                 pruner, grid_size, rounds, catch, verbose):
    pruner = make_curve_pruner(pruner, "tune.search")
    journal = Journal(study)
    with journal.lock():
        meta = journal.meta()
        want = {"op": "meta", "method": method, "direction": direction, "seed": seed,
                "space": {k: repr(v) for k, v in space.items()}}
        if meta is None:
            journal.append(want)
        elif {k: meta.get(k) for k in want} != want:
            raise ArgumentError(
                f"tune.search: the study file {study} holds a different search "
                f"({meta.get('method')}, {meta.get('direction')}, seed "
                f"{meta.get('seed')}, space {meta.get('space')}); use a new file")
        for t in journal.records():
            if t.state == "RUNNING":  # interrupted: mark it failed; it runs again
                journal.append({"op": "finish", "number": t.number, "state": "FAIL",
                                "value": None, "error": "interrupted",
                                "time": now()})
    proposer = _Proposer(space, method, budget, seed, direction, grid_size, rounds)
    args = (objective, journal, proposer, budget, direction, pruner, catch, verbose)
    if n_jobs == 1:
        _worker(*args)
    else:
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=_worker_process, args=args) for _ in range(n_jobs)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        bad = [p.exitcode for p in procs if p.exitcode != 0]
        if bad:
            errors = [t.error for t in journal.records() if t.error]
            raise ArgumentError(f"tune.search: {len(bad)} worker process(es) failed "
                                f"(exit codes {bad}); trial errors: {errors}")
    trials = journal.records()
    if method == "coarse_to_fine":
        proposer.region(len(trials) // proposer.per_round, trials)
    return SearchResult(trials, direction, method, study, proposer.regions
                        if method == "coarse_to_fine" else None)


def _worker_process(*args):
    try:
        _worker(*args)
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)  # leave without running the parent's atexit handlers


def _claim(journal, proposer, budget):
    """Trial number and params of the next trial, None when done; waits when
    coarse_to_fine's next round needs running trials to finish."""
    while True:
        with journal.lock():
            trials = journal.records()
            busy = trials.count("COMPLETE", "PRUNED", "RUNNING")
            if busy >= budget:
                return None
            number = len(trials)
            params = proposer(number, trials)
            if params is None:
                return None
            if params is not _WAIT:
                journal.append({"op": "start", "number": number, "params": params,
                                "time": now()})
                return number, params
        time.sleep(0.05)


def _worker(objective, journal, proposer, budget, direction, pruner, catch, verbose):
    while True:
        claim = _claim(journal, proposer, budget)
        if claim is None:
            return
        number, params = claim
        trial = Trial(number, params, journal, pruner, direction)
        state, value, error = "COMPLETE", None, None
        try:
            value = _check_value(objective(params, trial), "tune.search")
        except TrialPruned:
            state = "PRUNED"
            value = trial.curve[max(trial.curve)] if trial.curve else None
        except catch as e:
            state, error = "FAIL", repr(e)
        except BaseException as e:
            with journal.lock():
                journal.append({"op": "finish", "number": number, "state": "FAIL",
                                "value": None, "error": repr(e), "time": now()})
            raise
        with journal.lock():
            journal.append({"op": "finish", "number": number, "state": state,
                            "value": value, "error": error, "time": now()})
        if verbose:
            print(f"trial {number} {state} value {value} params {params}", flush=True)
