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
from pathlib import Path
from typing import Any

from auditor.batch.cache import auditor_fingerprint
from auditor.batch.memo import CountedMemo, KeptAnswers
from auditor.model import Finding, Severity
from auditor.scan.base import WeightScan

_FORMAT = "1"
_IN_MEMORY = 1024  # scans kept in memory (a pickle's facts run to kilobytes); past that the disk answers


class ScanMemo(CountedMemo):
    """Weight scans by content key, shared by every target of a run and kept in `directory` (None: in memory only)."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self._kept: KeptAnswers[tuple[WeightScan | None]] = KeptAnswers(directory, _encode, _decode, _IN_MEMORY)

    def recall(self, key: str) -> tuple[WeightScan | None] | None:
        """The scan kept under `key`, as a 1-tuple (None inside: no scanner reads the file); None when none is."""
        return self._kept.recall(self._entry(key))

    def keep(self, key: str, scan: WeightScan | None) -> None:
        """Keep `scan` under `key`: in memory, and on the disk when its JSON gives it back exactly."""
        self._kept.keep(self._entry(key), (scan,))

    @staticmethod
    def _entry(key: str) -> str:
        return hashlib.sha256(f"{_FORMAT}\0{auditor_fingerprint()}\0{key}".encode()).hexdigest()


def _encode(kept: tuple[WeightScan | None]) -> dict[str, Any]:
    (scan,) = kept
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
