"""File contents by git blob id: a text whose blob was read before is not downloaded again.

On the Hub the same licence texts, notices and policies sit in thousands of repos, and the
model-info answer names each file's git blob. The store keeps the bytes of each small text a
census reads under its blob id, checked both ways: a blob is stored only when its bytes hash to
the id the listing gave, and an entry is used only when it still does. Targets reading the same blob at the same
moment download it once: the first claims it, the others wait for it. Entries are files under
the cache directory, written atomically; one that cannot be read is a miss.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

from auditor.cachedir import write_atomically

_BLOB_ID = re.compile(r"[0-9a-f]{40}")


def git_blob_id(data: bytes) -> str:
    """The git object id of a file with these bytes (what the Hub lists as its blob id)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class BlobStore:
    """File contents by git blob id, verified on the way in; shared by every target and run."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.hits = 0
        self._lock = threading.Lock()
        self._reading: dict[str, threading.Event] = {}  # blobs one target is downloading now

    def _path(self, blob_id: str) -> Path:
        return self.directory / blob_id[:2] / blob_id

    def get(self, blob_id: str | None) -> bytes | None:
        """The bytes of `blob_id`, or None when never stored (or the entry is damaged)."""
        if not blob_id or not _BLOB_ID.fullmatch(blob_id):
            return None
        try:
            data = self._path(blob_id).read_bytes()
        except OSError:
            return None
        if git_blob_id(data) != blob_id:  # a damaged or tampered entry is a miss
            return None
        with self._lock:
            self.hits += 1
        return data

    def put(self, blob_id: str | None, data: bytes) -> None:
        """Keep `data` under `blob_id` when they agree; a listing that lies about a blob stores nothing."""
        if blob_id and _BLOB_ID.fullmatch(blob_id) and git_blob_id(data) == blob_id:
            write_atomically(self._path(blob_id), [data])

    def claim(self, blob_id: str | None) -> bool:
        """True when the caller should download `blob_id` itself: no other target is reading it now.
        A caller that claims must `release` it once its read ended, however it ended."""
        if not blob_id:
            return True
        with self._lock:
            if blob_id in self._reading:
                return False
            self._reading[blob_id] = threading.Event()
            return True

    def release(self, blob_id: str | None) -> None:
        """The read of a claimed blob ended: those waiting for it look in the store again."""
        with self._lock:
            event = self._reading.pop(blob_id, None) if blob_id else None
        if event is not None:
            event.set()

    def wait(self, blob_id: str, timeout: float) -> bytes | None:
        """The blob another target is reading, once it has (None if its read failed or took too long)."""
        with self._lock:
            event = self._reading.get(blob_id)
        if event is not None:
            event.wait(max(0.0, timeout))
        return self.get(blob_id)
