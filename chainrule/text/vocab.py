"""A vocabulary: the two-way map between tokens (strings) and integer ids."""
from collections import Counter

from ..errors import ArgumentError

SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")


class Vocab:
    """Tokens numbered from 0: the ``specials`` first (``<pad>`` is 0, so a
    zero-filled id tensor is all padding), then ``tokens`` in the given order.

    ``vocab[token]`` is the id (``unk_id`` for an unknown token when ``<unk>``
    is a special, otherwise a KeyError); ``vocab.itos[i]`` the token.
    """

    def __init__(self, tokens, specials=SPECIALS):
        self.itos = []
        self.stoi = {}
        for tok in list(specials) + list(tokens):
            if not isinstance(tok, str):
                raise ArgumentError(f"Vocab: tokens must be strings, got "
                                    f"{type(tok).__name__} {tok!r}")
            if tok not in self.stoi:
                self.stoi[tok] = len(self.itos)
                self.itos.append(tok)
        self.specials = tuple(specials)

    @classmethod
    def build(cls, token_lists, min_freq=1, max_size=None, specials=SPECIALS):
        """From an iterable of token lists: tokens seen at least ``min_freq``
        times, most frequent first (ties alphabetical), at most ``max_size``
        besides the specials."""
        counts = Counter(t for toks in token_lists for t in toks)
        ordered = sorted((t for t, c in counts.items() if c >= min_freq),
                         key=lambda t: (-counts[t], t))
        return cls(ordered[:max_size] if max_size is not None else ordered, specials)

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token):
        i = self.stoi.get(token)
        if i is not None:
            return i
        if "<unk>" in self.stoi:
            return self.stoi["<unk>"]
        raise KeyError(f"Vocab: token {token!r} is not in the vocabulary and there is "
                       "no '<unk>' special to map it to")

    def _special(self, tok):
        return self.stoi.get(tok)

    pad_id = property(lambda self: self._special("<pad>"))
    unk_id = property(lambda self: self._special("<unk>"))
    bos_id = property(lambda self: self._special("<bos>"))
    eos_id = property(lambda self: self._special("<eos>"))

    def encode(self, tokens):
        """Token strings -> list of ids."""
        return [self[t] for t in tokens]

    def decode(self, ids, skip_specials=False):
        """Ids -> token strings; ``skip_specials`` drops the specials except
        ``<unk>`` (which stands for real text)."""
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise ArgumentError(f"Vocab.decode: id {i} is outside the vocabulary "
                                    f"(0 to {len(self.itos) - 1})")
            if skip_specials and self.itos[i] in self.specials and i != self.unk_id:
                continue
            out.append(self.itos[i])
        return out

    def __repr__(self):
        return f"Vocab(size={len(self)}, specials={self.specials})"
