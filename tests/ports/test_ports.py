"""Ported programs: PyTorch scripts run with torch and with chainrule as torch.

Every ``tests/ports/<name>.py`` whose name does not start with ``test_`` or
``_`` is a port: a plain PyTorch script that accepts ``--seed N`` and
``--short`` and prints ``RESULT <json dict>`` as its last stdout line.  At
module level it defines ``TOLERANCE = {"key": rtol, ...}`` and optionally
``SEEDS = [...]`` (default ``[0]``), read here with ``ast`` without
importing the script.

For each seed the script runs twice in subprocesses, once with the real
torch and once through ``_torch_shim.py`` (chainrule answering every
``import torch...``), in short mode.  Over the seeds the mean of each key
with a tolerance must agree within that relative tolerance; keys without a
tolerance must be equal.  See ``docs/ports.md``.
"""
import ast
import concurrent.futures
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SHIM = HERE / "_torch_shim.py"
TIMEOUT = 600


def discover():
    return sorted(p for p in HERE.glob("*.py")
                  if not p.name.startswith(("test_", "_")))


def read_literals(path):
    """``TOLERANCE`` and ``SEEDS`` of a port, without importing it."""
    found = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], "id", None)
            if name in ("TOLERANCE", "SEEDS"):
                found[name] = ast.literal_eval(node.value)
    if not isinstance(found.get("TOLERANCE"), dict):
        raise ValueError(f"{path.name}: needs a literal TOLERANCE = {{key: rtol}}")
    seeds = found.get("SEEDS", [0])
    if not seeds or not all(isinstance(s, int) for s in seeds):
        raise ValueError(f"{path.name}: SEEDS must be a non-empty list of ints")
    return found["TOLERANCE"], seeds


def _env():
    env = dict(os.environ)
    # One thread each: the runs are compared, not timed, and the machine is shared.
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(
                   [str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p]))
    return env


def run(script, seed, with_chainrule):
    """The RESULT dict of one run (``with_chainrule`` runs it through the shim)."""
    cmd = [sys.executable] + ([str(SHIM)] if with_chainrule else [])
    cmd += [str(script), "--seed", str(seed), "--short"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,
                          env=_env(), cwd=str(ROOT))
    side = "chainrule" if with_chainrule else "torch"
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines or not lines[-1].startswith("RESULT "):
        raise AssertionError(
            f"{script.name} --seed {seed} with {side} failed (exit "
            f"{proc.returncode}); last output:\n{proc.stdout[-1500:]}\n"
            f"{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def compare(name, tolerance, torch_runs, cr_runs):
    """Failure messages for the means over seeds of every RESULT key."""
    keys = set(torch_runs[0])
    problems = []
    for runs, side in ((torch_runs, "torch"), (cr_runs, "chainrule")):
        for r in runs:
            if set(r) != keys:
                problems.append(f"{side} RESULT keys {sorted(r)} != {sorted(keys)}")
    for key in sorted(set(tolerance) - keys):
        problems.append(f"TOLERANCE names {key!r}, which RESULT does not have")
    if problems:
        return problems
    for key in sorted(keys):
        want = [r[key] for r in torch_runs]
        got = [r[key] for r in cr_runs]
        if key not in tolerance:
            if want != got:
                problems.append(f"{key}: chainrule {got} != torch {want}")
            continue
        mw, mg = sum(want) / len(want), sum(got) / len(got)
        if not abs(mg - mw) <= tolerance[key] * abs(mw):
            problems.append(
                f"{key}: chainrule mean {mg:.6g} vs torch mean {mw:.6g} (relative "
                f"difference {abs(mg - mw) / abs(mw):.3g} > rtol {tolerance[key]}); "
                f"per seed chainrule {got}, torch {want}")
    return problems


PORTS = discover()


def test_ports_exist():
    assert len(PORTS) >= 3, [p.name for p in PORTS]


@pytest.mark.parametrize("script", PORTS, ids=[p.stem for p in PORTS])
def test_port_matches_torch(script):
    tolerance, seeds = read_literals(script)
    jobs = [(s, c) for s in seeds for c in (False, True)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda job: run(script, *job), jobs))
    torch_runs = [r for (_, c), r in zip(jobs, results) if not c]
    cr_runs = [r for (_, c), r in zip(jobs, results) if c]
    problems = compare(script.name, tolerance, torch_runs, cr_runs)
    assert not problems, f"{script.name}:\n" + "\n".join(problems)


def test_shim_is_not_installed_here():
    """The tests themselves import the real torch; the shim acts only when run."""
    import torch

    assert torch.__name__ == "torch" and hasattr(torch, "cuda")
    assert not any(type(f).__name__ == "TorchFinder" for f in sys.meta_path)


def test_shim_maps_modules_and_names_missing_ones(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(
        "import torch, torch.nn.functional as F, torch.utils.data as D\n"
        "import torch.optim.lr_scheduler as S\n"
        "print('RESULT', __import__('json').dumps([torch.__name__, F.__name__, "
        "D.__name__, S.__name__]))\n"
        "import torch.no_such_module\n")
    proc = subprocess.run([sys.executable, str(SHIM), str(script)], capture_output=True,
                          text=True, env=_env(), timeout=TIMEOUT)
    assert json.loads(proc.stdout.split("RESULT", 1)[1]) == [
        "chainrule", "chainrule.nn.functional", "chainrule.data",
        "chainrule.optim.lr_scheduler"]
    assert "No module named 'torch.no_such_module': chainrule has no " \
           "'chainrule.no_such_module'" in proc.stderr


def test_compare_reports_means_and_keys():
    tol = {"loss": 0.1}
    assert compare("x", tol, [{"loss": 1.0}, {"loss": 3.0}],
                   [{"loss": 2.1}, {"loss": 1.9}]) == []
    msg = compare("x", tol, [{"loss": 1.0}], [{"loss": 1.2}])
    assert len(msg) == 1 and "relative difference 0.2 > rtol 0.1" in msg[0]
    assert "keys" in compare("x", tol, [{"loss": 1.0}], [{"acc": 1.0}])[0]
    assert compare("x", tol, [{"loss": 1.0, "n": 3}], [{"loss": 1.0, "n": 4}]) == [
        "n: chainrule [4] != torch [3]"]
