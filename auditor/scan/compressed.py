"""Compressed streams (zlib, gzip, bz2, xz, lzma): joblib's compressors, and compressed archives.

joblib.dump(..., compress=...) writes one compressed stream holding the pickle, whatever the
file's name; joblib.load decompresses and unpickles it. The stream is decompressed as it is
walked, never held whole: the pickle walk skips the array bytes joblib writes inline, and
the output is capped, so a decompression bomb is a finding rather than a hang. What is not
a pickle (a tar.gz, say) is decompressed into memory under the same cap and scanned as the
file it holds.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable
from typing import Any

from auditor.findings import finding
from auditor.scan.base import CHUNK, RangeReader, RangeStream, Stream, WeightScan, held
from auditor.scan.sniff import HEAD, sniff

# A stream inflating past BOMB_FLOOR at more than BOMB_RATIO bytes out per byte in is a bomb
# (real joblib arrays rarely compress 100:1; zeros do 1000:1 and more), as is any past BOMB_CAP.
BOMB_RATIO = 500
BOMB_FLOOR = 32 << 20
BOMB_CAP = 4 << 30
IN_MEMORY_LIMIT = 256 << 20  # a compressed non-pickle is inflated into memory up to this size


class DecompressionBomb(Exception):
    """The stream inflates past its output cap."""


def _decompressor(kind: str) -> Any:
    if kind == "zlib":
        return zlib.decompressobj()
    if kind == "gzip":
        return zlib.decompressobj(31)
    if kind == "bz2":
        return bz2.BZ2Decompressor()
    if kind == "xz":
        return lzma.LZMADecompressor(lzma.FORMAT_XZ)
    if kind == "lzma":
        return lzma.LZMADecompressor(lzma.FORMAT_ALONE)
    raise ValueError(f"{kind} compression is not supported")


class DecompressStream(Stream):
    """A compressed file, decompressed as it is read, raising DecompressionBomb past `limit` bytes out."""

    def __init__(self, ranges: RangeReader, kind: str, limit: int):
        super().__init__()
        self._raw = RangeStream(ranges, 0, ranges.size)
        self._inflater = _decompressor(kind)
        self._zlib = kind in ("zlib", "gzip")
        self.limit = limit
        self.produced = 0

    def _more(self, want: int) -> bytes:
        inflater = self._inflater
        while not inflater.eof:
            if self._zlib:
                source = inflater.unconsumed_tail or self._raw.read(CHUNK)
            else:
                source = self._raw.read(CHUNK) if inflater.needs_input else b""
            if not source and (self._zlib or inflater.needs_input):
                return b""
            try:
                data = inflater.decompress(source, max(want, CHUNK))
            except (zlib.error, OSError, EOFError, lzma.LZMAError) as exc:
                raise ValueError(f"corrupt compressed data: {exc}") from None
            self.produced += len(data)
            if self.produced > self.limit or (self.produced > BOMB_FLOOR and self.produced > BOMB_RATIO * self._raw.tell()):
                raise DecompressionBomb(f"decompresses to {self.produced} bytes from {self._raw.tell()} compressed bytes: a decompression bomb")
            if data:
                return data
        return b""




def scan_compressed(
    path: str, ranges: RangeReader, kind: str, scan_pickles: Callable[[str, str, Stream], WeightScan],
    scan_inner: Callable[[str, RangeReader], WeightScan | None], limit: int | None = None,
) -> WeightScan:
    """Walk the pickle a compressed file holds (joblib), or scan what else it holds, under an output cap."""
    limit = BOMB_CAP if limit is None else limit
    try:
        stream = DecompressStream(ranges, kind, limit)
        head = stream.peek(HEAD)
        inner = sniff(head)
        if inner == "pickle" or (head[:1] in (b"(", b"c", b"]", b"}") and inner is None):
            scan = scan_pickles(path, f"{kind}-compressed", stream)
            return _with(scan, ranges, {"compression": kind, "decompressed_bytes": stream.produced})
        data = bytearray(head)
        stream.skip(len(head))
        while len(data) <= IN_MEMORY_LIMIT:
            more = stream.read(CHUNK)
            if not more:
                break
            data += more
        if len(data) > IN_MEMORY_LIMIT:
            return _problem(path, ranges, kind, f"decompresses past {IN_MEMORY_LIMIT} bytes, more than is scanned in memory", "artefact-unscanned")
        found = scan_inner(path, held(bytes(data)))
        if found is None:
            return WeightScan(path, f"{kind}-compressed", {"compression": kind, "holds": inner or "unknown"}, (), ranges.bytes_read, ranges.budget)
        return _with(found, ranges, {"compression": kind})
    except DecompressionBomb as exc:
        return _problem(path, ranges, kind, str(exc), "unsafe-artefact")
    except ValueError as exc:
        return _problem(path, ranges, kind, str(exc), "artefact-unscanned")


def _with(scan: WeightScan, ranges: RangeReader, facts: dict[str, Any]) -> WeightScan:
    return WeightScan(scan.path, scan.format, {**scan.facts, **facts}, scan.findings, ranges.bytes_read, ranges.budget)


def _problem(path: str, ranges: RangeReader, kind: str, reason: str, code: str) -> WeightScan:
    return WeightScan(path, f"{kind}-compressed", {"compression": kind, "unscanned": reason}, (finding(code, f"{path}: {reason}", [path]),), ranges.bytes_read, ranges.budget)
