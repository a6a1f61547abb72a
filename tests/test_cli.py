"""The ``chainrule`` command: ``chainrule demo`` in its short mode."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule as cr
from chainrule import cli

ROOT = Path(__file__).resolve().parents[1]


def test_demo_quick_trains_reports_and_writes_outputs(tmp_path):
    out_dir = tmp_path / "demo"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "demo", "--quick", "--out",
         str(out_dir)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    acc = float(re.search(r"test accuracy: (\S+)%", out).group(1))
    assert acc >= 90
    assert "target 90% reached" in out
    assert len(re.findall(r"^Epoch \d/3 - ", out, re.M)) == 3 and "\r" not in out
    # The checkpoint restores a model that scores the same on the test split.
    ckpt = cr.load(out_dir / "digits_cnn.safetensors")
    model = cli.build_cnn()
    model.load_state_dict(ckpt["model"])
    _, _, x_test, y_test, scaler = cli.load_split(0)
    assert ckpt["standardize"]["mean"].tolist() == scaler.state_dict()["mean"].tolist()
    model.eval()
    with cr.no_grad():
        correct = (model(x_test).argmax(1) == y_test).sum().item()
    assert f"({correct}/{len(y_test)})" in out
    png = (out_dir / "learning_curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    rows = (out_dir / "history.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) == 4


def test_demo_exits_nonzero_when_target_missed(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "QUICK_TARGET", 1.01)
    code = cli.main(["demo", "--quick", "--epochs", "1", "--silent", "--out",
                     str(tmp_path)])
    assert code == 1
    assert "is below the target 101%" in capsys.readouterr().err


def test_cli_usage(capsys):
    assert cli.main([]) == 0
    assert "demo" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        cli.main(["demo", "--epochs", "0"])
    assert e.value.code == 2
    assert "--epochs must be at least 1" in capsys.readouterr().err


def _subcommand_paths(parser, prefix=()):
    """Every command path of ``parser``: (), ("demo",), and nested ones."""
    import argparse

    yield prefix
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subcommand_paths(sub, prefix + (name,))


def test_help_of_every_command_and_subcommand(capsys):
    paths = list(_subcommand_paths(cli.build_parser()))
    assert ("demo",) in paths
    for path in paths:
        with pytest.raises(SystemExit) as exit_info:
            cli.main([*path, "--help"])
        assert exit_info.value.code == 0, path
        out = capsys.readouterr().out
        assert out.startswith("usage: chainrule"), (path, out)
    # The formatted percentage of --quick made argparse fail before.
    with pytest.raises(SystemExit):
        cli.main(["demo", "--help"])
    assert "target 90%)" in capsys.readouterr().out
