"""The judge's rule tables: YAML files beside its modules, read once."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any


@cache
def rule_table(name: str) -> Any:
    """The parsed auditor/judge/<name> (e.g. "duties.yaml")."""
    import yaml

    return yaml.safe_load(resources.files("auditor.judge").joinpath(name).read_text(encoding="utf-8"))
