"""Scan TensorFlow graphs (SavedModel, frozen GraphDef) and ONNX models by their protobuf wire format.

Neither TensorFlow nor onnx is needed: the protobuf wire format is a sequence of (field,
wire type, value) records, and a message's fields of interest are reached by descending
into the length-delimited ones the schema below names, in one forward pass over the file.
Everything else (tensor contents, which is nearly all of an ONNX file's bytes) is skipped
without being read. TensorFlow: every op of the graph and of its function library is listed,
and ops that read or write files or run Python are `unsafe-artefact` errors. ONNX: tensors
whose data lives in external files are checked, a location that is absolute or leaves the
model's folder is an error (the runtime would read that file); operator domains outside the
standard are `custom-operators` info.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from auditor.findings import finding
from auditor.model import Finding
from auditor.scan.base import RangeReader, RangeStream, Stream, WeightScan
from auditor.scan.policy_data import artefact_policy

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5
_MAX_STRING = 64 * 1024
_MAX_DEPTH = 48
_MAX_FINDINGS = 20


class WireError(ValueError):
    """The bytes are not a protobuf message of the expected shape."""


@dataclass(frozen=True)
class Schema:
    """Which fields of a message to read: strings kept by name, messages descended into."""

    kind: str
    strings: dict[int, str] = field(default_factory=dict)
    varints: dict[int, str] = field(default_factory=dict)
    messages: dict[int, str] = field(default_factory=dict)


# TensorFlow (tensorflow/core/protobuf/saved_model.proto, meta_graph.proto; framework/graph.proto, node_def.proto, function.proto)
_TF = {
    "SavedModel": Schema("SavedModel", messages={2: "MetaGraphDef"}),
    "MetaGraphDef": Schema("MetaGraphDef", messages={2: "GraphDef"}),
    "GraphDef": Schema("GraphDef", messages={1: "NodeDef", 2: "FunctionDefLibrary"}),
    "FunctionDefLibrary": Schema("FunctionDefLibrary", messages={1: "FunctionDef"}),
    "FunctionDef": Schema("FunctionDef", messages={3: "NodeDef"}),
    "NodeDef": Schema("NodeDef", strings={1: "name", 2: "op"}),
}
# ONNX (onnx/onnx.proto)
_ONNX = {
    "ModelProto": Schema("ModelProto", messages={7: "GraphProto", 8: "OperatorSetId", 25: "FunctionProto"}),
    "OperatorSetId": Schema("OperatorSetId", strings={1: "domain"}),
    "GraphProto": Schema("GraphProto", messages={1: "NodeProto", 5: "TensorProto", 15: "SparseTensorProto"}),
    "FunctionProto": Schema("FunctionProto", messages={7: "NodeProto", 9: "OperatorSetId"}),
    "NodeProto": Schema("NodeProto", strings={4: "op_type", 7: "domain", 3: "name"}, messages={5: "AttributeProto"}),
    "AttributeProto": Schema("AttributeProto", messages={5: "TensorProto", 6: "GraphProto", 10: "TensorProto", 11: "GraphProto"}),
    "SparseTensorProto": Schema("SparseTensorProto", messages={1: "TensorProto", 2: "TensorProto"}),
    "TensorProto": Schema("TensorProto", strings={8: "name"}, varints={14: "data_location"}, messages={13: "StringStringEntryProto"}),
    "StringStringEntryProto": Schema("StringStringEntryProto", strings={1: "key", 2: "value"}),
}

Visit = Callable[[str, dict[str, Any]], None]


def _varint(stream: Stream) -> int:
    value, shift = 0, 0
    while True:
        byte = stream.read_byte()
        if byte < 0:
            raise WireError("truncated varint")
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes")


def walk_message(stream: Stream, end: int, schema: Schema, schemas: dict[str, Schema], visit: Visit, depth: int = 0) -> dict[str, Any]:
    """Read one message up to `end`; `visit(kind, fields)` is called for every nested message read, after its end."""
    if depth > _MAX_DEPTH:
        raise WireError(f"messages nested more than {_MAX_DEPTH} deep")
    fields: dict[str, Any] = {}
    while stream.tell() < end:
        tag = _varint(stream)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise WireError(f"field number 0 at byte {stream.tell()}")
        if wire == _VARINT:
            value = _varint(stream)
            if number in schema.varints:
                fields[schema.varints[number]] = value
        elif wire == _BYTES:
            length = _varint(stream)
            start = stream.tell()
            if start + length > end:
                raise WireError(f"a field of {length} bytes at byte {start} runs past its message")
            if number in schema.messages:
                sub = schemas[schema.messages[number]]
                visit(sub.kind, walk_message(stream, start + length, sub, schemas, visit, depth + 1))
            elif number in schema.strings and length <= _MAX_STRING:
                fields.setdefault(schema.strings[number], []).append(stream.read(length).decode("utf-8", "replace"))
            elif stream.skip(length) < length:
                raise WireError("truncated field")
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            if stream.skip(size) < size:
                raise WireError("truncated field")
        else:
            raise WireError(f"wire type {wire} at byte {stream.tell()} (groups are not used by these formats)")
    if stream.tell() != end:
        raise WireError(f"a message overruns its end at byte {end}")
    return fields


def scan_tensorflow(path: str, ranges: RangeReader) -> WeightScan:
    """A SavedModel's saved_model.pb, or any other .pb as a frozen GraphDef: every op listed, file and Python ops errors."""
    # A GraphDef opens with its nodes (field 1, bytes: tag 0x0A); a SavedModel with its schema version (field 1, varint).
    root = "GraphDef" if ranges.read(0, min(1, ranges.size)) == b"\x0a" else "SavedModel"
    ops: dict[str, list[str]] = {}

    def visit(kind: str, fields: dict[str, Any]) -> None:
        if kind == "NodeDef":
            for op in fields.get("op", [])[:1]:
                ops.setdefault(op, []).extend(fields.get("name", [])[:1])

    try:
        walk_message(RangeStream(ranges, 0, ranges.size), ranges.size, _TF[root], _TF, visit)
    except WireError as exc:
        return _unreadable(path, "tensorflow", ranges, f"not a TensorFlow {root}: {exc}", {"ops": sorted(ops)[:200]})
    dangerous = artefact_policy()["tensorflow"]["ops"]
    findings = [
        finding("unsafe-artefact", f"{path}: op {op} ({dangerous[op]}) in node {', '.join(repr(n) for n in names[:3]) or 'unnamed'}", [path])
        for op, names in sorted(ops.items()) if op in dangerous
    ][:_MAX_FINDINGS]
    facts = {"graph": root, "ops": sorted(ops)[:200], "nodes": sum(len(n) for n in ops.values())}
    return WeightScan(path, "tensorflow", facts, tuple(findings), ranges.bytes_read, ranges.budget)


