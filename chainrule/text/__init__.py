"""``chainrule.text``: tokenizers and vocabularies, padding and masks, text
metrics (perplexity, BLEU, chrF), offline corpora, decoding (``generate``,
beam search) and sequence-to-sequence models with attention.

Builds on ``nn`` and ``train``; nothing below imports it.
"""
from .corpus import (  # noqa: F401
    batchify, bptt_batches, load_wikitext, python_docs, read_wikitext_tokens,
)
from .masks import causal_mask, pad_ids, padding_mask, sequence_loss  # noqa: F401
from .metrics import Perplexity, bleu, chrf, exact_match, perplexity  # noqa: F401
from .tokenizers import (  # noqa: F401
    BPETokenizer, CharTokenizer, Tokenizer, WordTokenizer,
)
from .vocab import Vocab  # noqa: F401
from .generate import (  # noqa: F401
    beam_search, filter_logits, generate, greedy_search, reorder_state,
)
from .kv_cache import cached_encoder_layer, cached_self_attention  # noqa: F401
from .models import RNNLanguageModel, TransformerLanguageModel  # noqa: F401
