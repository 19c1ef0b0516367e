"""Scan numpy files: `.npy` arrays and `.npz` archives of them, whose object arrays are pickles.

A `.npy` file is the magic "\\x93NUMPY", a version, a header length and a Python-literal
header ({'descr': ..., 'fortran_order': ..., 'shape': ...}) read with ast.literal_eval,
never eval. An array of Python objects (descr 'O', alone or inside a record) is stored as a
pickle right after the header, which `numpy.load(allow_pickle=True)` runs: it is walked like
any pickle. Other arrays are raw bytes, never read. An `.npz` is a zip of `.npy` members,
stored or deflated; each is read as a stream from its header on.
"""

from __future__ import annotations

import ast
import math
from typing import Any

from auditor.scan.base import RangeReader, RangeStream, Stream, WeightScan
from auditor.scan.pickled import _result
from auditor.scan.pickles import PickleWalk, walk
from auditor.scan.ziprange import ZipError, members, open_member

MAGIC = b"\x93NUMPY"
_MAX_HEADER = 64 * 1024  # numpy itself refuses headers over 10,000 bytes unless told otherwise


class NpyError(ValueError):
    """The header is not one numpy would read."""


def scan_numpy(path: str, ranges: RangeReader) -> WeightScan:
    """A .npy file, or a .npz archive (a zip), with the pickles of its object arrays walked."""
    if ranges.read(0, min(4, ranges.size)).startswith(b"PK"):
        return _scan_npz(path, ranges)
    walks: list[tuple[str, PickleWalk]] = []
    problems: list[str] = []
    facts = _npy(path, RangeStream(ranges, 0, ranges.size), walks, problems)
    return _result(path, "numpy", ranges, walks, problems, facts)


def _scan_npz(path: str, ranges: RangeReader) -> WeightScan:
    walks: list[tuple[str, PickleWalk]] = []
    problems: list[str] = []
    arrays: dict[str, Any] = {}
    try:
        listed = members(ranges)
    except ZipError as exc:
        return _result(path, "numpy-npz", ranges, [], [], {}, unreadable=[f"npz archive: {exc}"])
    for member in listed:
        if not member.name.endswith(".npy"):
            continue
        try:
            arrays[member.name] = _npy(f"{path} ({member.name})", open_member(ranges, member), walks, problems)
        except ZipError as exc:
            problems.append(f"{member.name}: {exc}")
    return _result(path, "numpy-npz", ranges, walks, problems, {"arrays": len(arrays), "object_arrays": sorted(n for n, f in arrays.items() if f.get("object"))})


def _npy(where: str, stream: Stream, walks: list[tuple[str, PickleWalk]], problems: list[str]) -> dict[str, Any]:
    """Facts of one .npy stream; its object array's pickle walked into `walks`."""
    try:
        header = read_header(stream)
    except NpyError as exc:
        problems.append(f"{where}: {exc}")
        return {}
    descr, shape = header.get("descr"), header.get("shape")
    facts: dict[str, Any] = {"descr": str(descr)[:200], "shape": list(shape) if isinstance(shape, tuple) else None, "object": has_object(descr)}
    if facts["object"]:
        one = walk(stream)
        walks.append((where, one))
        if one.error:
            problems.append(f"{where}: object array pickle: {one.error}")
    elif isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):
        facts["elements"] = math.prod(shape)
    return facts


def read_header(stream: Stream) -> dict[str, Any]:
    """The header dict of a .npy stream positioned at its magic; the stream is left at the data."""
    if stream.read(6) != MAGIC:
        raise NpyError("not a .npy array (no \\x93NUMPY magic)")
    version = stream.read(2)
    if len(version) < 2 or version[0] not in (1, 2, 3):
        raise NpyError(f"unknown .npy format version {tuple(version)}")
    width = 2 if version[0] == 1 else 4
    length = int.from_bytes(stream.read(width), "little")
    if length > _MAX_HEADER:
        raise NpyError(f"a header of {length} bytes, over the {_MAX_HEADER}-byte limit")
    raw = stream.read(length)
    if len(raw) < length:
        raise NpyError("header truncated")
    try:
        header = ast.literal_eval(raw.decode("utf-8" if version[0] == 3 else "latin-1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError, UnicodeDecodeError) as exc:
        raise NpyError(f"header is not a Python literal: {type(exc).__name__}") from None
    if not isinstance(header, dict) or "descr" not in header:
        raise NpyError("header is not a dict with a descr")
    return header


def has_object(descr: Any) -> bool:
    """Whether a numpy type description holds Python objects ('|O', or an 'O' field of a record)."""
    if isinstance(descr, str):
        return descr.lstrip("<>|=")[:1] == "O"
    if isinstance(descr, (list, tuple)):
        return any(has_object(field[1]) for field in descr if isinstance(field, (list, tuple)) and len(field) >= 2)
    return False
