"""File content the fake Hub serves, produced lazily so a 5 GB sibling costs no memory.

A blob is anything with `size` and `read(start, length) -> bytes`. A fixture names one per
path in `repo.yaml` (`blobs: {path: spec}`): `gen:zeros`, `gen:pattern` (a fixed 256-byte
cycle, so range reads can be checked byte for byte), or `module:function`, a callable taking
the declared size and returning a blob (or plain bytes). Paths with neither a spec nor a
stored file are served as zeros of their declared size.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol


class Blob(Protocol):
    size: int

    def read(self, start: int, length: int) -> bytes: ...


def _clamp(size: int, start: int, length: int) -> tuple[int, int]:
    start = max(0, min(start, size))
    return start, max(0, min(length, size - start))


class BytesBlob:
    def __init__(self, data: bytes):
        self.data = data
        self.size = len(data)

    def read(self, start: int, length: int) -> bytes:
        return self.data[start:start + max(0, length)]


class FileBlob:
    """A stored file, read from disk on demand (stored files are small, but need not be)."""

    def __init__(self, path: Path):
        self.path = path
        self.size = path.stat().st_size

    def read(self, start: int, length: int) -> bytes:
        start, length = _clamp(self.size, start, length)
        with open(self.path, "rb") as handle:
            handle.seek(start)
            return handle.read(length)


class ZeroBlob:
    def __init__(self, size: int):
        self.size = size

    def read(self, start: int, length: int) -> bytes:
        return bytes(_clamp(self.size, start, length)[1])


_CYCLE = bytes((i * 131 + 7) & 0xFF for i in range(256))  # 131 is odd: every byte value once per cycle


def pattern_bytes(start: int, length: int) -> bytes:
    """The bytes of a `gen:pattern` blob at [start, start + length): what range-read tests expect."""
    offset = start % 256
    repeats = (offset + length) // 256 + 1
    return (_CYCLE * repeats)[offset:offset + length]


class PatternBlob:
    def __init__(self, size: int):
        self.size = size

    def read(self, start: int, length: int) -> bytes:
        start, length = _clamp(self.size, start, length)
        return pattern_bytes(start, length)


class _SizedReader:
    """Adapts a generator's reader to the declared size, whatever it returns past the end."""

    def __init__(self, reader, size: int):
        self.reader = reader
        self.size = size

    def read(self, start: int, length: int) -> bytes:
        start, length = _clamp(self.size, start, length)
        return bytes(self.reader.read(start, length))[:length]


_BUILTIN = {"gen:zeros": ZeroBlob, "gen:pattern": PatternBlob}


def blob_from_spec(spec: str, size: int) -> Blob:
    """The blob a `blobs:` entry names, for a sibling of the declared size."""
    if spec in _BUILTIN:
        return _BUILTIN[spec](size)
    module_name, sep, function_name = spec.partition(":")
    if not sep or not function_name or spec.startswith("gen:"):
        raise ValueError(f"unknown blob spec {spec!r}: use gen:zeros, gen:pattern or module:function")
    produced = getattr(importlib.import_module(module_name), function_name)(size)
    if isinstance(produced, (bytes, bytearray)):
        return BytesBlob(bytes(produced))
    return _SizedReader(produced, getattr(produced, "size", size))
