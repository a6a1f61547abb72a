"""The tuning, transfer, pruning and meta-learning examples in their short mode;
each asserts its own result, and these checks read the printed numbers."""
from pathlib import Path

import pytest

from tests.test_examples import _number, run_example

ROOT = Path(__file__).resolve().parents[1]


def test_tune_digits(tmp_path):
    pytest.importorskip("optuna")
    out = run_example("tune_digits.py", tmp_path)
    assert _number(r"test accuracy (\S+)% \(target 90%\)", out) >= 90
    assert _number(r"pruned (\d+)", out) >= 1
    assert (tmp_path / "tune_digits.png").stat().st_size > 10_000


@pytest.mark.parametrize("name", ["tune_digits.py", "transfer_mnist1d.py",
                                  "lottery_digits.py", "maml_sine.py"])
def test_docstring_states_the_asserted_result(name):
    text = (ROOT / "examples" / name).read_text()
    assert "Asserted result:" in text.split('"""')[1]


def test_transfer_mnist1d(tmp_path):
    pytest.importorskip("mnist1d")
    out = run_example("transfer_mnist1d.py", tmp_path)
    assert "body unchanged by head training: True" in out
    # 6,000 signals, 600 per class: every 5-9 signal not drawn is the test set
    assert "the 2950 signals of 5-9 not drawn" in out
    scratch = _number(r"scratch\s+accuracy (\S+) \+-", out)
    finetune = _number(r"finetune\s+accuracy (\S+) \+-", out)
    gain = _number(r"gain over scratch (\S+) \+-", out)
    assert scratch > 30  # well above chance (20%): the baseline did learn
    assert gain >= 5 and abs(finetune - scratch - gain) < 0.2  # paired = difference


def test_lottery_digits(tmp_path):
    out = run_example("lottery_digits.py", tmp_path)
    assert _number(r"\(gap (\S+) points, target <= 1.5\)", out) <= 1.5
    assert _number(r"behind the ticket by (\S+) points", out) > 0
    assert (tmp_path / "lottery_digits.png").stat().st_size > 10_000


def test_maml_sine(tmp_path):
    out = run_example("maml_sine.py", tmp_path)
    maml = _number(r"MAML \(second order\)\s+(\S+)", out)
    fomaml = _number(r"MAML \(first order\)\s+(\S+)", out)
    base = _number(r"best step \S+: (\S+)", out)
    assert maml < base and fomaml < base
    assert _number(r"learnt learning rate (\S+)", out) >= 1e-3
    assert "cannot be differentiated through" in out
