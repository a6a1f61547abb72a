"""``chainrule.optim``: optimizers, learning-rate schedules and regularisation.

PyTorch's API::

    opt = chainrule.optim.Adam(model.parameters(), lr=1e-3)
    sched = chainrule.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for x, y in data:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    sched.step()

Every update is written with in-place Tensor ops under ``no_grad``, so it
goes through the primitive dispatcher like any other computation.
"""
from . import lr_scheduler  # noqa: F401
from .adadelta import Adadelta  # noqa: F401
from .adagrad import Adagrad  # noqa: F401
from .adam import Adam, AdamW  # noqa: F401
from .adamax import Adamax  # noqa: F401
from .cg import CG  # noqa: F401
from .lbfgs import LBFGS  # noqa: F401
from .nadam import NAdam  # noqa: F401
from .optimizer import Optimizer, required  # noqa: F401
from .regularization import l1_penalty, param_groups_weight_decay  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .sgd import SGD  # noqa: F401

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RMSprop",
           "Adagrad", "Adadelta", "LBFGS", "CG", "lr_scheduler",
           "param_groups_weight_decay", "l1_penalty"]
