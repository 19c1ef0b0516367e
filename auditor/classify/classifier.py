"""Give every file of a snapshot one category, and group weights into sets.

Pure: works on the file list only (names and sizes); the rules are the ordered table in
artefact_rules.yaml, and each artefact records the row that classified it.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from auditor.model import Artefact, Category, FileEntry, WeightSet
from auditor.yamlfile import load_yaml


@dataclass(frozen=True)
class Rule:
    """One row of artefact_rules.yaml: a file-name pattern and the category and format it gives."""

    pattern: str
    on_path: bool
    category: Category
    format: str | None
    example: str

    def matches(self, path: str) -> bool:
        """Whether `path` (or its base name) matches the rule's pattern, case ignored."""
        subject = path if self.on_path else posixpath.basename(path)
        return fnmatch.fnmatchcase(subject.lower(), self.pattern.lower())

    @property
    def reason(self) -> str:
        """Why a file got this rule's category, for the report."""
        return f"{'path' if self.on_path else 'name'} matches {self.pattern}"


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """The artefact rules in the order they are tried (artefact_rules.yaml)."""
    text = resources.files("auditor.classify").joinpath("artefact_rules.yaml").read_text(encoding="utf-8")
    rows = load_yaml(text)["rules"]
    return tuple(
        Rule(
            pattern=row.get("path") or row["name"],
            on_path="path" in row,
            category=Category(row["category"]),
            format=row.get("format"),
            example=row["example"],
        )
        for row in rows
    )


@lru_cache(maxsize=4096)  # a census lists the same names (README.md, config.json, model-00001-of-00002.safetensors) in repo after repo
def rule_for(path: str) -> Rule:
    """The first rule `path` matches (the catch-all last)."""
    for rule in rules():
        if rule.matches(path):
            return rule
    raise LookupError(path)  # unreachable: the table ends with a catch-all row


def classify_file(entry: FileEntry) -> Artefact:
    """One listed file as an artefact: its category, format and the rule that says so."""
    rule = rule_for(entry.path)
    return Artefact(
        path=entry.path,
        category=rule.category,
        format=rule.format,
        size=entry.size,
        reason=rule.reason,
        lfs=entry.lfs,
    )


def classify(files: Iterable[FileEntry]) -> tuple[Artefact, ...]:
    """Stage entry point: every listed file as a classified artefact, in listing order."""
    return tuple(classify_file(entry) for entry in files)


# `model-00001-of-00004.safetensors` -> stem `model`, ext `safetensors`
_SHARD = re.compile(r"^(?P<stem>.+?)[-_](?P<index>\d{2,6})-of-(?P<count>\d{2,6})(?P<ext>\.[^/]+)?$")
_ADAPTER = re.compile(r"adapter|lora", re.I)


def _set_key(path: str) -> tuple[str, str]:
    """(set name, shard-less file name) for grouping: shards and ONNX external data join their set."""
    folder, name = posixpath.split(path)
    shard = _SHARD.match(name)
    if shard:
        name = shard.group("stem") + (shard.group("ext") or "")
    for suffix in (".onnx_data", ".onnx.data"):
        if name.endswith(suffix):
            name = name[: -len(suffix)] + ".onnx"
    return posixpath.join(folder, name), name


def group_weights(artefacts: Iterable[Artefact]) -> tuple[WeightSet, ...]:
    """Weights that belong together, with their index file and total size."""
    artefacts = tuple(artefacts)
    groups: dict[str, list[Artefact]] = {}
    for artefact in artefacts:
        if artefact.category is Category.WEIGHTS:
            groups.setdefault(_set_key(artefact.path)[0], []).append(artefact)
    indexes = {a.path: a for a in artefacts if a.format == "weights-index"}
    folders_with_adapter_config = {
        posixpath.dirname(a.path) for a in artefacts if posixpath.basename(a.path) == "adapter_config.json"
    }
    sets = []
    for name, members in groups.items():
        members.sort(key=lambda a: a.path)
        index = name + ".index.json"
        sets.append(
            WeightSet(
                name=name,
                format=members[0].format or "unknown",
                files=tuple(a.path for a in members),
                total_size=sum(a.size for a in members),
                index=index if index in indexes else None,
                adapter=bool(_ADAPTER.search(posixpath.basename(name)))
                or posixpath.dirname(name) in folders_with_adapter_config,
            )
        )
    return tuple(sorted(sets, key=lambda s: s.name))
