"""Weight scans done once per distinct file across a census, and kept for the next one.

`ScanMemo` is the census's `auditor.scan.memo.WeightScanMemo`: a scan's answer by the file's
content hash (the Hub listing's LFS sha256), name, format and byte budget, under the
fingerprint of the auditor's code and knowledge (`auditor_fingerprint`: a changed scanner or
policy table is never answered from an older run). Entries are small JSON files under the cache
directory, written atomically; one that cannot be read is a miss, and nothing is ever
unpickled. A scan whose facts JSON cannot give back exactly (a tuple, bytes) is kept in memory only.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from auditor.batch.cache import auditor_fingerprint
from auditor.bounded import load_json
from auditor.cachedir import write_atomically
from auditor.model import Finding, Severity
from auditor.scan.base import WeightScan

_MEMORY_ENTRIES = 4096  # scans kept in memory; past that the disk answers
_FORMAT = "1"
_DEPTH = 64


class ScanMemo:
    """Weight scans by content key, shared by every target of a run and kept in `directory` (None: in memory only)."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self._memory: dict[str, tuple[WeightScan | None]] = {}
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path | None:
        if self.directory is None:
            return None
        name = hashlib.sha256(f"{_FORMAT}\0{auditor_fingerprint()}\0{key}".encode()).hexdigest()
        return self.directory / name[:2] / f"{name}.json"

    def recall(self, key: str) -> tuple[WeightScan | None] | None:
        """The scan kept under `key`, as a 1-tuple (None inside: no scanner reads the file); None when none is."""
        with self._lock:
            found = self._memory.get(key)
        path = self._path(key) if found is None else None
        if path is not None:
            try:
                found = _decode(load_json(path.read_bytes(), max_depth=_DEPTH))
            except (OSError, ValueError, TypeError, KeyError):
                found = None
            if found is not None:
                self._remember(key, found)
        with self._lock:
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
        return found

    def keep(self, key: str, scan: WeightScan | None) -> None:
        """Keep `scan` under `key`: in memory, and on the disk when its JSON gives it back exactly."""
        self._remember(key, (scan,))
        path = self._path(key)
        if path is None:
            return
        try:
            encoded = json.dumps(_encode(scan), ensure_ascii=False)
        except (TypeError, ValueError):
            return
        if _decode(json.loads(encoded)) == (scan,):
            write_atomically(path, [encoded.encode("utf-8")])

    def _remember(self, key: str, found: tuple[WeightScan | None]) -> None:
        with self._lock:
            if len(self._memory) >= _MEMORY_ENTRIES:
                self._memory.clear()  # a census's distinct weight files may be many: the disk keeps them all
            self._memory[key] = found


def _encode(scan: WeightScan | None) -> dict[str, Any]:
    if scan is None:
        return {"scan": None}
    return {"scan": {
        "path": scan.path, "format": scan.format, "facts": dict(scan.facts), "bytes_read": scan.bytes_read, "budget": scan.budget,
        "findings": [{"severity": f.severity.value, "code": f.code, "message": f.message, "evidence": list(f.evidence)}
                     for f in scan.findings],
    }}


def _decode(data: Any) -> tuple[WeightScan | None] | None:
    if not isinstance(data, dict) or "scan" not in data:
        return None
    item = data["scan"]
    if item is None:
        return (None,)
    if not isinstance(item, dict) or not isinstance(item.get("facts"), dict) or not isinstance(item.get("findings"), list):
        return None
    findings = tuple(Finding(Severity(f["severity"]), str(f["code"]), str(f["message"]), tuple(f["evidence"])) for f in item["findings"])
    return (WeightScan(str(item["path"]), str(item["format"]), item["facts"], findings, int(item["bytes_read"]), int(item["budget"])),)
