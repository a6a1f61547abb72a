import runpy
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "xor.py"


def test_xor_example_solves_xor(capsys):
    sys.argv = [str(EXAMPLE)]
    mod = runpy.run_path(str(EXAMPLE))
    losses, probs = mod["train"](log_every=0)
    assert [p > 0.5 for p in probs] == [False, True, True, False]
    assert losses[-1] < 0.01 < losses[0]
    assert mod["main"]() == 0
    assert "4/4 correct" in capsys.readouterr().out
