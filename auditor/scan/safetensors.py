"""Read a safetensors file's header: tensor count, dtypes, parameter count and `__metadata__`.

The format is an 8-byte little-endian header length N, N bytes of JSON, then the tensor
bytes. One range read of the file's head normally holds the whole header; a second read
fetches the rest of a longer one. The header is checked as the safetensors library checks
it (N at most 100 MB and within the file, a JSON object, each tensor's byte range matching
its dtype and shape, the ranges tiling the data section exactly); any failure is a
`safetensors-header-invalid` finding naming the first problem.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from auditor.bounded import load_json
from auditor.findings import finding
from auditor.model import Finding
from auditor.scan.base import CHUNK, BudgetExceeded, RangeReader, WeightScan

MAX_HEADER = 100_000_000  # the safetensors library's own limit
_MAX_HEADER_DEPTH = 8  # {name: {dtype, shape: [..], data_offsets: [..]}} nests 3 deep
_METADATA_VALUE_CHARS = 200  # facts keep metadata readable, not whole embedded documents
# Bits per element of every dtype the format defines.
_DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32,
    "I64": 64, "U64": 64, "F64": 64, "C64": 64,
    "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}


class _Invalid(ValueError):
    pass


def scan_safetensors(path: str, ranges: RangeReader) -> WeightScan:
    """The facts and findings of a safetensors file's header, read through ranged reads."""
    try:
        facts = _header_facts(ranges)
        findings: tuple[Finding, ...] = ()
    except _Invalid as exc:
        facts, findings = {}, (finding("safetensors-header-invalid", f"{path}: {exc}", [path]),)
    except BudgetExceeded as exc:
        facts, findings = {"unscanned": f"header not read: {exc}"}, ()
    return WeightScan(path, "safetensors", facts, findings, ranges.bytes_read, ranges.budget)


def _header_facts(ranges: RangeReader) -> dict[str, Any]:
    size = ranges.size
    head = ranges.read(0, min(size, max(8, min(CHUNK, ranges.remaining()))))
    if len(head) < 8:
        raise _Invalid(f"the file has {len(head)} bytes, fewer than the 8-byte header length")
    length = struct.unpack("<Q", head[:8])[0]
    if length > MAX_HEADER:
        raise _Invalid(f"header length {length} exceeds the format's limit of {MAX_HEADER} bytes")
    if 8 + length > size:
        raise _Invalid(f"header length {length} runs past the end of the {size}-byte file")
    raw = ranges.read(8, length)
    if len(raw) < length:
        raise _Invalid("the file is shorter than listed (truncated header)")
    try:
        header = load_json(raw.decode("utf-8"), max_depth=_MAX_HEADER_DEPTH)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
        raise _Invalid(f"header is not JSON: {type(exc).__name__}: {exc}") from None
    if not isinstance(header, dict):
        raise _Invalid("header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise _Invalid("__metadata__ is not a map of strings")
    parameters, dtypes = _check_tensors(header, size - 8 - length)
    facts: dict[str, Any] = {"tensors": len(header), "dtypes": sorted(dtypes), "parameters": parameters, "header_bytes": length}
    if metadata:
        facts["metadata"] = {k: v[:_METADATA_VALUE_CHARS] for k, v in metadata.items()}
    return facts


def _check_tensors(header: dict[str, Any], data_size: int) -> tuple[int, set[str]]:
    """Total parameters and dtypes; raises _Invalid unless the byte ranges tile the data exactly."""
    parameters, dtypes, spans = 0, set(), []
    for name, info in header.items():
        if not isinstance(info, dict):
            raise _Invalid(f"tensor {name!r}: entry is not an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str):
            raise _Invalid(f"tensor {name!r}: dtype missing")
        if not (isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
            raise _Invalid(f"tensor {name!r}: shape is not a list of non-negative integers")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
            raise _Invalid(f"tensor {name!r}: data_offsets is not a pair of integers")
        begin, end = offsets
        if not 0 <= begin <= end:
            raise _Invalid(f"tensor {name!r}: data_offsets [{begin}, {end}] are out of order")
        numel = math.prod(shape)
        bits = _DTYPE_BITS.get(dtype)
        # A dtype newer than this table cannot be size-checked; it is still counted.
        if bits is not None and numel * bits != (end - begin) * 8:
            raise _Invalid(f"tensor {name!r}: {end - begin} bytes do not hold {numel} {dtype} elements")
        parameters += numel
        dtypes.add(dtype)
        spans.append((begin, end, name))
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            raise _Invalid(f"tensor {name!r}: data_offsets start at {begin}, expected {position} (gap or overlap)")
        position = end
    if position != data_size:
        raise _Invalid(f"tensor data ends at {position} but the file holds {data_size} data bytes")
    return parameters, dtypes
