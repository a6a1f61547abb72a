"""Text corpora available offline, and language-model batching.

- :func:`python_docs` — the Python reference manual's topics as shipped in the
  standard library (``pydoc_data.topics``, about 460k characters of English
  prose with some grammar and code), so examples need no download;
- :func:`load_wikitext` — the WikiText layout (``wiki.{train,valid,test}.tokens``:
  one paragraph per line, `` = Heading = `` lines, ``<unk>`` already in the
  text), read from a directory the user provides;
- :func:`batchify` and :func:`bptt_batches` — the long-stream layout for
  truncated backpropagation through time.
"""
import os

from ..errors import ArgumentError, ShapeError, fmt_shape
from ..ops import reshape, tensor


def python_docs(topics=None):
    """The text of the stdlib's ``pydoc_data.topics`` (all topics, or those
    named), joined in sorted topic order with blank lines."""
    from pydoc_data.topics import topics as all_topics

    names = sorted(all_topics) if topics is None else list(topics)
    missing = [n for n in names if n not in all_topics]
    if missing:
        raise ArgumentError(f"python_docs: unknown topics {missing}; valid topics "
                            f"are e.g. {sorted(all_topics)[:5]}")
    return "\n\n".join(all_topics[n].strip() for n in names) + "\n"


WIKITEXT_SPLITS = {"train": "wiki.train.tokens", "valid": "wiki.valid.tokens",
                   "test": "wiki.test.tokens"}


def read_wikitext_tokens(path, eos="<eos>"):
    """One WikiText file -> its word tokens, each non-empty line split on
    spaces and ended by ``eos`` (the usual word-level LM stream)."""
    tokens = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if words:
                tokens += words + ([eos] if eos else [])
    return tokens


def load_wikitext(root, splits=("train", "valid", "test"), eos="<eos>"):
    """``{split: [tokens]}`` from the WikiText files in directory ``root``
    (WikiText-2 and -103 share the layout); raises FileNotFoundError naming
    the missing file."""
    out = {}
    for split in splits:
        if split not in WIKITEXT_SPLITS:
            raise ArgumentError(f"load_wikitext: unknown split {split!r}; valid "
                                f"splits are {list(WIKITEXT_SPLITS)}")
        path = os.path.join(root, WIKITEXT_SPLITS[split])
        if not os.path.isfile(path):
            raise FileNotFoundError(f"load_wikitext: no {WIKITEXT_SPLITS[split]} in "
                                    f"{root!r} (expected the WikiText file layout)")
        out[split] = read_wikitext_tokens(path, eos)
    return out


def batchify(ids, batch_size):
    """A stream of ids -> int64 ``(T, batch_size)``: the stream cut into
    ``batch_size`` contiguous columns (the tail that does not fill a row is
    dropped), so column ``b`` continues from one batch to the next."""
    from .._dtype import int64

    ids = list(ids)
    steps = len(ids) // batch_size
    if steps < 2:
        raise ArgumentError(f"batchify: {len(ids)} ids are too few for "
                            f"{batch_size} columns of at least 2 steps")
    data = tensor(ids[: steps * batch_size], dtype=int64)
    return reshape(data, (batch_size, steps)).t().contiguous()


def bptt_batches(data, bptt):
    """Yield ``(inputs, targets)`` windows of ``data`` ``(T, B)``: rows
    ``i:i+n`` and ``i+1:i+1+n``, ``n <= bptt``, for truncated BPTT (carry the
    hidden state across windows, detached)."""
    if data.ndim != 2:
        raise ShapeError(f"bptt_batches: data must be (T, B), got "
                         f"{fmt_shape(data.shape)}")
    for i in range(0, data.shape[0] - 1, bptt):
        n = min(bptt, data.shape[0] - 1 - i)
        yield data[i:i + n], data[i + 1:i + 1 + n]
