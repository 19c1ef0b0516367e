"""Which files carry a repository's licence-bearing state (licence_bearing.yaml)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Any

from auditor.sources.selection import rule_for
from auditor.yamlfile import load_yaml


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    return load_yaml(resources.files("auditor.history").joinpath("licence_bearing.yaml").read_text(encoding="utf-8"))


def licence_bearing(path: str) -> bool:
    """Whether a change to `path` can change the release's terms: the card, a licence or notice text, a lineage signal."""
    rule = rule_for(path)
    if rule is not None and rule.read in _table()["reads"]:
        return True
    name = PurePosixPath(path).name.lower()
    return any(fnmatchcase(name, glob) for glob in _table()["lineage"])
