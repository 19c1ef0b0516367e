"""Scan a 7z archive: every member extracted in memory, under a cap, and scanned as a file of its own.

Why py7zr: 7z's LZMA/LZMA2 and BCJ filters, solid blocks and encoded headers are a format of
their own, and py7zr reads them in pure Python. A 7z file must be read whole (its directory
sits at the end and its solid blocks decode from the start), so the dispatcher hands it over
only under the whole-read cap; extraction writes into counting buffers that stop at
`EXTRACT_LIMIT` bytes in all, so a bomb is a finding, not a hang. No loader reads a 7z
checkpoint: one holding a checkpoint was repacked, the shape of attacks made to slip past
scanners (the dispatcher adds that warning when the name promises a checkpoint).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from auditor.findings import finding
from auditor.model import Finding
from auditor.scan.base import RangeReader, WeightScan, held
from auditor.scan.pickled import with_members

EXTRACT_LIMIT = 256 << 20
_CHECKPOINT_FORMATS = frozenset({"pickle", "pytorch-zip", "pytorch-tar"})
_MAX_MEMBERS = 10_000


class _Overflow(Exception):
    """Extraction passed the cap."""


class _Capped:
    """py7zr's writer for one member: keeps bytes in memory, counting against the archive's cap."""

    def __init__(self, budget: list[int]):
        self._buffer = io.BytesIO()
        self._budget = budget

    def write(self, data: bytes | bytearray) -> int:
        self._budget[0] -= len(data)
        if self._budget[0] < 0:
            raise _Overflow
        return self._buffer.write(data)

    def read(self, size: int | None = None) -> bytes:
        return self._buffer.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._buffer.seek(offset, whence)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def size(self) -> int:
        return self._buffer.getbuffer().nbytes

    def value(self) -> bytes:
        return self._buffer.getvalue()


def _factory(budget: list[int]) -> Any:
    import py7zr.io

    class CappedFactory(py7zr.io.WriterFactory):
        def __init__(self) -> None:
            self.products: dict[str, _Capped] = {}

        def create(self, filename: str) -> Any:
            self.products[filename] = _Capped(budget)
            return self.products[filename]

    return CappedFactory()


def scan_7z(path: str, ranges: RangeReader, scan_member: Callable[[str, str, RangeReader], WeightScan | None], limit: int = EXTRACT_LIMIT) -> WeightScan:
    """Extract a 7z archive in memory and scan each member through `scan_member`."""
    import py7zr

    data = ranges.read(0, ranges.size)
    budget = [limit]
    factory = _factory(budget)
    try:
        with py7zr.SevenZipFile(io.BytesIO(data)) as archive:
            names = archive.getnames()[:_MAX_MEMBERS]
            if archive.needs_password():
                return _problem(path, ranges, "the archive is encrypted", "artefact-unscanned", names)
            archive.extractall(factory=factory)
    except _Overflow:
        return _problem(path, ranges, f"extracts past {limit} bytes: a decompression bomb, or more than is scanned in memory", "unsafe-artefact", [])
    except Exception as exc:  # noqa: BLE001 - py7zr raises many kinds on damaged archives
        return _problem(path, ranges, f"7z archive cannot be read: {type(exc).__name__}: {exc}", "artefact-unscanned", [])
    inner = []
    for name, product in factory.products.items():
        scan = scan_member(f"{path} ({name})", name, held(product.value()))
        if scan is not None:
            inner.append(scan)
    facts = {"members": names[:100]}
    own: tuple[Finding, ...] = ()
    if any(one.format in _CHECKPOINT_FORMATS for one in inner):
        own = (finding("artefact-repacked", f"{path}: a PyTorch checkpoint packed with 7z, which torch.load cannot read: it was repacked on purpose", [path]),)
    return with_members(WeightScan(path, "7z", facts, own, ranges.bytes_read, ranges.budget), inner, ranges)


def _problem(path: str, ranges: RangeReader, reason: str, code: str, names: list[str]) -> WeightScan:
    return WeightScan(path, "7z", {"members": names[:100], "unscanned": reason}, (finding(code, f"{path}: {reason}", [path]),), ranges.bytes_read, ranges.budget)
