"""``chainrule.nn.utils``: gradient clipping, flat parameter vectors, pruning."""
from . import prune, rnn  # noqa: F401
from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_  # noqa: F401
from .convert_parameters import (  # noqa: F401
    parameters_to_vector, vector_to_parameters,
)
