"""Scan Keras models: the `.keras` zip's config.json and an HDF5 file's `model_config`.

Keras rebuilds a model from a JSON config naming each object's class (and, in Keras 3, its
module and registered name). A `Lambda` layer carries Python code (marshalled bytecode or
source) that runs on load; a module outside Keras' own, or a custom registered name, makes
Keras import and run code the file names (CVE-2025-1550 shapes; CVE-2025-8747 and -9906 use
`keras.utils` and `keras.config` functions). Each is an `unsafe-artefact` error naming the
layer. HDF5 files are read through h5py on a file object over the byte ranges, so only the
metadata blocks holding the root's attributes are fetched; the weights are never read.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from auditor.findings import finding
from auditor.model import Finding
from auditor.scan.base import RangeReader, WeightScan
from auditor.scan.pickled import _result
from auditor.scan.policy_data import artefact_policy
from auditor.scan.ziprange import ZipError, members, open_member

_MAX_CONFIG = 64 << 20
_MAX_FINDINGS = 20


def config_findings(path: str, where: str, config: Any) -> list[Finding]:
    """One error per object of the config that runs code or needs code from outside Keras, naming its layer."""
    policy = artefact_policy()["keras"]
    found: list[Finding] = []
    for node, in_layers, layer in _objects(config, False, None, 0, frozenset(policy["code_classes"])):
        problem = _problem(node, in_layers, layer, policy)
        if problem:
            found.append(finding("unsafe-artefact", f"{where}: {problem}", [path]))
    if len(found) > _MAX_FINDINGS:
        found = found[:_MAX_FINDINGS] + [finding("unsafe-artefact", f"{where}: and {len(found) - _MAX_FINDINGS} more objects outside Keras", [path])]
    return found


def _objects(value: Any, in_layers: bool, layer: str | None, depth: int, code: frozenset[str]) -> Iterator[tuple[dict, bool, str | None]]:
    """Every dict with a class_name, whether it is a layer (in a `layers` list), and the layer it sits in; not inside code objects."""
    if depth > 100:
        return
    if isinstance(value, dict):
        if isinstance(value.get("class_name"), str):
            yield value, in_layers, layer
            if value["class_name"] in code:
                return  # its function is its own finding's detail
            if in_layers:
                layer = _label(value)
        for key, item in value.items():
            yield from _objects(item, key == "layers", layer, depth + 1, code)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item, in_layers, layer, depth + 1, code)


def _label(node: dict) -> str:
    inner = node.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    return f"{name!r} ({node['class_name']})" if isinstance(name, str) else str(node["class_name"])


def _problem(node: dict, in_layers: bool, layer: str | None, policy: Any) -> str | None:
    cls = node["class_name"]
    inner = node.get("config")
    label = f"layer {_label(node)}" if in_layers or layer is None else f"{cls} object of layer {layer}"
    if cls in policy["code_classes"]:
        return f"{label} {policy['code_classes'][cls]}"
    module = node.get("module")
    if isinstance(module, str) and not _keras_module(module, policy["modules"]):
        detail = f".{inner}" if cls == "function" and isinstance(inner, str) else ""
        return f"{label} comes from module {module}{detail}, outside Keras: loading imports and runs it"
    registered = node.get("registered_name")
    if isinstance(registered, str) and registered not in (cls, "function") and not registered.startswith(tuple(policy["registered_prefixes"])):
        return f"{label} is the custom object {registered!r}: loading needs and runs its code"
    if cls in policy["op_layers"] and isinstance(inner, dict):
        function = str(inner.get("function", ""))
        if function.split(".", 1)[0] in policy["op_layer_denied"]:
            return f"{label} calls the TensorFlow function {function}, which reads, writes or runs code"
    if cls == "TensorFlowOpLayer" and isinstance(inner, dict):
        op = (inner.get("node_def") or {}).get("op") if isinstance(inner.get("node_def"), dict) else None
        dangerous = artefact_policy()["tensorflow"]["ops"]
        if op in dangerous:
            return f"{label} runs the TensorFlow op {op} ({dangerous[op]})"
    if in_layers and module is None and cls not in policy["layers"] and cls not in policy["data_tags"]:
        return f"{label} is not a Keras layer: loading needs and runs its code"
    return None


def _keras_module(module: str, allowed: list[str]) -> bool:
    return any(module == entry or (entry.endswith(".") and module.startswith(entry)) for entry in allowed)


def scan_keras(path: str, ranges: RangeReader) -> WeightScan:
    """A Keras 3 `.keras` zip: config.json checked; any pickle inside walked as in any zip."""
    try:
        listed = members(ranges)
    except ZipError as exc:
        return _result(path, "keras", ranges, [], [], {}, unreadable=[f"keras archive: {exc}"])
    findings: list[Finding] = []
    facts: dict[str, Any] = {"members": [m.name for m in listed][:100]}
    config_member = next((m for m in listed if m.name == "config.json"), None)
    if config_member is None:
        findings.append(finding("artefact-unscanned", f"{path}: no config.json in the archive", [path]))
    elif config_member.size > _MAX_CONFIG:
        findings.append(finding("artefact-unscanned", f"{path}: config.json of {config_member.size} bytes, over the {_MAX_CONFIG}-byte limit", [path]))
    else:
        try:
            config = json.loads(open_member(ranges, config_member).read(config_member.size))
            findings.extend(config_findings(path, f"{path} (config.json)", config))
            facts["model_class"] = config.get("class_name") if isinstance(config, dict) else None
        except (ZipError, ValueError, RecursionError) as exc:
            findings.append(finding("artefact-unscanned", f"{path}: config.json cannot be read: {exc}", [path]))
    return WeightScan(path, "keras", facts, tuple(findings), ranges.bytes_read, ranges.budget)


class _RangeFile(io.RawIOBase):
    """A read-only, seekable file over a RangeReader, for h5py."""

    def __init__(self, ranges: RangeReader):
        super().__init__()
        self._ranges = ranges
        self._at = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._ranges.size}[whence]
        self._at = max(0, base + offset)
        return self._at

    def tell(self) -> int:
        return self._at

    def readinto(self, buffer: Any) -> int:
        data = self._ranges.read(self._at, len(buffer))
        buffer[:len(data)] = data
        self._at += len(data)
        return len(data)


def scan_keras_h5(path: str, ranges: RangeReader) -> WeightScan:
    """A Keras HDF5 file (`.h5`): its root's `model_config` attribute checked like a .keras config."""
    import h5py  # HDF5's object headers, B-trees and heaps are a format of their own; h5py reads them

    findings: list[Finding] = []
    facts: dict[str, Any] = {}
    try:
        with h5py.File(_RangeFile(ranges), "r") as hdf:
            raw = hdf.attrs.get("model_config")
            facts["keras_version"] = _text(hdf.attrs.get("keras_version"))
    except OSError as exc:
        cause = exc.__cause__ or exc.__context__
        if cause is not None and type(cause).__name__ == "BudgetExceeded":
            raise cause from None
        return WeightScan(path, "keras-hdf5", {"unscanned": str(exc)}, (finding("artefact-unscanned", f"{path}: not a readable HDF5 file: {exc}", [path]),), ranges.bytes_read, ranges.budget)
    if raw is None:
        facts["model_config"] = False  # weights only (save_weights): nothing rebuilds from it
    else:
        try:
            config = json.loads(_text(raw) or "")
            findings.extend(config_findings(path, f"{path} (model_config)", config))
            facts["model_class"] = config.get("class_name") if isinstance(config, dict) else None
        except (ValueError, RecursionError) as exc:
            findings.append(finding("artefact-unscanned", f"{path}: model_config is not JSON: {exc}", [path]))
    return WeightScan(path, "keras-hdf5", facts, tuple(findings), ranges.bytes_read, ranges.budget)


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else (str(value) if value is not None else None)
