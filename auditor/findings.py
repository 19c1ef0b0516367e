"""Finding codes, declared once in findings.yaml, and the one way to make a Finding.

A code that is not declared is a programming error, so `finding()` raises KeyError on it
rather than inventing a severity.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from auditor.model import Finding, Severity
from auditor.yamlfile import load_yaml


@lru_cache(maxsize=1)
def declared() -> Mapping[str, Mapping[str, str]]:
    """Code -> {severity, title, help}."""
    text = resources.files("auditor").joinpath("findings.yaml").read_text(encoding="utf-8")
    return load_yaml(text)


def finding(code: str, message: str, evidence: tuple[str, ...] | list[str] = (), severity: Severity | None = None) -> Finding:
    """A Finding with the code's declared severity unless one is given."""
    spec = declared()[code]
    return Finding(
        severity=severity or Severity(spec["severity"]),
        code=code,
        message=message,
        evidence=tuple(evidence),
    )
