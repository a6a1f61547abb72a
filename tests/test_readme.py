"""The README's Python code blocks run as written, and its statements that a
test can check hold."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, re.M | re.S)


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {})


def test_readme_names_exist():
    import chainrule as cr
    import chainrule.train as train

    assert callable(train.plot_history)
    assert callable(cr.set_num_threads) and callable(cr.get_num_threads)
    for doc in re.findall(r"\]\((docs/[\w.]+\.md)\)", README):
        assert (ROOT / doc).exists(), doc
