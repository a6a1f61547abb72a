"""Tokenizers: text <-> token ids at the level of characters, words or
byte-pair-encoding subwords (trained on a corpus).

Every tokenizer has ``tokenize(text) -> [str]``, ``encode(text) -> [int]``,
``decode(ids) -> str`` and a :class:`~chainrule.text.vocab.Vocab` in
``.vocab``.  ``CharTokenizer`` and ``BPETokenizer`` round-trip any text made
of characters seen in training; ``WordTokenizer`` joins words with spaces.
"""
import re
from collections import Counter

from ..errors import ArgumentError
from .vocab import SPECIALS, Vocab


class Tokenizer:
    """The shared ``encode``/``decode`` on top of ``tokenize``/``detokenize``."""

    vocab: Vocab

    def tokenize(self, text):
        raise NotImplementedError

    def detokenize(self, tokens):
        return "".join(tokens)

    def encode(self, text, add_bos=False, add_eos=False):
        """``text`` -> ids, optionally framed by ``<bos>``/``<eos>``."""
        if not isinstance(text, str):
            raise ArgumentError(f"{type(self).__name__}.encode: expected a str, got "
                                f"{type(text).__name__}")
        ids = self.vocab.encode(self.tokenize(text))
        if add_bos:
            ids = [self.vocab.bos_id] + ids
        if add_eos:
            ids = ids + [self.vocab.eos_id]
        return ids

    def decode(self, ids, skip_specials=True):
        """Ids (a list or 1-D tensor) -> text; specials dropped by default."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        return self.detokenize(self.vocab.decode(ids, skip_specials))

    def __len__(self):
        return len(self.vocab)


class CharTokenizer(Tokenizer):
    """One token per character; the vocabulary is the corpus's characters,
    sorted."""

    def __init__(self, corpus, specials=SPECIALS):
        self.vocab = Vocab(sorted(set(corpus)), specials)

    def tokenize(self, text):
        return list(text)


_WORD = re.compile(r"\w+|[^\w\s]")


class WordTokenizer(Tokenizer):
    """Words and single punctuation marks (``\\w+|[^\\w\\s]``), lower-cased if
    ``lower``; the vocabulary keeps words seen ``min_freq`` times (at most
    ``max_size``), the rest become ``<unk>``."""

    def __init__(self, corpus, min_freq=1, max_size=None, lower=True,
                 specials=SPECIALS):
        self.lower = lower
        texts = [corpus] if isinstance(corpus, str) else corpus
        self.vocab = Vocab.build((self.tokenize(t) for t in texts), min_freq, max_size,
                                 specials)

    def tokenize(self, text):
        return _WORD.findall(text.lower() if self.lower else text)

    def detokenize(self, tokens):
        return " ".join(tokens)


# A space belongs to the word after it, so decoding is plain concatenation.
_PRETOKEN = re.compile(r" ?\w+| ?[^\w\s]+|\s+")


class BPETokenizer(Tokenizer):
    """Byte-pair encoding: start from characters and repeatedly merge the most
    frequent adjacent pair in the corpus until the vocabulary has
    ``vocab_size`` entries (or nothing repeats).  Merges never cross a
    pre-token boundary (a word with its leading space, a run of punctuation or
    of whitespace).  Ties go to the alphabetically first pair, so training is
    deterministic.  ``merges`` lists the learned pairs in order.
    """

    def __init__(self, corpus, vocab_size, specials=SPECIALS):
        texts = [corpus] if isinstance(corpus, str) else list(corpus)
        chars = sorted({c for t in texts for c in t})
        if vocab_size < len(specials) + len(chars):
            raise ArgumentError(
                f"BPETokenizer: vocab_size {vocab_size} is smaller than the "
                f"{len(specials)} specials plus the corpus's {len(chars)} characters")
        words = Counter(w for t in texts for w in _PRETOKEN.findall(t))
        splits = {w: list(w) for w in words}
        self.merges = []
        tokens = list(chars)
        while len(specials) + len(tokens) < vocab_size:
            pairs = Counter()
            for w, n in words.items():
                s = splits[w]
                for a, b in zip(s, s[1:]):
                    pairs[a, b] += n
            if not pairs:
                break
            best = min(pairs, key=lambda p: (-pairs[p], p))
            if pairs[best] < 2:
                break
            self.merges.append(best)
            tokens.append(best[0] + best[1])
            for w in words:
                splits[w] = _merge(splits[w], best)
        self.ranks = {p: i for i, p in enumerate(self.merges)}
        self.vocab = Vocab(tokens, specials)
        self._cache = {}

    def _split(self, word):
        """Apply the merges to one pre-token, earliest-learned pair first."""
        if word in self._cache:
            return self._cache[word]
        s = list(word)
        while len(s) > 1:
            ranked = [(self.ranks.get(p), p) for p in zip(s, s[1:])]
            ranked = [r for r in ranked if r[0] is not None]
            if not ranked:
                break
            s = _merge(s, min(ranked)[1])
        self._cache[word] = s
        return s

    def tokenize(self, text):
        return [tok for w in _PRETOKEN.findall(text) for tok in self._split(w)]


def _merge(symbols, pair):
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out
