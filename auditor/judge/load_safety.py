"""Whether the release's files are safe to load, from the weight scan's findings: the first lines
of a report and the exit code (every policy keeps that gate unless it waives it).

An error-severity finding of a code `findings.yaml` declares `artefact: true` (a pickle that
imports something unsafe, a malformed header, an archive that cannot be read) is a file not to
load. So is a file whose content is there and could not be checked (`unverified: true`: out of
the scan's budget, malformed, over the read cap), and a file the Hub's own scan flags unless
this audit's scan read it and found nothing at all: otherwise the Hub's word is the only
evidence, and it says unsafe. A pickle-based file that was not scanned (a pointer, scanning
turned off) is said as well, without failing anything on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.findings import declared
from auditor.model import AuditResult, Category, Finding, Severity

# the Hub's own scan: said on the first screen, its verdict is the Hub's, not ours
HUB_FLAG = "hub-security-scan"


@dataclass(frozen=True)
class LoadWarning:
    """One file to be careful with: `unsafe` when loading it would run code or break the loader."""

    path: str
    code: str
    reason: str
    unsafe: bool

    @property
    def line(self) -> str:
        """The sentence the first screen shows."""
        if self.unsafe:
            return f"Do not load {self.path}: {self.reason}"
        if self.code == HUB_FLAG:
            return f"The Hub's security scan flags {self.path}: {self.reason}"
        return f"Not checked for code that runs on load: {self.path} — {self.reason}"

    def to_dict(self) -> dict[str, str]:
        """The warning as the JSON verdict's `unsafe_to_load` / `load_unchecked` entries."""
        return {"path": self.path, "code": self.code, "reason": self.reason}


def is_artefact_code(code: str) -> bool:
    """Whether `code` is about a file's content being unsafe to load (findings.yaml `artefact: true`)."""
    return bool(declared().get(code, {}).get("artefact"))


def _reason(item: Finding, path: str) -> str:
    """The finding's message without the file name it starts with ("x.bin (data.pkl): loading would call ...")."""
    message = item.message
    if message.startswith(path):
        head, sep, rest = message.partition(": ")
        if sep and rest:
            return rest
    return message


def load_warnings(result: AuditResult) -> tuple[LoadWarning, ...]:
    """Every file the first screen warns about, files not to load first."""
    unsafe: list[LoadWarning] = []
    unchecked: list[LoadWarning] = []
    flagged: list[str] = []
    noted: set[str] = set()  # files this audit's own scan said something of
    for item in result.findings:
        if not is_artefact_code(item.code):
            continue
        paths = item.evidence or ("(unnamed file)",)
        if item.code == HUB_FLAG:
            flagged += paths
            continue
        noted.update(item.evidence)
        if item.severity is Severity.ERROR:
            unsafe.append(LoadWarning(paths[0], item.code, _reason(item, paths[0]), unsafe=True))
        elif declared().get(item.code, {}).get("unverified"):  # there, and not checked: not safe either
            unsafe.append(LoadWarning(paths[0], item.code, f"could not be scanned, so treat it as unsafe ({_reason(item, paths[0])})", unsafe=True))
        else:
            unchecked.append(LoadWarning(paths[0], item.code, _reason(item, paths[0]), unsafe=False))
    # the Hub's flag alone decides a file this audit did not clear: one it read with no artefact
    # finding of any severity (nothing unsafe, nothing left unread); beside ours it is a second opinion
    scanned = result.weight_scan.per_file if result.weight_scan is not None else {}
    cleared, ours = {path for path in scanned if path not in noted}, {warning.path for warning in unsafe}
    for path in flagged:
        if path in ours:
            unchecked.append(LoadWarning(path, HUB_FLAG, "this audit's scan finds it unsafe too", unsafe=False))
        elif path in cleared:
            unchecked.append(LoadWarning(path, HUB_FLAG, "this audit's scan found nothing in it that runs code on load; read the Hub's report before loading it", unsafe=False))
        else:
            unsafe.append(LoadWarning(path, HUB_FLAG, "the Hub's security scan flags it and this audit's scan did not clear it", unsafe=True))
    if result.weight_scan is None:  # scanning was turned off: say which files could run code
        unchecked += [LoadWarning(a.path, "weights-not-scanned", "weights not scanned: --scan-weights scans them", unsafe=False)
                      for a in result.artefacts if a.format == "pickle" and a.category in (Category.WEIGHTS, Category.OTHER)]
    seen: set[tuple[str, str]] = set()
    warnings = []
    for warning in unsafe + unchecked:
        key = (warning.path, "unsafe" if warning.unsafe else warning.code)  # one "do not load" per file: its first reason
        if key not in seen:
            seen.add(key)
            warnings.append(warning)
    return tuple(warnings)


def unsafe_to_load(result: AuditResult) -> tuple[LoadWarning, ...]:
    """The files not to load: any of them fails the run, unless the policy waives that gate."""
    return tuple(w for w in load_warnings(result) if w.unsafe)
