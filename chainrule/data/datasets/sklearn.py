"""The real data sets that scikit-learn ships on disk (no download).

scikit-learn is an optional extra (``pip install 'chainrule[datasets]'``)
imported only when a loader is called.  Each loader returns ``(X, y)``:
X float32 of shape (N, F), y int64 class labels (classification) or float32
targets (regression).
"""
from ...errors import ArgumentError
from ...ops import from_numpy


def _sklearn(who):
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError(
            f"chainrule.data.datasets.{who} needs scikit-learn, which is not "
            "installed; install it with: pip install 'chainrule[datasets]'") from None
    return datasets


def _load(who, classification):
    bunch = getattr(_sklearn(who), who)()
    X = from_numpy(bunch.data.astype("float32"))
    y = bunch.target.astype("int64" if classification else "float32")
    return X, from_numpy(y)


def load_digits(*, images=False):
    """8x8 handwritten digits: X (1797, 64) float32 in [0, 16], y (1797,) int64.

    With ``images=True`` X has shape (1797, 1, 8, 8) (N, C, H, W), ready for
    ``Conv2d``.
    """
    if not isinstance(images, bool):
        raise ArgumentError(f"load_digits: images must be a bool, got {images!r}")
    X, y = _load("load_digits", True)
    return (X.reshape(-1, 1, 8, 8), y) if images else (X, y)


def load_iris():
    """Iris flowers: X (150, 4) float32 measurements in cm, y (150,) int64 in 0..2."""
    return _load("load_iris", True)


def load_wine():
    """Wine cultivars: X (178, 13) float32 chemical features, y (178,) int64 in 0..2."""
    return _load("load_wine", True)


def load_breast_cancer():
    """Breast tumours: X (569, 30) float32 features, y (569,) int64 (1 = benign)."""
    return _load("load_breast_cancer", True)


def load_diabetes():
    """Diabetes progression: X (442, 10) float32 (already scaled), y (442,) float32."""
    return _load("load_diabetes", False)
