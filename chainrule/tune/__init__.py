"""Hyper-parameter search and the learning-rate finder.

::

    from chainrule import tune

    space = {"lr": tune.Float(1e-4, 1e-1, log=True), "width": tune.Int(8, 64)}
    result = tune.search(objective, space, method="bayes", budget=30)
    result.best_params, result.best_value, print(result.trials)

See ``docs/tuning.md``.
"""
from .callback import TuneCallback
from .curve import CurvePruner, fit_power_law
from .lr_find import LRFinderResult, lr_find
from .search import SearchResult, search
from .space import Choice, Float, Int
from .study import Trial, TrialPruned, TrialRecord, Trials

__all__ = [
    "Choice", "CurvePruner", "Float", "Int", "LRFinderResult", "SearchResult",
    "Trial", "TrialPruned", "TrialRecord", "Trials", "TuneCallback", "fit_power_law",
    "lr_find", "search",
]
