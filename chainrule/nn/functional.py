"""``chainrule.nn.functional``: stateless layer functions (PyTorch's ``F``).

The functions live next to their Module classes (``activation.py``,
``loss.py``...); this module gathers them under PyTorch's names.
"""
from ..ops import sigmoid, tanh  # noqa: F401
from ..ops.index import one_hot  # noqa: F401
from ..ops.shape import pad  # noqa: F401
from .activation import (  # noqa: F401
    arctan, arsinh, celu, elu, elu_, gelu, glu, hardshrink, hardsigmoid, hardswish,
    hardtanh, hardtanh_, heaviside_step, isru, leaky_relu, leaky_relu_, log_softmax,
    logsigmoid, mish, prelu, relu, relu6, relu_, selu, silu, softmax, softmin,
    softplus, softshrink, softsign, tanhshrink, threshold, threshold_,
)
from .conv import (  # noqa: F401
    conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold,
)
from .dropout import dropout, dropout1d, dropout2d, dropout3d  # noqa: F401
from .embedding import embedding  # noqa: F401
from .linear import bilinear, linear  # noqa: F401
from .loss import (  # noqa: F401
    binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss,
    cosine_similarity, cross_entropy, epsilon_insensitive_loss, gaussian_nll_loss,
    hinge_embedding_loss, huber_loss, kl_div, l1_loss, margin_ranking_loss,
    mse_loss, multi_margin_loss, multilabel_soft_margin_loss, nll_loss, normalize,
    pairwise_distance, perceptron_loss, poisson_nll_loss, smooth_l1_loss,
    soft_margin_loss, triplet_margin_loss, triplet_margin_with_distance_loss,
)
from .normalization import (  # noqa: F401
    batch_norm, group_norm, instance_norm, layer_norm, rms_norm,
)
from .pooling import (  # noqa: F401
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
    avg_pool1d, avg_pool2d, max_pool1d, max_pool1d_with_indices, max_pool2d,
    max_pool2d_with_indices,
)
from .upsampling import (  # noqa: F401
    interpolate, upsample, upsample_bilinear, upsample_nearest,
)
from .attention import (  # noqa: F401
    multi_head_attention_forward, scaled_dot_product_attention,
)
