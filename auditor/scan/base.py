"""What every weight scanner shares: the Reader type, the WeightScan result, and budgeted reads.

A scanner never opens a file: it gets a `Reader`, a function returning the bytes of one file
at (start, length). `RangeReader` wraps it to count what was read, refuse to go past the
per-file byte budget, and serve repeated reads of a range it already holds (a zip's tail
read usually holds its central directory too). `RangeStream` and `InflateStream` present a
window of the file (a raw pickle, a stored or deflated zip member) as a forward-only stream
with `read`, `readline` and `skip`, fetching in chunks so a Hub file costs few HTTP requests,
and skipping large payloads without reading them.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from auditor.model import Finding

Reader = Callable[[int, int], bytes]

CHUNK = 64 * 1024  # one range read: large enough to hold a typical data.pkl or header
_LINE_LIMIT = 64 * 1024  # a protocol-0 text argument longer than this is not a real one


@dataclass(frozen=True)
class WeightScan:
    """What a header or pickle scan of one weight file found, and what it cost to read."""

    path: str
    format: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    bytes_read: int = 0
    budget: int = 0


class BudgetExceeded(Exception):
    """Reading on would pass the per-file byte budget, or the file's scan ran past its time."""


FILE_SECONDS = 60.0  # wall clock one file's scan may take, its range reads included


class RangeReader:
    """A Reader with a byte budget, a count of bytes read, and a cache of the ranges it holds."""

    def __init__(self, read: Reader, size: int, budget: int, deadline: float | None = None):
        self._read = read
        self.size = size
        self.budget = budget
        self.bytes_read = 0
        self._held: list[tuple[int, bytes]] = []
        self.deadline = time.monotonic() + FILE_SECONDS if deadline is None else deadline  # time.monotonic() value

    def remaining(self) -> int:
        """Bytes the budget still allows."""
        return max(0, self.budget - self.bytes_read)

    def read(self, start: int, length: int) -> bytes:
        """Bytes [start, start+length) clamped to the file; fewer only if the file is shorter than listed."""
        length = max(0, min(length, self.size - start))
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"time budget of {FILE_SECONDS:g} s for the file exhausted after {self.bytes_read} bytes")
        for at, data in self._held:
            if at <= start and start + length <= at + len(data):
                return data[start - at:start - at + length]
        if length > self.remaining():
            raise BudgetExceeded(f"byte budget of {self.budget} bytes exhausted after {self.bytes_read} bytes")
        data = bytes(self._read(start, length)) if length else b""
        self.bytes_read += len(data)
        self._held.append((start, data))
        return data


class Stream:
    """A forward-only byte stream: subclasses supply `_more` (next bytes) and may speed up `_advance`."""

    def __init__(self) -> None:
        self._buf = b""
        self._off = 0
        self._pos = 0

    def _more(self, want: int) -> bytes:
        raise NotImplementedError

    def _advance(self, count: int) -> int:
        """Move past `count` bytes not yet buffered; by default by reading them."""
        moved = 0
        while moved < count:
            data = self._more(min(count - moved, CHUNK))
            if not data:
                break
            take = min(len(data), count - moved)
            moved += take
            if take < len(data):  # keep what was read beyond the skipped part
                self._buf, self._off = data[take:], 0
        return moved

    def _fill(self, want: int) -> None:
        while len(self._buf) - self._off < want:
            data = self._more(want - (len(self._buf) - self._off))
            if not data:
                return
            self._buf, self._off = self._buf[self._off:] + data, 0

    def tell(self) -> int:
        """The stream's offset from the start of the file."""
        return self._pos

    def at_end(self) -> bool:
        """Whether the stream has no byte left."""
        self._fill(1)
        return len(self._buf) == self._off

    def read_byte(self) -> int:
        """The next byte's value, or -1 at the end."""
        off = self._off
        if off < len(self._buf):
            self._off, self._pos = off + 1, self._pos + 1
            return self._buf[off]
        data = self.read(1)
        return data[0] if data else -1

    def read(self, count: int) -> bytes:
        """At most `count` bytes, advancing the stream."""
        off = self._off
        if off + count <= len(self._buf):  # the common case, kept cheap: opcodes are small
            self._off, self._pos = off + count, self._pos + count
            return self._buf[off:off + count]
        self._fill(count)
        out = self._buf[self._off:self._off + count]
        self._off += len(out)
        self._pos += len(out)
        return out

    def peek(self, count: int) -> bytes:
        """At most `count` bytes, without advancing."""
        self._fill(count)
        return self._buf[self._off:self._off + count]

    def readline(self) -> bytes:
        """Up to and including the next newline, or what there is within the line limit."""
        while True:
            end = self._buf.find(b"\n", self._off)
            if end >= 0:
                return self.read(end + 1 - self._off)
            have = len(self._buf) - self._off
            if have >= _LINE_LIMIT:
                return self.read(have)
            self._fill(have + 1)
            if len(self._buf) - self._off == have:  # no more data
                return self.read(have)

    def skip(self, count: int) -> int:
        """Skip `count` bytes, reading as little as possible; returns how many were skipped."""
        take = min(count, len(self._buf) - self._off)
        self._off += take
        moved = take + (self._advance(count - take) if count > take else 0)
        self._pos += moved
        return moved


class RangeStream(Stream):
    """The window [start, start+length) of a file, read in budgeted chunks; skips cost nothing."""

    def __init__(self, ranges: RangeReader, start: int, length: int):
        super().__init__()
        self._ranges = ranges
        self._at = start
        self._end = min(start + length, ranges.size)

    def _more(self, want: int) -> bytes:
        # A whole chunk when the budget allows, so the next opcodes need no new request.
        length = min(self._end - self._at, max(want, min(CHUNK, self._ranges.remaining())))
        data = self._ranges.read(self._at, length)
        self._at += len(data)
        if len(data) < length:  # the file is shorter than listed: nothing more will come
            self._end = self._at
        return data

    def _advance(self, count: int) -> int:
        moved = min(count, self._end - self._at)
        self._at += moved
        return moved


class InflateStream(Stream):
    """A deflated zip member, decompressed as it is read; refuses to inflate past `limit` bytes."""

    def __init__(self, ranges: RangeReader, start: int, length: int, limit: int):
        super().__init__()
        self._raw = RangeStream(ranges, start, length)
        self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self._limit = limit
        self._out = 0

    def _more(self, want: int) -> bytes:
        while not self._inflater.eof:
            source = self._inflater.unconsumed_tail or self._raw.read(CHUNK)
            if not source:
                return b""
            try:
                data = self._inflater.decompress(source, max(want, CHUNK))
            except zlib.error as exc:
                raise ValueError(f"corrupt deflate data: {exc}") from None
            self._out += len(data)
            if self._out > self._limit:
                raise ValueError(f"deflated member inflates past its declared size of {self._limit} bytes")
            if data:
                return data
        return b""


def window(ranges: RangeReader, start: int, size: int) -> RangeReader:
    """An archive member stored as is, as a file of its own: its reads go through (and count against) the archive's reader."""
    return RangeReader(lambda at, length: ranges.read(start + at, length), size, _UNBOUNDED)


def held(data: bytes) -> RangeReader:
    """Bytes already in memory (an inflated or extracted member) as a file; reading them costs nothing."""
    return RangeReader(lambda at, length: data[at:at + length], len(data), _UNBOUNDED)


_UNBOUNDED = 1 << 62  # the outer reader keeps the budget
