"""The phrase rules of rules.yaml, read and compiled once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from auditor.yamlfile import load_yaml


@dataclass(frozen=True)
class Rules:
    """The matcher's tunable rules, read from rules.yaml."""

    notices: tuple[tuple[str, re.Pattern], ...]
    reference_cues: re.Pattern
    name_window: int
    pointer_cues: re.Pattern
    pointer_targets: re.Pattern
    short_words: int
    optional_tail_after: tuple[tuple[str, ...], ...]
    minor_words: int
    significant: frozenset[str]
    date_words: frozenset[str]


@lru_cache(maxsize=1)
def rules() -> Rules:
    """The matcher's rules (rules.yaml), read once."""
    raw = load_yaml(resources.files("auditor.identify").joinpath("rules.yaml").read_text(encoding="utf-8"))
    return Rules(
        notices=tuple((n["id"], re.compile(n["pattern"])) for n in raw["notices"]),
        reference_cues=re.compile(raw["reference_cues"]),
        name_window=int(raw["name_window"]),
        pointer_cues=re.compile(raw["pointer_cues"]),
        pointer_targets=re.compile(raw["pointer_targets"]),
        short_words=int(raw["short_words"]),
        optional_tail_after=tuple(tuple(p.split()) for p in raw["optional_tail_after"]),
        minor_words=int(raw["minor_words"]),
        significant=frozenset(raw["significant"]),
        date_words=frozenset(raw["date_words"]),
    )
