"""Character-level text: a tokenizer and a next-character prediction dataset."""
import os
from numbers import Integral

from ... import ops
from ...errors import ArgumentError, IndexOutOfRange
from ...tensor import Tensor
from ..dataset import Dataset


class CharTokenizer:
    """Maps each distinct character of a text to an id (sorted order).

    ``vocab``: the characters, ``vocab[i]`` has id ``i``; ``stoi`` the inverse.
    """

    def __init__(self, text):
        if not isinstance(text, str) or not text:
            raise ArgumentError("CharTokenizer: expected a non-empty str to build the "
                                "vocabulary from")
        self.vocab = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.vocab)}

    @property
    def vocab_size(self):
        return len(self.vocab)

    def __len__(self):
        return len(self.vocab)

    def encode(self, text):
        """``str`` -> int64 tensor of shape (len(text),)."""
        try:
            ids = [self.stoi[c] for c in text]
        except KeyError as e:
            raise ArgumentError(f"CharTokenizer.encode: character {e.args[0]!r} is not "
                                "in the vocabulary") from None
        return ops.tensor(ids, dtype="int64")

    def decode(self, ids):
        """A sequence or 1-d tensor of ids -> ``str``."""
        if isinstance(ids, Tensor):
            ids = ids.reshape(-1).tolist()
        out = []
        for i in ids:
            if not isinstance(i, Integral) or not 0 <= i < len(self.vocab):
                raise IndexOutOfRange(f"CharTokenizer.decode: id {i!r} is not in "
                                      f"[0, {len(self.vocab)})")
            out.append(self.vocab[i])
        return "".join(out)

    def state_dict(self):
        return {"vocab": "".join(self.vocab)}

    @classmethod
    def from_state_dict(cls, state):
        return cls(state["vocab"])


class CharCorpus(Dataset):
    """Next-character prediction windows over a text.

    Item ``i`` is ``(x, y)``: x the ids of characters ``i .. i+seq_len-1``
    and y those of ``i+1 .. i+seq_len`` (each int64 of shape (seq_len,)),
    so a model predicts every next character.  ``len`` is
    ``len(text) - seq_len``.

    Build from a file with ``CharCorpus(path, seq_len)`` or from a string
    with :meth:`from_text`; ``split(0.9)`` cuts the text into contiguous
    training and validation corpora sharing one tokenizer.
    """

    def __init__(self, path, seq_len=64, *, encoding="utf-8", tokenizer=None):
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentError(f"CharCorpus: path must be a str or PathLike, got "
                                f"{type(path).__name__}; use CharCorpus.from_text for "
                                "a string of text")
        try:
            with open(path, encoding=encoding) as f:
                text = f.read()
        except OSError as e:
            raise ArgumentError(f"CharCorpus: cannot read {os.fspath(path)!r}: "
                                f"{e.strerror}") from None
        self._init(text, seq_len, tokenizer)

    @classmethod
    def from_text(cls, text, seq_len=64, *, tokenizer=None):
        self = cls.__new__(cls)
        self._init(text, seq_len, tokenizer)
        return self

    def _init(self, text, seq_len, tokenizer):
        if not isinstance(seq_len, Integral) or seq_len < 1:
            raise ArgumentError(f"CharCorpus: seq_len must be a positive int, got "
                                f"{seq_len!r}")
        if not isinstance(text, str) or len(text) <= seq_len:
            n = len(text) if isinstance(text, str) else type(text).__name__
            raise ArgumentError(f"CharCorpus: the text ({n} characters) must be longer "
                                f"than seq_len={seq_len}")
        self.text = text
        self.seq_len = int(seq_len)
        self.tokenizer = tokenizer or CharTokenizer(text)
        self.data = self.tokenizer.encode(text)

    @property
    def vocab_size(self):
        return self.tokenizer.vocab_size

    def encode(self, text):
        return self.tokenizer.encode(text)

    def decode(self, ids):
        return self.tokenizer.decode(ids)

    def __len__(self):
        return len(self.text) - self.seq_len

    def __getitem__(self, index):
        if not isinstance(index, Integral) or not -len(self) <= index < len(self):
            raise IndexOutOfRange(f"CharCorpus: index {index!r} is out of range for "
                                  f"{len(self)} windows")
        i = int(index) % len(self)
        return self.data[i:i + self.seq_len], self.data[i + 1:i + 1 + self.seq_len]

    def _batch(self, indices):
        # One gather for the whole batch: row b reads ids starts[b] + 0..seq_len-1.
        starts = ops.tensor(indices, dtype="int64").unsqueeze(1)
        idx = starts + ops.arange(self.seq_len)
        return [self.data[idx], self.data[idx + 1]]

    def split(self, fraction=0.9):
        """(train, val) corpora: the first ``fraction`` of the text and the rest."""
        if not 0 < fraction < 1:
            raise ArgumentError(f"CharCorpus.split: fraction must be in (0, 1), got "
                                f"{fraction!r}")
        cut = int(len(self.text) * fraction)
        mk = type(self).from_text
        return (mk(self.text[:cut], self.seq_len, tokenizer=self.tokenizer),
                mk(self.text[cut:], self.seq_len, tokenizer=self.tokenizer))
