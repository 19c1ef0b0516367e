"""The pickle policy (pickle_allowlist.yaml) and the findings for imports outside its benign list.

The policy is inverted: a weights pickle may import what tensors, containers and common
training metadata need, and nothing else. Every other import is an `unsafe-pickle` error
naming module.callable, saying what the callable is known to do when the data file knows
(matched anywhere in its dotted path, so `pathlib.os.system` is os.system), and "not a tensor
or container type" otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from functools import lru_cache
from importlib import resources
from typing import Any

from auditor.findings import finding
from auditor.model import Finding
from auditor.yamlfile import load_yaml

NOT_BENIGN = "not a tensor or container type"
UNKNOWABLE = "named only when loaded, so it may be any callable"


@lru_cache(maxsize=1)
def allowlist() -> Mapping[str, Any]:
    """The policy data: benign names and patterns, dangerous names with reasons, tensor rebuilders."""
    text = resources.files("auditor.scan").joinpath("pickle_allowlist.yaml").read_text(encoding="utf-8")
    data = load_yaml(text)
    benign = {f"{module}.{name}" for module, names in data["benign"].items() for name in names}
    return {
        "benign": frozenset(benign),
        "benign_patterns": tuple(tuple(pattern.split(".")) for pattern in data["benign_patterns"]),
        "tensor_rebuilders": frozenset(data["tensor_rebuilders"]),
        "dangerous": data["dangerous"],
        "torchscript_classes": data["torchscript_classes"],
    }


def danger(name: str) -> str | None:
    """What the named callable is known to do, when any run of its dotted parts is a dangerous entry."""
    known = allowlist()["dangerous"]
    parts = name.split(".")
    for start in range(len(parts)):
        for end in range(len(parts), start, -1):
            risk = known.get(".".join(parts[start:end]))
            if risk:
                return risk
    return None


def is_benign(name: str) -> bool:
    """Whether tensors, containers or common training metadata need this import."""
    rules = allowlist()
    if name in rules["benign"]:
        return True
    if danger(name):
        return False
    parts = name.split(".")
    return any(len(pattern) == len(parts) and all(map(fnmatchcase, parts, pattern)) for pattern in rules["benign_patterns"])


def _publisher_class(name: str) -> bool:
    """A class the saving script defined (`__main__.MyModel`): the loader must supply it, so the
    pickle cannot run it by itself. Functions and dotted reaches from __main__ (which can resolve
    to anything the loading script imported) stay errors."""
    module, _, attr = name.partition(".")
    return module == "__main__" and attr.isidentifier() and attr[:1].isupper() and not danger(attr)


def import_findings(path: str, where: str, imports: Mapping[str, bool], torchscript: bool = False) -> list[Finding]:
    """One `unsafe-pickle` error per import that is not benign, naming module.callable and why;
    a class of the publisher's `__main__` is a `pickle-needs-code` warning instead.

    In a TorchScript archive, `__torch__.*` names are the archive's own compiled classes,
    resolved by torch.jit from its code/ folder rather than imported from Python.
    """
    rules = allowlist()
    found = []
    for name, called in imports.items():
        if is_benign(name) or (torchscript and name.startswith(rules["torchscript_classes"])):
            continue
        if _publisher_class(name):
            found.append(finding("pickle-needs-code", f"{where}: loading needs {name}, a class of the publisher's own script: it needs the publisher's code to load", [path]))
            continue
        verb = "call" if called else "import"
        reason = danger(name) or (UNKNOWABLE if name.startswith("<") else NOT_BENIGN)
        found.append(finding("unsafe-pickle", f"{where}: loading would {verb} {name} ({reason})", [path]))
    return found
