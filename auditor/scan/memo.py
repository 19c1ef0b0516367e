"""What a scan of a weight file found, remembered by the file's content, so the same file is scanned once.

On the Hub the same weights sit in many repos (mirrors, re-uploads, a quantisation's copy of
its base's tokenizer checkpoint), and the listing names each LFS file's sha256. A scan's answer
depends only on the file's bytes, its name, its format and the byte budget, so it is kept under
those; `scan_release` asks the memo before reading a byte. A scan whose reads failed, or that
ran long enough to meet a time limit, is not kept: its answer is about that run, not the file.
A file without a content hash the listing gives (a local file on disk) is scanned each time:
hashing it would read it whole, far more than its header costs.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from auditor.scan.base import WeightScan


class WeightScanMemo(Protocol):
    """Scans by content key: `recall` gives (scan,) when known (the scan may be None: nothing reads the file), else None."""

    def recall(self, key: str) -> tuple[WeightScan | None] | None:
        """The scan kept under `key`, as a 1-tuple; None when none is."""

    def keep(self, key: str, scan: WeightScan | None) -> None:
        """Keep `scan` (None: the file is of no format scanned) under `key`."""


def scan_key(sha256: str, path: str, size: int, name_format: str | None, budget: int) -> str:
    """The memo key of scanning the file with content `sha256` at `path` (its name shapes the findings' words)."""
    return hashlib.sha256("\0".join(("1", sha256, path, str(size), name_format or "", str(budget))).encode(
        "utf-8", "surrogatepass")).hexdigest()
