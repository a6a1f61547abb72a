"""Data pipelines: datasets, samplers, the DataLoader and transforms.

Mirrors ``torch.utils.data``; real and synthetic data sets live in
:mod:`chainrule.data.datasets`.
"""
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .distributed import DistributedSampler
from .dataset import (
    ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split,
)
from .sampler import (
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
    WeightedRandomSampler,
)
from .transforms import Standardize


def __getattr__(name):
    # chainrule.data.datasets on first use: it pulls in urllib, gzip and tarfile,
    # which `import chainrule` should not pay for.
    if name == "datasets":
        import importlib

        return importlib.import_module(".datasets", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
    "IterableDataset",
    "RandomSampler", "Sampler", "SequentialSampler", "Standardize", "Subset",
    "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "default_collate", "default_convert", "random_split",
]
