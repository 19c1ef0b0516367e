"""Where the auditor keeps what it may reuse between runs: one root for every cache.

`$AUDITOR_CACHE_DIR`, else `$XDG_CACHE_HOME/audit-model`, else `~/.cache/audit-model`. The
licence index lives in `licence-index/` under it, census results in `results/`; anything
there is safe to delete.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The root of every cache the auditor writes."""
    explicit = os.environ.get("AUDITOR_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "audit-model"
