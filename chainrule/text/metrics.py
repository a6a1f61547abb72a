"""Text metrics: perplexity (also as a Trainer metric), exact match, and BLEU
and chrF computed by ``sacrebleu`` (the ``text`` extra)."""
import math

from ..autograd import no_grad
from ..errors import ArgumentError, ShapeError, fmt_shape
from ..train.metrics import Metric


def _nll_sum(outputs, targets, ignore_index, class_dim, who):
    """(summed negative log-likelihood, number of counted targets)."""
    from ..nn.functional import cross_entropy
    from ..ops import movedim

    if class_dim not in (1, -1):
        raise ArgumentError(f"{who}: class_dim must be 1 (N, C, ...) or -1 (..., C), "
                            f"got {class_dim}")
    if class_dim == -1 and outputs.ndim > 2:
        outputs = movedim(outputs, -1, 1)
    kept = tuple(outputs.shape[:1]) + tuple(outputs.shape[2:])
    if outputs.ndim != targets.ndim + 1 or kept != tuple(targets.shape):
        raise ShapeError(f"{who}: outputs {fmt_shape(outputs.shape)} need targets of "
                         f"shape (N, ...) without the class dim, got "
                         f"{fmt_shape(targets.shape)}")
    with no_grad():
        total = cross_entropy(outputs.detach(), targets, ignore_index=ignore_index,
                              reduction="sum").item()
        count = int((targets != ignore_index).sum().item())
    return total, count


def perplexity(outputs, targets, ignore_index=-100, class_dim=1):
    """``exp`` of the mean cross-entropy of ``targets`` under the logits
    ``outputs`` (``(N, C, ...)``, or ``(..., C)`` with ``class_dim=-1``),
    skipping targets equal to ``ignore_index``."""
    total, count = _nll_sum(outputs, targets, ignore_index, class_dim, "perplexity")
    return math.exp(total / count) if count else float("nan")


class Perplexity(Metric):
    """Perplexity over an epoch: ``exp(sum of NLL / number of tokens)`` over
    all batches (not a mean of per-batch perplexities).  Lower is better."""

    name = "perplexity"
    mode = "min"

    def __init__(self, ignore_index=-100, class_dim=1):
        self.ignore_index, self.class_dim = ignore_index, class_dim
        super().__init__()

    def reset(self):
        self.total, self.count = 0.0, 0

    def update(self, outputs, targets):
        t, c = _nll_sum(outputs, targets, self.ignore_index, self.class_dim, self.name)
        self.total += t
        self.count += c

    def compute(self):
        return math.exp(self.total / self.count) if self.count else float("nan")


def exact_match(hypotheses, references):
    """Fraction of hypotheses equal to their reference (strings or lists)."""
    hyps, refs = list(hypotheses), list(references)
    if len(hyps) != len(refs) or not hyps:
        raise ArgumentError(f"exact_match: need as many hypotheses as references "
                            f"(at least one), got {len(hyps)} and {len(refs)}")
    return sum(h == r for h, r in zip(hyps, refs)) / len(hyps)


def _sacrebleu(who):
    try:
        import sacrebleu
    except ImportError:
        raise ImportError(f"{who} needs sacrebleu: pip install 'chainrule[text]' "
                          "(or pip install sacrebleu)") from None
    return sacrebleu


def _refs(hypotheses, references, who):
    """sacrebleu's layout: one list per reference *set*, each as long as hyps."""
    hyps = list(hypotheses)
    refs = list(references)
    if len(refs) != len(hyps):
        raise ArgumentError(f"{who}: got {len(hyps)} hypotheses but {len(refs)} "
                            "references (give one str, or a list of str, per "
                            "hypothesis)")
    multi = [[r] if isinstance(r, str) else list(r) for r in refs]
    n = max(len(r) for r in multi)
    # Hypotheses with fewer references leave None, which sacrebleu skips.
    return hyps, [[r[k] if k < len(r) else None for r in multi] for k in range(n)]


def bleu(hypotheses, references, **kwargs):
    """Corpus BLEU (0-100) of detokenized strings, by ``sacrebleu.corpus_bleu``;
    ``references[i]`` is a str or a list of str for hypothesis ``i``;
    ``kwargs`` go to sacrebleu (``tokenize``, ``smooth_method``...)."""
    sb = _sacrebleu("bleu")
    hyps, refs = _refs(hypotheses, references, "bleu")
    return sb.corpus_bleu(hyps, refs, **kwargs).score


def chrf(hypotheses, references, **kwargs):
    """Corpus chrF (0-100; chrF++ with ``word_order=2``) by ``sacrebleu``."""
    sb = _sacrebleu("chrf")
    hyps, refs = _refs(hypotheses, references, "chrf")
    return sb.corpus_chrf(hyps, refs, **kwargs).score
