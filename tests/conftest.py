import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same random state."""
    cr.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def hide_package(monkeypatch):
    """``hide_package("sklearn")``: importing it (or its submodules) raises
    ImportError for the rest of the test, as if it were not installed."""
    import builtins

    real_import = builtins.__import__

    def hide(prefix):
        def importer(name, *args, **kwargs):
            if name.startswith(prefix):
                raise ImportError(f"no {prefix}")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", importer)

    return hide
