"""The pickle allowlist (pickle_allowlist.yaml) and the findings for imports outside it.

The allowlist names exactly the imports PyTorch and NumPy weights need; everything else a
pickle imports is an `unsafe-pickle` finding naming module.callable, with what the callable
is known to be able to do when the data file says so.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import yaml

from auditor.findings import finding
from auditor.model import Finding, Severity


@lru_cache(maxsize=1)
def allowlist() -> Mapping[str, Any]:
    text = resources.files("auditor.scan").joinpath("pickle_allowlist.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    allowed = {f"{module}.{name}" for module, names in data["allowed"].items() for name in names}
    return {
        "allowed": frozenset(allowed),
        "tensor_rebuilders": frozenset(data["tensor_rebuilders"]),
        "known_dangerous": data["known_dangerous"],
        "torchscript_classes": data["torchscript_classes"],
    }


def import_findings(path: str, where: str, imports: Mapping[str, bool], torchscript: bool = False) -> list[Finding]:
    """One `unsafe-pickle` finding per import outside the allowlist, naming module.callable.

    In a TorchScript archive, `__torch__.*` names are the archive's own compiled classes,
    resolved by torch.jit from its code/ folder rather than imported from Python.
    """
    rules = allowlist()
    found = []
    for name, called in imports.items():
        if name in rules["allowed"] or (torchscript and name.startswith(rules["torchscript_classes"])):
            continue
        verb = "call" if called else "import"
        risk = _danger(name, rules["known_dangerous"])
        message = f"{where}: loading would {verb} {name}" + (f" ({risk})" if risk else ", which is outside the allowlist")
        # A callable known to run commands or code is an error; any other unlisted import (a
        # library's own class, as in transformers' training_args.bin) still runs that library's
        # code on load, but is a warning to review, not proof of an attack.
        found.append(finding("unsafe-pickle", message, [path], severity=None if risk else Severity.WARNING))
    return found


def _danger(name: str, known: Mapping[str, str]) -> str | None:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        risk = known.get(".".join(parts[:cut]))
        if risk:
            return risk
    return None
