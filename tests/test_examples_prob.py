"""The probabilistic examples in their short mode: each asserts its own
result; here the printed numbers are checked against the stated targets and
the plot each writes must exist."""
from tests.test_examples import _number, run_example


def test_bayes_regression_gap(tmp_path):
    out = run_example("bayes_regression_gap.py", tmp_path)
    gap = _number(r"in the gap (\S+),", out)
    data = _number(r"on the data (\S+);", out)
    assert gap >= 1.4 * data
    assert 0.85 <= _number(r"coverage (\S+) \(target", out) <= 0.95
    assert (tmp_path / "bayes_regression_gap.png").stat().st_size > 10000


def test_gp_diabetes(tmp_path):
    out = run_example("gp_diabetes.py", tmp_path)
    assert _number(r"test R\^2 (\S+) ", out) >= 0.30
    ours = _number(r"interval coverage \S+, log marginal likelihood (\S+)", out)
    assert ours >= _number(r"scikit-learn log marginal likelihood (\S+)", out) - 1e-3
    assert (tmp_path / "gp_diabetes.png").stat().st_size > 10000


def test_digits_uncertainty(tmp_path):
    out = run_example("digits_uncertainty.py", tmp_path)
    det_nll = _number(r"deterministic\s+\S+\s+(\S+)", out)
    det_ece = _number(r"deterministic\s+\S+\s+\S+\s+(\S+)", out)
    for name in ("Bayesian CNN", "MC dropout", "ensemble of 5", "last-layer Laplace"):
        assert _number(rf"{name}\s+(\S+)", out) >= 0.90
        assert _number(rf"{name}\s+\S+\s+(\S+)", out) < det_nll  # NLL
        assert _number(rf"{name}\s+\S+\s+\S+\s+(\S+)", out) < det_ece  # ECE
    assert (tmp_path / "digits_uncertainty.png").stat().st_size > 10000


def test_nngp_wide(tmp_path):
    out = run_example("nngp_wide.py", tmp_path)
    narrow = abs(_number(r"width\s+2: excess kurtosis of f\(0.5\) (\S+),", out))
    wide = abs(_number(r"width\s+1024: excess kurtosis of f\(0.5\) (\S+),", out))
    assert wide < 0.3 < narrow
    assert _number(r"NNGP regression (\S+),", out) < 0.05
    assert (tmp_path / "nngp_wide.png").stat().st_size > 10000
