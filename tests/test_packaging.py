"""What the Makefile and pyproject.toml promise: `make demo` installs no
PyTorch (the test oracle belongs to `make test`), and the package metadata
uses the SPDX license string that setuptools accepts without warnings."""
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements(extras):
    """Every requirement that installing chainrule[extras] pulls in directly."""
    optional = PYPROJECT["project"]["optional-dependencies"]
    reqs, todo, seen = list(PYPROJECT["project"]["dependencies"]), list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for req in optional[extra]:
            m = re.fullmatch(r"chainrule\[([\w,]+)\]", req)
            if m:
                todo.extend(m.group(1).split(","))
            else:
                reqs.append(req)
    return {re.split(r"[<>=!~\[; ]", r)[0].lower() for r in reqs}


def _make_dry_run(target, tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path)
    out = subprocess.run(["make", "-n", target], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout
    return [set(m.group(1).split(",")) for m in re.finditer(
        r'pip install .*-e "\.\[([\w,]+)\]"', out)]


def test_make_demo_installs_no_pytorch(tmp_path):
    installs = _make_dry_run("demo", tmp_path)
    assert installs, "make demo installs nothing?"
    for extras in installs:
        reqs = _requirements(extras)
        assert "torch" not in reqs, extras
        # what the demo imports: the digits (scikit-learn), the plot, the checkpoint
        assert {"numpy", "scikit-learn", "matplotlib", "safetensors"} <= reqs


def test_make_test_installs_the_oracle(tmp_path):
    reqs = set().union(*map(_requirements, _make_dry_run("test", tmp_path)))
    assert {"torch", "pytest", "threadpoolctl"} <= reqs


def test_license_is_an_spdx_string_setuptools_accepts():
    assert PYPROJECT["project"]["license"] == "MIT"
    setuptools_req = [r for r in PYPROJECT["build-system"]["requires"]
                      if r.startswith("setuptools")]
    # PEP 639 license expressions need setuptools 77 or later.
    assert setuptools_req and int(re.search(r">=(\d+)", setuptools_req[0])[1]) >= 77
    from setuptools.config.pyprojecttoml import read_configuration

    # (warnings are errors in this suite: a deprecation notice fails here)
    assert read_configuration(ROOT / "pyproject.toml")["project"]["license"] == "MIT"


def test_threads_extra_is_part_of_all():
    assert "threadpoolctl" in _requirements(["all"])
