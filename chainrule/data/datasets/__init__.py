"""Data sets: scikit-learn's bundled ones, MNIST-1D, synthetic ones, text, and
images.

Everything returns chainrule tensors: the loaders ``(X, y)`` pairs, the
classes map-style :class:`~chainrule.data.Dataset` s.
"""
from ._download import DownloadError, cache_dir
from .mnist1d import load_mnist1d
from .sklearn import (
    load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine,
)
from .synthetic import make_moons, make_regression_curve, make_spirals, make_xor
from .text import CharCorpus, CharTokenizer
from .vision import CIFAR10, MNIST, DatasetFormatError, FashionMNIST, read_idx

__all__ = [
    "CIFAR10", "CharCorpus", "CharTokenizer", "DatasetFormatError", "DownloadError",
    "FashionMNIST", "MNIST", "cache_dir", "load_breast_cancer", "load_diabetes",
    "load_digits", "load_iris", "load_mnist1d", "load_wine", "make_moons",
    "make_regression_curve", "make_spirals", "make_xor", "read_idx",
]
