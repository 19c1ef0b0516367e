"""Static scans of weight files through byte ranges: pickle imports, safetensors and GGUF headers.

`scan_weight_file` picks the scanner by extension (and, among pickle extensions, by magic
number: zip archive, raw pickle, or not a pickle at all) and reads only what it needs
through the given Reader, within a per-file byte budget it reports. Nothing here opens a
file, touches the network, or unpickles anything.
"""

from __future__ import annotations

from auditor.errors import SourceError
from auditor.findings import finding
from auditor.scan.base import RangeReader, Reader, WeightScan
from auditor.scan.gguf import check_gguf_licence, scan_gguf
from auditor.scan.pickled import scan_pickle_archive, scan_pickle_file
from auditor.scan.safetensors import scan_safetensors

__all__ = ["Reader", "WeightScan", "scan_weight_file", "unscanned", "check_gguf_licence", "PICKLE_EXTENSIONS", "DEFAULT_BUDGET"]

PICKLE_EXTENSIONS = frozenset({"bin", "pt", "pth", "ckpt", "pkl", "pickle", "joblib"})
# Plain archives are scanned only for the pickles they hold (a torch.load of a .zip runs them).
_ARCHIVE_EXTENSIONS = frozenset({"zip"})
DEFAULT_BUDGET = 1 << 20


def _format_for(path: str) -> str | None:
    ext = path.rsplit("/", 1)[-1].rpartition(".")[2].lower()
    if ext == "safetensors":
        return "safetensors"
    if ext == "gguf":
        return "gguf"
    if ext in PICKLE_EXTENSIONS:
        return "pickle"
    if ext in _ARCHIVE_EXTENSIONS:
        return "archive"
    return None


def scan_weight_file(path: str, size: int, read: Reader, budget: int = DEFAULT_BUDGET) -> WeightScan | None:
    """Scan one weight file; None when its format is none of safetensors, GGUF or pickle-based."""
    kind = _format_for(path)
    if kind is None:
        return None
    ranges = RangeReader(read, size, budget)
    try:
        if kind == "safetensors":
            return scan_safetensors(path, ranges)
        if kind == "gguf":
            return scan_gguf(path, ranges)
        if kind == "archive":
            return scan_pickle_archive(path, ranges)
        return scan_pickle_file(path, ranges, pickle_only=path.lower().endswith((".pkl", ".pickle", ".joblib")))
    except SourceError as exc:
        return _unscanned(path, kind, ranges, f"could not be read: {exc}", "pickle-unscanned")
    except Exception as exc:  # noqa: BLE001 - a hostile file must not stop the audit; it is reported instead
        return _unscanned(path, kind, ranges, f"the scanner failed: {type(exc).__name__}: {exc}")


def _unscanned(path: str, kind: str, ranges: RangeReader, reason: str, code: str = "pickle-unscannable") -> WeightScan:
    # A scan that could not finish says nothing about the file; only a pickle left unscanned is a risk.
    findings = (finding(code, f"{path}: {reason}", [path]),) if kind in ("pickle", "archive") else ()
    return WeightScan(path, kind, {"unscanned": reason}, findings, ranges.bytes_read, ranges.budget)


def unscanned(path: str, kind: str, reason: str, budget: int = DEFAULT_BUDGET) -> WeightScan:
    """The scan of a file whose content was not available (a Git LFS pointer, a read error):
    a `pickle-unscanned` finding for a pickle-based file, so no gate passes on it unread."""
    return _unscanned(path, kind, RangeReader(lambda start, length: b"", 0, budget), reason, "pickle-unscanned")
