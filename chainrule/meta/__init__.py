"""Meta-learning: MAML (second- and first-order) and learning a learning rate
by differentiating through unrolled SGD steps.  See ``docs/transfer.md``."""
from .maml import MAML
from .unroll import HypergradientLR, unroll

__all__ = ["HypergradientLR", "MAML", "unroll"]
