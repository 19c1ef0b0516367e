"""Output formats: one registry, OutputFormat, from which everything about a format derives.

Each member carries its name, the aliases `--format` also accepts, the file suffixes `-o`
recognises (the first is the one written by the Action) and its renderer as "module:Class",
imported only when used so `audit-model --version` never pays for renderers it does not use.
The CLI's `--format` choice, the `-o` suffix table and the Action's report file names are all
read from here; adding a format is adding one member and its renderer module.
"""

from __future__ import annotations

from enum import Enum
from importlib import import_module
from pathlib import PurePath
from typing import Any

from auditor.report.interface import Renderer

# `-o` suffixes kept for formats to come, refused with a message rather than guessed at.
RESERVED_SUFFIXES: dict[str, str] = {}


class OutputFormat(str, Enum):
    """A report format: its name (the value), aliases, file suffixes and renderer."""

    renderer_path: str  # "module:Class", imported only when the format is used
    suffixes: tuple[str, ...]
    aliases: tuple[str, ...]

    def __new__(cls, name: str, renderer: str, suffixes: tuple[str, ...], aliases: tuple[str, ...] = ()) -> OutputFormat:
        """A member from its row: name, "module:Renderer", file suffixes, other names."""
        member = str.__new__(cls, name)
        member._value_ = name
        member.renderer_path = renderer
        member.suffixes = suffixes
        member.aliases = aliases
        return member

    MARKDOWN = ("markdown", "auditor.report.markdown:MarkdownRenderer", (".md", ".markdown"), ("md",))
    JSON = ("json", "auditor.report.json_report:JsonRenderer", (".json",))
    SARIF = ("sarif", "auditor.report.sarif:SarifRenderer", (".sarif", ".sarif.json"))
    CYCLONEDX = ("cyclonedx", "auditor.report.cyclonedx:CycloneDxRenderer", (".cdx.json", ".bom.json"), ("cdx",))
    # written by a census (auditor.batch) from its stream of records, one per target
    JSONL = ("jsonl", "auditor.report.jsonl:JsonlRenderer", (".jsonl",))
    CSV = ("csv", "auditor.report.csv_report:CsvRenderer", (".csv",))

    @property
    def file_suffix(self) -> str:
        """The suffix of a report file written in this format, without the dot ("md", "cdx.json")."""
        return self.suffixes[0].lstrip(".")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every name `--format` accepts: the formats' names, then their aliases."""
        return tuple(f.value for f in cls) + tuple(alias for f in cls for alias in f.aliases)

    @classmethod
    def named(cls, name: str) -> OutputFormat:
        """The format a name or alias stands for; ValueError for an unknown one."""
        wanted = name.strip().lower()
        for member in cls:
            if wanted == member.value or wanted in member.aliases:
                return member
        raise ValueError(f"'{name}' is not one of {', '.join(cls.names())}")

    @classmethod
    def for_path(cls, path: str) -> OutputFormat | None:
        """The format a file name's suffix asks for (the longest suffix wins: `.sarif.json` is SARIF)."""
        name = PurePath(path).name.lower()
        # `bom.json` is CycloneDX's own conventional name, as `x.bom.json` is
        matches = [(len(suffix), member) for member in cls for suffix in member.suffixes
                   if name.endswith(suffix) or (suffix.count(".") > 1 and name == suffix[1:])]
        return max(matches, key=lambda match: match[0])[1] if matches else None

    def renderer(self, **options: Any) -> Renderer:
        """A fresh renderer of this format; `options` go to its constructor."""
        module, _, name = self.renderer_path.partition(":")
        return getattr(import_module(module), name)(**options)


def renderer_for(output_format: OutputFormat) -> Renderer:
    """The renderer of `output_format` (a member, or its name)."""
    return OutputFormat.named(output_format).renderer()
