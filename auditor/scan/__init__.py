"""Static scans of model files through byte ranges: pickles, archives, numpy, Keras, TensorFlow, ONNX, headers.

One table decides what is scanned: the classifier's format for a file (artefact_rules.yaml)
names its scanner in `SCANNERS`, and where a file's first bytes carry a signature (`sniff`:
zip, 7z, tar, gzip, bz2, xz, zlib, numpy, HDF5, GGUF, pickle) that content format chooses
instead, since names lie. Archive members are scanned through the same table, by their own
names and bytes. Every scanner reads through the given Reader within a per-file byte budget
it reports; a format that must be read whole (7z, compressed joblib) is read only up to
`WHOLE_READ_CAP`, and above it is `artefact-unscanned`. Nothing here opens a file, touches
the network, or unpickles anything.
"""

from __future__ import annotations

from collections.abc import Callable

from auditor.classify.classifier import rule_for, rules
from auditor.errors import SourceError
from auditor.findings import finding
from auditor.scan.archives import scan_7z
from auditor.scan.base import BudgetExceeded, RangeReader, Reader, Stream, WeightScan
from auditor.scan.chat_template import chat_template_findings
from auditor.scan.compressed import scan_compressed
from auditor.scan.gguf import check_gguf_licence, scan_gguf
from auditor.scan.keras import scan_keras, scan_keras_h5
from auditor.scan.numpy_files import scan_numpy
from auditor.scan.pickled import scan_pickle_archive, scan_pickle_file, scan_pickle_stream, scan_tar
from auditor.scan.protobuf import scan_onnx, scan_tensorflow
from auditor.scan.safetensors import scan_safetensors
from auditor.scan.sniff import HEAD, sniff

__all__ = ["Reader", "WeightScan", "scan_weight_file", "unscanned", "check_gguf_licence", "SCANNERS", "DEFAULT_BUDGET", "scanned_format", "code_file_globs", "CODE_FORMATS"]

DEFAULT_BUDGET = 1 << 20
WHOLE_READ_CAP = 64 << 20  # a file that must be read whole is read only up to this size
PROTOBUF_BUDGET = 16 << 20  # a graph's structure (its tensors' bytes are skipped) may run to megabytes
_MAX_DEPTH = 3  # archives inside archives followed this deep

Scanner = Callable[[str, RangeReader, int], "WeightScan | None"]


def _member_scanner(depth: int, sniff_unknown: bool = True) -> Callable[[str, str, RangeReader], WeightScan | None]:
    """Scans an archive member through the same table; `sniff_unknown` also looks at members whose names say nothing."""
    def scan_member(where: str, name: str, ranges: RangeReader) -> WeightScan | None:
        name_format = rule_for(name).format
        if depth >= _MAX_DEPTH or (name_format not in SCANNERS and not sniff_unknown):
            return None
        return _scan(where, name_format, name, ranges, depth + 1)
    return scan_member


def _pickle(path: str, ranges: RangeReader, depth: int) -> WeightScan | None:
    # A checkpoint's own members (version, byteorder, TorchScript code) are not files to sniff: a read each, for nothing.
    return scan_pickle_file(path, ranges, pickle_only=path.lower().endswith((".pkl", ".pickle", ".joblib")), scan_member=_member_scanner(depth, sniff_unknown=False))


def _zip(path: str, ranges: RangeReader, depth: int) -> WeightScan | None:
    return scan_pickle_archive(path, ranges, _member_scanner(depth))


def _tar(path: str, ranges: RangeReader, depth: int) -> WeightScan | None:
    return scan_tar(path, ranges, _member_scanner(depth))


def _sevenzip(path: str, ranges: RangeReader, depth: int) -> WeightScan | None:
    return scan_7z(path, ranges, _member_scanner(depth))


def _compressed(kind: str) -> Scanner:
    def scan(path: str, ranges: RangeReader, depth: int) -> WeightScan | None:
        def pickles(where: str, fmt: str, stream: Stream) -> WeightScan:
            return scan_pickle_stream(where, fmt, stream, ranges)

        def inner(where: str, data: RangeReader) -> WeightScan | None:
            return _scan(where, None, where, data, depth + 1) if depth < _MAX_DEPTH else None
        return scan_compressed(path, ranges, kind, pickles, inner)
    return scan


def _gguf(path: str, ranges: RangeReader, depth: int) -> WeightScan:
    """A GGUF header, and the chat templates among its metadata (tokenizer.chat_template, and named ones after it)."""
    scan = scan_gguf(path, ranges)
    metadata = scan.facts.get("metadata") or {}
    templates = {key: value for key, value in metadata.items() if key.startswith("tokenizer.chat_template") and isinstance(value, str)}
    found = [f for key, template in sorted(templates.items()) for f in chat_template_findings(path, template, key)]
    if not found:
        return scan
    return WeightScan(scan.path, scan.format, scan.facts, (*scan.findings, *found), scan.bytes_read, scan.budget)


def _plain(scanner: Callable[[str, RangeReader], WeightScan | None]) -> Scanner:
    return lambda path, ranges, depth: scanner(path, ranges)


