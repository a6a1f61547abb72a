"""Trials, their records and the study file of the searches that run without
Optuna (``grid``, ``random``, ``coarse_to_fine``).

The study file is a journal: one JSON object per line, appended under an
exclusive file lock, so that worker processes can share it and an
interrupted search can be read back and continued.  Events: ``start``
(number, params), ``report`` (number, step, value) and ``finish`` (number,
state, value, error).
"""
import fcntl
import json
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import ArgumentError

STATES = ("RUNNING", "COMPLETE", "PRUNED", "FAIL")


class TrialPruned(Exception):
    """Raised (by the objective or :class:`~chainrule.tune.TuneCallback`) to end
    a trial early; the search records it as ``PRUNED``."""


@dataclass
class TrialRecord:
    """One trial: its number, state, final value, params, reported curve."""

    number: int
    state: str
    params: dict
    value: float = None
    curve: dict = field(default_factory=dict)  # step -> reported value
    duration: float = None
    error: str = None


class Trials(list):
    """The trials of a search, in order; ``str()`` gives a table."""

    def table(self):
        names = []
        for t in self:
            names += [k for k in t.params if k not in names]
        head = ["#", "state", "value", "steps"] + names
        rows = [[str(t.number), t.state, "" if t.value is None else f"{t.value:.6g}",
                 str(len(t.curve))] + [_fmt(t.params.get(k, "")) for k in names]
                for t in self]
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
        lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
        return "\n".join(lines)

    def __str__(self):
        return self.table()

    def count(self, *states):
        return sum(t.state in states for t in self)


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


class Journal:
    """An append-only event log, in a file (shared, locked) or in memory."""

    def __init__(self, path=None):
        self.path = None if path is None else os.fspath(path)
        self._events = []
        if self.path is not None:
            open(self.path, "a").close()

    @contextmanager
    def lock(self):
        if self.path is None:
            yield
            return
        with open(self.path + ".lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def append(self, event):
        if self.path is None:
            self._events.append(event)
            return
        with open(self.path, "a") as f:
            f.write(json.dumps(event) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def events(self):
        if self.path is None:
            return list(self._events)
        out = []
        with open(self.path) as f:
            for i, line in enumerate(f):
                if not line.endswith("\n"):
                    break  # a line cut short by a kill: the event never happened
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    raise ArgumentError(f"tune.search: the study file {self.path} is "
                                        f"corrupt at line {i + 1}") from None
        return out

    def records(self):
        """The trials as :class:`Trials`, rebuilt from the events."""
        trials = {}
        for e in self.events():
            op = e.get("op")
            if op == "meta":
                continue
            n = e["number"]
            if op == "start":
                trials[n] = TrialRecord(n, "RUNNING", e["params"])
                trials[n]._t0 = e["time"]
            elif op == "report":
                trials[n].curve[int(e["step"])] = e["value"]
            elif op == "finish":
                t = trials[n]
                t.state, t.value, t.error = e["state"], e["value"], e.get("error")
                t.duration = e["time"] - t._t0
        return Trials(trials[n] for n in sorted(trials))

    def meta(self):
        for e in self.events():
            if e.get("op") == "meta":
                return e
        return None


class Trial:
    """What the objective receives: ``report(value, step)``, ``should_prune()``.

    ``number`` counts trials from 0; ``params`` is the dict of values.
    """

    def __init__(self, number, params, journal=None, pruner=None, direction="minimize"):
        self.number, self.params = number, params
        self.curve = {}
        self._journal, self._pruner, self._direction = journal, pruner, direction

    def report(self, value, step):
        """Record the intermediate objective ``value`` at ``step`` (an int)."""
        value = _check_value(value, "Trial.report")
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ArgumentError(f"Trial.report: step must be an int >= 0, got {step!r}")
        self.curve[step] = value
        if self._journal is not None:
            with self._journal.lock():
                self._journal.append({"op": "report", "number": self.number,
                                      "step": step, "value": value})

    def should_prune(self):
        """Whether the pruner judges that this trial cannot win: stop it then
        (return or raise :class:`TrialPruned`)."""
        if self._pruner is None or not self.curve:
            return False
        with self._journal.lock():
            done = [t for t in self._journal.records() if t.state == "COMPLETE"]
        return self._pruner.prune_curve(self.curve, done, self._direction)


def _check_value(value, who):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"{who}: the objective value must be a number, got "
                            f"{type(value).__name__}") from None
    if math.isnan(v):
        raise ArgumentError(f"{who}: the objective value is NaN")
    return v


def now():
    return time.time()
