"""Where the auditor keeps what it may reuse between runs: one root for every cache.

`$AUDITOR_CACHE_DIR`, else `$XDG_CACHE_HOME/audit-model`, else `~/.cache/audit-model`. The
licence index lives in `licence-index/` under it, census results in `results/`; anything
there is safe to delete.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def cache_root() -> Path:
    """The root of every cache the auditor writes."""
    explicit = os.environ.get("AUDITOR_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "audit-model"


def write_atomically(path: Path, chunks: Iterable[bytes]) -> bool:
    """Write `chunks` to `path` through a temporary file and a rename: readers see the old file or
    the whole new one. False when it could not be written (a read-only or full disk): a cache that
    cannot be written only makes the next run slower, and any failure leaves no trace."""
    try:
        try:
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        except FileNotFoundError:  # the folder is made on the first write into it, not tried again on each
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except OSError:
        return False
    return True
