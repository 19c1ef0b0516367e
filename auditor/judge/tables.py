"""The judge's rule tables: YAML files beside its modules, read once."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from auditor.yamlfile import load_yaml


@cache
def rule_table(name: str) -> Any:
    """The parsed auditor/judge/<name> (e.g. "duties.yaml")."""

    return load_yaml(resources.files("auditor.judge").joinpath(name).read_text(encoding="utf-8"))