# The classifier's format (artefact_rules.yaml) -> the scanner that reads files of it.
SCANNERS: dict[str, Scanner] = {
    "safetensors": _plain(scan_safetensors),
    "gguf": _gguf,
    "pickle": _pickle,  # a raw pickle, a PyTorch zip or legacy tar checkpoint, a joblib dump
    "numpy": _plain(scan_numpy),  # .npy, or .npz (a zip of .npy)
    "zip": _zip,
    "torchserve": _zip,
    "keras": _plain(scan_keras),
    "keras-hdf5": _plain(scan_keras_h5),
    "tensorflow": _plain(scan_tensorflow),
    "onnx": _plain(scan_onnx),
    "tar": _tar,
    "nemo": _tar,
    "7z": _sevenzip,
    **{kind: _compressed(kind) for kind in ("gzip", "bz2", "xz", "zlib", "lzma")},
}
# A content signature -> the format whose scanner reads it, when the name's format says otherwise.
_BY_CONTENT = {"zip": "zip", "7z": "7z", "tar": "tar", "numpy": "numpy", "hdf5": "keras-hdf5", "gguf": "gguf", "pickle": "pickle",
               **{kind: kind for kind in ("gzip", "bz2", "xz", "zlib", "lzma")}}
# Name formats that read a zip (or tar) signature themselves.
_READS_ZIP = frozenset({"pickle", "numpy", "keras", "torchserve", "zip"})
_READS_TAR = frozenset({"pickle", "nemo", "tar"})
# Formats whose content must be read whole, hence only up to WHOLE_READ_CAP.
_WHOLE = frozenset({"7z", "gzip", "bz2", "xz", "zlib", "lzma"})
# Formats that only describe tensors: a scan that cannot finish is no risk.
_HEADER_ONLY = frozenset({"safetensors", "gguf"})
# The classifier's formats whose files can run code (or reach the file system) when loaded.
CODE_FORMATS = frozenset(SCANNERS) - _HEADER_ONLY


def code_file_globs() -> tuple[str, ...]:
    """The file-name globs (`*.pt`) of the classifier's rows whose files can run code when loaded: what a CI job must fetch."""
    return tuple(sorted({
        rule.pattern for rule in rules() if not rule.on_path and rule.pattern.startswith("*.") and rule.format in CODE_FORMATS
    }))


def scanned_format(name_format: str | None, content: str | None) -> str | None:
    """Which scanner (a key of SCANNERS) reads a file of this name format and content signature."""
    if name_format in _HEADER_ONLY:
        return name_format  # their loaders reject anything else, and their header checks say so
    if content is None:
        return name_format if name_format in SCANNERS else None
    if (content == "zip" and name_format in _READS_ZIP) or (content == "tar" and name_format in _READS_TAR):
        return name_format
    return _BY_CONTENT.get(content)


def scan_weight_file(path: str, size: int, read: Reader, budget: int = DEFAULT_BUDGET, format: str | None = None) -> WeightScan | None:
    """Scan one file by its format (the classifier's, from its name, unless given) and its signature; None when nothing reads it."""
    ranges = RangeReader(read, size, budget)
    name_format = format if format is not None else rule_for(path).format
    try:
        return _scan(path, name_format, path, ranges, 0)
    except SourceError as exc:
        return _unscanned(path, name_format or "", ranges, f"could not be read: {exc}", "pickle-unscanned")


def _scan(path: str, name_format: str | None, name: str, ranges: RangeReader, depth: int) -> WeightScan | None:
    kind = name_format
    try:
        want = min(ranges.size, HEAD if name_format not in SCANNERS else max(HEAD, min(64 * 1024, ranges.remaining())))
        kind = scanned_format(name_format, sniff(ranges.read(0, want)))
        if kind is None:
            return None
        if kind in _WHOLE:
            if ranges.size > WHOLE_READ_CAP:
                return _unscanned(path, kind, ranges, f"a {kind} file of {ranges.size} bytes must be read whole to be scanned, over the {WHOLE_READ_CAP}-byte cap", "artefact-unscanned")
            ranges.budget = max(ranges.budget, ranges.size + HEAD)
        elif kind in ("tensorflow", "onnx"):
            ranges.budget = max(ranges.budget, PROTOBUF_BUDGET)
        scan = SCANNERS[kind](path, ranges, depth)
        if scan is not None and kind == "7z" and name_format == "pickle" and not any(f.code == "artefact-repacked" for f in scan.findings):
            repacked = finding("artefact-repacked", f"{path}: a checkpoint named for PyTorch packed with 7z, which torch.load cannot read: it was repacked on purpose", [path])
            scan = WeightScan(scan.path, scan.format, scan.facts, (repacked, *scan.findings), scan.bytes_read, scan.budget)
        return scan
    except SourceError:
        raise
    except BudgetExceeded as exc:
        return _unscanned(path, kind or "", ranges, str(exc))
    except Exception as exc:  # noqa: BLE001 - a hostile file must not stop the audit; it is reported instead
        return _unscanned(path, kind or "", ranges, f"the scanner failed: {type(exc).__name__}: {exc}")


def _unscanned(path: str, kind: str, ranges: RangeReader, reason: str, code: str = "pickle-unscannable") -> WeightScan:
    # A scan that could not finish says nothing about the file; only a format that can run code left unscanned is a risk.
    if kind in _HEADER_ONLY:
        findings: tuple = ()
    elif kind in ("pickle", "zip") or code == "pickle-unscanned":
        findings = (finding(code, f"{path}: {reason}", [path]),)
    else:
        findings = (finding("artefact-unscanned", f"{path}: {reason}", [path]),)
    return WeightScan(path, kind, {"unscanned": reason}, findings, ranges.bytes_read, ranges.budget)


def unscanned(path: str, kind: str, reason: str, budget: int = DEFAULT_BUDGET) -> WeightScan:
    """The scan of a file whose content was not available (a Git LFS pointer, a read error):
    a `pickle-unscanned` finding for a file that can run code, so no gate passes on it unread."""
    return _unscanned(path, kind, RangeReader(lambda start, length: b"", 0, budget), reason, "pickle-unscanned")
