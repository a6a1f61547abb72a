"""The Optuna-backed methods: ``bayes`` (TPE or GP sampler), ``hyperband`` and
``asha`` (Optuna's Hyperband and successive-halving pruners), and Optuna's
median pruner.  The study file is Optuna's journal file, which worker
processes share through its file lock."""
import multiprocessing
import os
import traceback
import warnings

from ..errors import ArgumentError
from .curve import CurvePruner
from .search import SearchResult, make_curve_pruner
from .study import TrialPruned, TrialRecord, Trials, _check_value


def _import_optuna(method):
    try:
        import optuna
    except ImportError:
        raise ArgumentError(f"tune.search: method={method!r} needs Optuna; install "
                            f"it (pip install optuna, or chainrule[tune]) or use "
                            f"'grid', 'random' or 'coarse_to_fine'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class _OptunaTrial:
    """The Trial interface over an ``optuna.Trial``."""

    def __init__(self, otrial, params):
        self._t, self.params, self.number = otrial, params, otrial.number
        self.curve = {}

    def report(self, value, step):
        value = _check_value(value, "Trial.report")
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ArgumentError(f"Trial.report: step must be an int >= 0, got {step!r}")
        self.curve[step] = value
        self._t.report(value, step)

    def should_prune(self):
        return self._t.should_prune()


def _curve_pruner_for_optuna(optuna, curve):
    class _Curve(optuna.pruners.BasePruner):
        def prune(self, study, trial):
            complete = (optuna.trial.TrialState.COMPLETE,)
            done = [TrialRecord(t.number, "COMPLETE", t.params, t.value,
                                dict(t.intermediate_values))
                    for t in study.get_trials(deepcopy=False, states=complete)]
            direction = study.direction.name.lower()
            return curve.prune_curve(dict(trial.intermediate_values), done, direction)

    return _Curve()


def _sampler(optuna, method, sampler, seed):
    name = sampler or ("tpe" if method == "bayes" else "random")
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ArgumentError(f"tune.search: sampler must be 'tpe', 'gp' or 'random', got "
                        f"{sampler!r}")


def _pruner(optuna, method, pruner):
    name = pruner or {"hyperband": "hyperband", "asha": "asha"}.get(method)
    if name is None:
        return optuna.pruners.NopPruner()
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, reduction_factor=3)
    if name == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1,
                                                      reduction_factor=3)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)
    return _curve_pruner_for_optuna(optuna, make_curve_pruner(pruner, "tune.search"))


def _suggest(otrial, name, dim):
    from .space import Choice, Int

    if isinstance(dim, Choice):
        return otrial.suggest_categorical(name, dim.options)
    if isinstance(dim, Int):
        return otrial.suggest_int(name, dim.lo, dim.hi, log=dim.log)
    return otrial.suggest_float(name, dim.lo, dim.hi, log=dim.log)


def _open(optuna, study, direction, sampler, pruner):
    if study is None:
        storage = optuna.storages.InMemoryStorage()
    else:
        from optuna.storages.journal import JournalFileBackend

        storage = optuna.storages.JournalStorage(JournalFileBackend(os.fspath(study)))
    s = optuna.create_study(study_name="chainrule", storage=storage, sampler=sampler,
                            pruner=pruner, direction=direction, load_if_exists=True)
    if s.direction.name.lower() != direction:
        raise ArgumentError(f"tune.search: the study file {study} was made with "
                            f"direction={s.direction.name.lower()!r}")
    return s


def run_optuna(objective, space, method, budget, direction, seed, n_jobs, study,
               pruner, sampler, catch, verbose):
    optuna = _import_optuna(method)
    if not (isinstance(pruner, CurvePruner) or pruner in (None, "curve", "median",
                                                          "hyperband", "asha")):
        raise ArgumentError(f"tune.search: unknown pruner {pruner!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        s = _open(optuna, study, direction, _sampler(optuna, method, sampler, seed),
                  _pruner(optuna, method, pruner))
        TS = optuna.trial.TrialState
        for t in s.get_trials(deepcopy=False, states=(TS.RUNNING, TS.WAITING)):
            s._storage.set_trial_state_values(t._trial_id, TS.FAIL)  # interrupted
        finished = len(s.get_trials(deepcopy=False, states=(TS.COMPLETE, TS.PRUNED)))
        left = budget - finished

        def wrapped(otrial):
            params = {}
            for name, dim in space.items():
                if dim.active(params):
                    params[name] = _suggest(otrial, name, dim)
            trial = _OptunaTrial(otrial, params)
            try:
                value = _check_value(objective(params, trial), "tune.search")
            except TrialPruned:
                raise optuna.TrialPruned() from None
            if verbose:
                print(f"trial {otrial.number} value {value} params {params}",
                      flush=True)
            return value

        def run(worker_seed, n_trials):
            if worker_seed is not None:  # each worker its own sampler stream
                me = _open(optuna, study, direction,
                           _sampler(optuna, method, sampler, worker_seed),
                           _pruner(optuna, method, pruner))
            else:
                me = s
            # Fixed shares: Optuna's trial-count callback can overshoot in parallel.
            me.optimize(wrapped, n_trials=n_trials, catch=catch)

        if left > 0 and n_jobs == 1:
            run(None, left)
        elif left > 0:
            ctx = multiprocessing.get_context("fork")
            shares = [left // n_jobs + (i < left % n_jobs) for i in range(n_jobs)]
            procs = [ctx.Process(target=_process, args=(run, seed + 1000 * (i + 1), k))
                     for i, k in enumerate(shares) if k]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            bad = [p.exitcode for p in procs if p.exitcode != 0]
            if bad:
                raise ArgumentError(f"tune.search: {len(bad)} worker process(es) "
                                    f"failed (exit codes {bad})")
        trials = Trials(_record(t) for t in s.get_trials(deepcopy=False))
    return SearchResult(trials, direction, method, study)


def _process(run, seed, n_trials):
    try:
        run(seed, n_trials)
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)


def _record(t):
    dur = t.duration.total_seconds() if t.duration is not None else None
    curve = {int(k): float(v) for k, v in t.intermediate_values.items()}
    value = t.value
    if t.state.name == "PRUNED" and value is None and curve:
        value = curve[max(curve)]
    return TrialRecord(t.number, t.state.name, dict(t.params), value, curve, dur)
