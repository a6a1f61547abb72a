"""The examples, run as a user runs them (``python examples/NAME.py``), in
their short mode; each must exit 0 (its own assertion) and print a result
that meets the target stated in its docstring."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_example(name, tmp_path, *args):
    env = dict(os.environ, CHAINRULE_QUICK="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _number(pattern, text):
    m = re.search(pattern, text)
    assert m, f"no match for {pattern!r} in:\n{text}"
    return float(m.group(1))


def test_glm(tmp_path):
    out = run_example("glm.py", tmp_path)
    for model in ("linear", "logistic", "poisson"):
        assert _number(rf"{model} regression\s+max relative coefficient difference "
                       r"(\S+)", out) < 1e-4


def test_digits_mlp(tmp_path):
    out = run_example("digits_mlp.py", tmp_path)
    assert _number(r"test accuracy (\S+)% \(target 93%\)", out) >= 93
    assert len(re.findall(r"^epoch ", out, re.M)) == 4


def test_digits_cnn(tmp_path):
    out = run_example("digits_cnn.py", tmp_path)
    assert _number(r"test accuracy (\S+)% \(target 90%\)", out) >= 90
    assert "\r" not in out and len(re.findall(r"^Epoch \d/3 - ", out, re.M)) == 3


def test_regularization(tmp_path):
    out = run_example("regularization.py", tmp_path)
    plain = _number(r"plain .* gap (\S+)", out)
    reg = _number(r"regularised .* gap (\S+)", out)
    assert reg <= 0.8 * plain
    acc_plain = _number(r"plain .* val acc (\S+)", out)
    acc_reg = _number(r"regularised .* val acc (\S+)", out)
    assert acc_reg >= acc_plain - 0.01


@pytest.mark.parametrize("name", ["glm.py", "digits_mlp.py", "digits_cnn.py",
                                  "regularization.py"])
def test_docstring_states_the_asserted_result(name):
    text = (ROOT / "examples" / name).read_text()
    assert "Asserted result:" in text.split('"""')[1]


def test_bilstm_tagger(tmp_path):
    out = run_example("bilstm_tagger.py", tmp_path)
    assert _number(r"tag accuracy (\S+)% \(target 90%\)", out) >= 90


def test_tree_lstm(tmp_path):
    out = run_example("tree_lstm.py", tmp_path)
    assert _number(r"accuracy (\S+)% \(target 40%\)", out) >= 40


def test_dp_sgd(tmp_path):
    out = run_example("dp_sgd.py", tmp_path)
    assert _number(r"test accuracy (\S+)% \(target 85%\)", out) >= 85
    assert len(re.findall(r"^epoch ", out, re.M)) == 4
