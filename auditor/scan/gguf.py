"""Read a GGUF file's metadata up to its tokenizer: architecture, name, licence, size label.

A GGUF file opens with the magic "GGUF", a version (1-3), the tensor count and the count
of metadata key/value pairs, then the pairs themselves (version 1 uses 32-bit counts and
lengths, later versions 64-bit; files may be big-endian). The walk reads the pairs through
a budgeted stream, keeps the `general.*` facts, skips numeric arrays without reading them,
and stops at the first `tokenizer.*` key: those arrays run to megabytes and come after the
general keys. A header that contradicts itself or the file size is `gguf-header-invalid`;
running out of budget only leaves the facts incomplete.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from typing import Any

from auditor.findings import finding
from auditor.identify.names import names_a_licence, same_licence_name, split_expression
from auditor.model import Finding
from auditor.scan.base import BudgetExceeded, RangeReader, RangeStream, WeightScan

_STRING, _ARRAY = 8, 9
# value type -> struct code of the scalar types
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_MAX_KEY = 65535  # the format's limit on key length
_MAX_DEPTH = 4  # arrays of arrays are legal; deeper nesting is not real metadata
_MAX_FACT_STRING = 4096
_FACTS = {
    "general.architecture": "architecture",
    "general.type": "type",
    "general.name": "name",
    "general.basename": "basename",
    "general.finetune": "finetune",
    "general.size_label": "size_label",
    "general.organization": "organization",
    "general.license": "license",
    "general.license.name": "license_name",
    "general.license.link": "license_link",
    "general.parameter_count": "parameters",
    "general.file_type": "file_type",
    "general.quantized_by": "quantized_by",
}

_BASE_MODEL_KEY = re.compile(r"^general\.base_model\.(\d+)\.(repo_url|organization|name)$")  # the parents a GGUF names


class _Invalid(ValueError):
    pass


class _Fields:
    """Typed reads from the stream in the file's byte order and integer widths."""

    def __init__(self, stream: RangeStream, order: str, wide: bool, size: int):
        self.stream, self.order, self.size = stream, order, size
        self.count_code = "Q" if wide else "I"
        self.width = 8 if wide else 4

    def unpack(self, code: str) -> Any:
        width = struct.calcsize(code)
        raw = self.stream.read(width)
        if len(raw) < width:
            raise _Invalid(f"truncated at byte {self.stream.tell()}")
        return struct.unpack(self.order + code, raw)[0]

    def count(self, what: str, unit: int) -> int:
        value = self.unpack(self.count_code)
        if value * unit > self.size - self.stream.tell():
            raise _Invalid(f"{what} {value} at byte {self.stream.tell()} cannot fit in the rest of the file: truncated or corrupt")
        return value

    def string(self, keep: bool) -> str | None:
        length = self.count("string length", 1)
        if not keep or length > _MAX_FACT_STRING:
            if self.stream.skip(length) < length:
                raise _Invalid("truncated inside a string")
            return None
        raw = self.stream.read(length)
        if len(raw) < length:
            raise _Invalid("truncated inside a string")
        return raw.decode("utf-8", "replace")

    def value(self, kind: int, keep: bool, depth: int = 0) -> Any:
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            return self.string(keep)
        if kind == _ARRAY and depth < _MAX_DEPTH:
            item = self.unpack("I")
            if item in _SCALARS:  # fixed-size items: skipped without reading
                width = struct.calcsize(_SCALARS[item])
                length = self.count("array length", width)
                if self.stream.skip(length * width) < length * width:
                    raise _Invalid("truncated inside an array")
                return None
            length = self.count("array length", self.width if item == _STRING else 4 + self.width)
            for _ in range(length):
                self.value(item, False, depth + 1)
            return None
        raise _Invalid(f"unknown value type {kind} at byte {self.stream.tell()}")


def scan_gguf(path: str, ranges: RangeReader) -> WeightScan:
    """The facts and findings of a GGUF file's header, read through ranged reads."""
    facts: dict[str, Any] = {}
    findings: tuple[Finding, ...] = ()
    try:
        _read_metadata(ranges, facts)
    except _Invalid as exc:
        findings = (finding("gguf-header-invalid", f"{path}: {exc}", [path]),)
    except BudgetExceeded as exc:
        facts["unscanned"] = f"metadata not read to its end: {exc}"
    return WeightScan(path, "gguf", facts, findings, ranges.bytes_read, ranges.budget)


def _read_metadata(ranges: RangeReader, facts: dict[str, Any]) -> None:
    stream = RangeStream(ranges, 0, ranges.size)
    head = stream.read(8)
    if head[:4] != b"GGUF":
        raise _Invalid("no GGUF magic number")
    if len(head) < 8:
        raise _Invalid("truncated before the version")
    little, big = struct.unpack("<I", head[4:])[0], struct.unpack(">I", head[4:])[0]
    if 1 <= little <= 3:
        version, order = little, "<"
    elif 2 <= big <= 3:  # big-endian files carry the same version, byte-swapped
        version, order = big, ">"
    else:
        raise _Invalid(f"unsupported version {little}")
    fields = _Fields(stream, order, version >= 2, ranges.size)
    facts["version"] = version
    facts["byte_order"] = "little" if order == "<" else "big"
    facts["tensors"] = fields.count("tensor count", 8)
    pairs = fields.count("metadata count", fields.width + 5)  # shortest pair: empty key, type, one byte
    facts["metadata_keys"] = pairs
    for index in range(pairs):
        key_length = fields.count("key length", 1)
        if key_length > _MAX_KEY:
            raise _Invalid(f"key {index} is {key_length} bytes long")
        raw_key = stream.read(key_length)
        if len(raw_key) < key_length:
            raise _Invalid(f"truncated inside key {index}")
        key = raw_key.decode("utf-8", "replace")
        if key.startswith("tokenizer."):
            facts["metadata_read"] = index
            return
        kind = fields.unpack("I")
        base = _BASE_MODEL_KEY.match(key)
        value = fields.value(kind, key in _FACTS or base is not None)
        if key in _FACTS and value is not None:
            facts[_FACTS[key]] = value
        elif base and isinstance(value, str):
            facts.setdefault("base_model_parts", {}).setdefault(int(base.group(1)), {})[base.group(2)] = value
    facts["metadata_read"] = pairs
    _base_models(facts)


def _base_models(facts: dict[str, Any]) -> None:
    """general.base_model.N.{repo_url, organization, name} as `base_models`: a URL, or organization/name."""
    parts = facts.pop("base_model_parts", {})
    named = [p.get("repo_url") or (f"{p['organization']}/{p['name']}" if p.get("organization") and p.get("name") else None)
             for _, p in sorted(parts.items())]
    if any(named):
        facts["base_models"] = [n for n in named if n]


def check_gguf_licence(scan: WeightScan, card_licence_ids: Sequence[str]) -> Finding | None:
    """`gguf-licence-mismatch` when the file's general.license names none of the card's licences."""
    licence = scan.facts.get("license") if scan.format == "gguf" else None
    if not isinstance(licence, str):
        return None
    card = [c for c in card_licence_ids if c and names_a_licence(c)]
    inside = [part for part in split_expression(licence) if names_a_licence(part)]
    if not inside or not card:
        return None
    if any(same_licence_name(mine, theirs) for mine in inside for theirs in card):
        return None
    return finding(
        "gguf-licence-mismatch",
        f"{scan.path}: general.license is {licence!r} but the card declares {', '.join(card)}",
        [scan.path],
    )