def scan_onnx(path: str, ranges: RangeReader) -> WeightScan:
    """An ONNX model: external-data locations outside the model's folder are errors, custom domains info."""
    domains: set[str] = set()
    locations: list[tuple[str, str]] = []
    tensors_external = 0
    pending: list[dict[str, Any]] = []

    def visit(kind: str, fields: dict[str, Any]) -> None:
        nonlocal tensors_external
        if kind == "StringStringEntryProto":
            pending.append(fields)
        elif kind == "TensorProto":
            entries, pending[:] = list(pending), []
            for entry in entries:
                if entry.get("key") == ["location"] and entry.get("value"):
                    locations.append((fields.get("name", ["?"])[0], entry["value"][0]))
            if fields.get("data_location") == 1:
                tensors_external += 1
        elif kind in ("OperatorSetId", "NodeProto"):
            domains.update(fields.get("domain", []))

    try:
        walk_message(RangeStream(ranges, 0, ranges.size), ranges.size, _ONNX["ModelProto"], _ONNX, visit)
    except WireError as exc:
        return _unreadable(path, "onnx", ranges, f"not an ONNX model: {exc}", {})
    findings: list[Finding] = []
    for tensor, location in locations:
        reason = escapes(location)
        if reason:
            findings.append(finding("unsafe-artefact", f"{path}: tensor {tensor!r} reads its data from {location!r}, {reason}: loading reads that file", [path]))
    custom = sorted(domains - set(artefact_policy()["onnx"]["standard_domains"]))
    if custom:
        findings.append(finding("custom-operators", f"{path}: operators from domains {', '.join(custom[:10])}, outside the ONNX standard: running it needs their libraries", [path]))
    facts = {"external_tensors": tensors_external, "external_locations": sorted({loc for _, loc in locations})[:50], "custom_domains": custom}
    return WeightScan(path, "onnx", facts, tuple(findings[:_MAX_FINDINGS]), ranges.bytes_read, ranges.budget)


def escapes(location: str) -> str | None:
    """Why an external-data location is outside the model's folder, or None when it is inside."""
    if location.startswith(("/", "\\")) or (len(location) > 1 and location[1] == ":") or location.startswith("~"):
        return "an absolute path"
    normal = posixpath.normpath(location.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        return "a path leaving the model's folder"
    return None


def _unreadable(path: str, fmt: str, ranges: RangeReader, reason: str, facts: dict[str, Any]) -> WeightScan:
    return WeightScan(path, fmt, {**facts, "unscanned": reason}, (finding("artefact-unscanned", f"{path}: {reason}", [path]),), ranges.bytes_read, ranges.budget)
