"""Downloading data files into the cache, verified against published checksums.

A file is streamed into a temporary file beside its destination, its MD5
compared with the published one, and only then renamed into place: a
failed or corrupted download never leaves a file that later loads.
"""
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ...errors import ChainruleError


class DownloadError(ChainruleError, OSError):
    """A data file could not be fetched, or failed its checksum."""


def cache_dir(root=None):
    """Where data sets are kept: ``root``, else ``$CHAINRULE_CACHE``, else
    ``~/.cache/chainrule``."""
    if root is None:
        root = os.environ.get("CHAINRULE_CACHE") or Path.home() / ".cache" / "chainrule"
    return Path(root).expanduser()


def md5sum(path, chunk=1 << 20):
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def download(urls, dest, md5, *, timeout=60):
    """Fetch the first of ``urls`` that answers into ``dest``, checking ``md5``.

    Raises :class:`DownloadError` if no URL answers or the content's MD5 is
    not ``md5``; in both cases nothing is left at ``dest``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part",
                                   dir=dest.parent)
        try:
            h = hashlib.md5(usedforsecurity=False)
            with os.fdopen(fd, "wb") as out:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    for block in iter(lambda: resp.read(1 << 20), b""):
                        h.update(block)
                        out.write(block)
                out.flush()
                os.fsync(out.fileno())
            got = h.hexdigest()
            if got != md5:
                raise DownloadError(
                    f"download: {url} has MD5 {got}, but the published checksum is "
                    f"{md5}; the file was discarded (a corrupted transfer or a "
                    "changed file). Try again, or place a verified copy at "
                    f"{dest}")
            os.replace(tmp, dest)
            return dest
        except (urllib.error.URLError, OSError) as e:
            if isinstance(e, DownloadError):
                raise
            failures.append(f"{url}: {getattr(e, 'reason', e)}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise DownloadError(
        f"download: could not fetch {dest.name} ("
        + "; ".join(failures)
        + f"). Check the network, or place the file at {dest}")
