"""Kill test: SIGKILL a training run at random moments, then resume it.

``_kill_worker.py`` trains with a full ``last`` checkpoint after every
(two-step) epoch.  Each trial starts it in a subprocess and kills it --
after a random delay, or from inside a save at a chosen point -- sometimes
twice in a row; then the latest checkpoint must load, and resuming to the
end must give exactly the end state (parameters, optimizer, History,
counters) and the CSV log of a run that was never interrupted.
"""
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.tensor import Tensor
from tests import _kill_worker as worker

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"),
                                reason="needs POSIX signals")

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(worker.__file__)


def _start(directory, resume=False, **env):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT),
               **{k: str(v) for k, v in env.items()})
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(directory)] + (["resume"] if resume else []),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        cwd=directory)
    line = proc.stdout.readline()
    assert line == "ready\n", (line, proc.stderr.read())
    return proc


def _assert_same(a, b, where="state"):
    """Exact equality of nested end states: same keys, types, dtypes and bits."""
    if isinstance(a, Tensor):
        assert isinstance(b, Tensor) and a.dtype == b.dtype, where
        assert np.array_equal(a.numpy(), b.numpy()), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), (where, list(a), list(b))
        for k in a:
            _assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert type(a) is type(b) and a == b, (where, a, b)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run: its end state, CSV log and duration (seconds)."""
    d = tmp_path_factory.mktemp("uninterrupted")
    proc = _start(d)
    t0 = time.monotonic()
    out, err = proc.communicate(timeout=300)
    duration = time.monotonic() - t0
    assert proc.returncode == 0 and out == "done\n", err
    return cr.load(d / "final.safetensors"), (d / "log.csv").read_bytes(), duration


def _temps(directory):
    return sorted(p.name for p in (Path(directory) / "ckpt").glob(".*.tmp"))


def _check_latest_loads(directory):
    """The latest checkpoint (if any) loads and is a whole epoch's state."""
    last = worker.last_path(directory)
    if not last.exists():
        return 0
    state = cr.load(last)
    assert 1 <= state["epoch"] <= worker.EPOCHS
    assert len(state["history"]["epoch"]) == state["epoch"]
    return state["epoch"]


def _finish_and_compare(directory, reference):
    """Resume in this process to the end; compare with the uninterrupted run."""
    trainer = worker.run(directory, resume=True)
    end, log, _ = reference
    _assert_same(cr.load(_save_end(trainer, directory)), end)
    assert (Path(directory) / "log.csv").read_bytes() == log
    # The resumed run's saves removed what the killed saves left behind.
    assert _temps(directory) == []


def _save_end(trainer, directory):
    # Saved and loaded like the reference, so both sides have the same types.
    path = Path(directory) / "resumed-end.safetensors"
    cr.save(worker.end_state(trainer), path)
    return path


def test_killed_at_random_moments_resumes_exactly(reference, tmp_path):
    rng = random.Random(20240607)
    duration = reference[2]
    killed, mid_save, epochs_seen = 0, 0, []
    for trial in range(10):
        d = tmp_path / f"trial{trial}"
        d.mkdir()
        # Every third trial is killed twice: once fresh, once while resuming.
        for resume in ([False, True] if trial % 3 == 2 else [False]):
            proc = _start(d, resume=resume, KILL_WORKER_SLOW_SAVE=0.003)
            time.sleep(rng.uniform(0.0, duration))
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=300)  # reaps it: its pid is free
            if proc.returncode == -signal.SIGKILL:
                killed += 1
                mid_save += bool(_temps(d))
            else:
                assert proc.returncode == 0, err
            epochs_seen.append(_check_latest_loads(d))
        _finish_and_compare(d, reference)
    # Kills that all came after the end would test nothing.
    assert killed >= 1 and min(epochs_seen) < worker.EPOCHS, (killed, epochs_seen)
    print(f"{killed} kills, {mid_save} inside a save; checkpoints at epochs "
          f"{epochs_seen}")


@pytest.mark.parametrize("die_at", [1, 12, worker.EPOCHS])
def test_killed_inside_a_save_resumes_exactly(reference, tmp_path, die_at):
    """The worker SIGKILLs itself while saving epoch ``die_at``'s checkpoint,
    the new file complete but not yet renamed over the old one: the old
    checkpoint must still load, and resuming from it must end exactly."""
    proc = _start(tmp_path, KILL_WORKER_DIE_AT=die_at)
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    assert len(_temps(tmp_path)) == 1  # the orphaned temporary file
    # die_at == 1: the first save died, there is nothing to resume from.
    assert _check_latest_loads(tmp_path) == die_at - 1
    _finish_and_compare(tmp_path, reference)


def test_a_save_removes_only_the_leftovers_of_dead_writers(tmp_path):
    """Temporary files of killed saves go at the next save in the directory;
    those of live processes, other hosts or other programs stay."""
    from chainrule.io import checkpoint

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = checkpoint._WRITER
    names = {
        "dead": f".last.safetensors.{host}-{dead.pid}-0123456789ab.tmp",
        "dead, other target": f".best.v2.safetensors.{host}-{dead.pid}-aa.tmp",
        "alive": f".last.safetensors.{host}-{os.getppid()}-0123456789ab.tmp",
        "other host": f".last.safetensors.00000000-{dead.pid}-0123456789ab.tmp",
        "not ours": ".notes.tmp",
    }
    if host == "00000000":  # (a host whose tag collides with the fake one)
        pytest.skip("host tag collision")
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial")
    cr.save({"x": 1}, tmp_path / "last.safetensors")
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"last.safetensors", names["alive"], names["other host"],
                    names["not ours"]}
