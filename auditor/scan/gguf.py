"""Read every metadata key of a GGUF file's header: architecture, name, licence, lineage, chat template.

A GGUF file opens with the magic "GGUF", a version (1-3), the tensor count and the count
of metadata key/value pairs, then the pairs themselves (version 1 uses 32-bit counts and
lengths, later versions 64-bit; files may be big-endian). The walk reads every pair through
a budgeted stream, whatever their order: numeric arrays are skipped by their length without
being read, string arrays (the tokenizer's vocabulary) by each item's length. It keeps the
`general.*` facts, the parents `general.base_model.*` names, and every string value in
`metadata` (`tokenizer.chat_template` among them) for the checks that read them. A header
that contradicts itself or the file size is `gguf-header-invalid`; running out of budget only
leaves the facts incomplete, and `unscanned` says from which key on nothing was read.
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
_MAX_METADATA_STRING = 256 * 1024  # a chat template runs to tens of kilobytes; a longer string is skipped, and said so
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

    def string(self, keep: bool, limit: int = _MAX_FACT_STRING) -> str | None:
        length = self.count("string length", 1)
        if not keep or length > limit:
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
            return self.string(keep, _MAX_METADATA_STRING)
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
    walk = _Walk()
    try:
        _read_metadata(ranges, facts, walk)
    except _Invalid as exc:
        findings = (finding("gguf-header-invalid", f"{path}: {exc}", [path]),)
    except BudgetExceeded as exc:
        facts["metadata_read"] = walk.read
        facts["unscanned"] = (f"metadata not read to its end: {exc}; key {walk.read + 1} of {facts.get('metadata_keys', '?')}"
                              f" ({walk.key!r}) and the keys after it were skipped")
    _base_models(facts, walk)
    if walk.strings:
        facts["metadata"] = dict(walk.strings)
    if walk.skipped:
        facts["metadata_skipped"] = list(walk.skipped)
    return WeightScan(path, "gguf", facts, findings, ranges.bytes_read, ranges.budget)


class _Walk:
    """What the walk has read so far: the string values, the parents' parts, the key it is on."""

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}
        self.bases: dict[int, dict[str, str]] = {}
        self.skipped: list[str] = []  # string values too long to keep
        self.key = ""
        self.read = 0


def _read_metadata(ranges: RangeReader, facts: dict[str, Any], walk: _Walk) -> None:
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
        walk.read, walk.key = index, ""
        key_length = fields.count("key length", 1)
        if key_length > _MAX_KEY:
            raise _Invalid(f"key {index} is {key_length} bytes long")
        raw_key = stream.read(key_length)
        if len(raw_key) < key_length:
            raise _Invalid(f"truncated inside key {index}")
        key = walk.key = raw_key.decode("utf-8", "replace")
        kind = fields.unpack("I")
        value = fields.value(kind, True)
        if kind == _STRING:
            if value is None:
                walk.skipped.append(key)
            else:
                walk.strings[key] = value
        base = _BASE_MODEL_KEY.match(key)
        if key in _FACTS and value is not None and (kind != _STRING or len(value) <= _MAX_FACT_STRING):
            facts[_FACTS[key]] = value
        elif base and isinstance(value, str):
            walk.bases.setdefault(int(base.group(1)), {})[base.group(2)] = value
    walk.read = pairs
    facts["metadata_read"] = pairs


def _base_models(facts: dict[str, Any], walk: _Walk) -> None:
    """general.base_model.N.{repo_url, organization, name} as `base_models`: a URL, or organization/name."""
    parts = walk.bases
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
