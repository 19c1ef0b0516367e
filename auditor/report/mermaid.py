"""Mermaid charts for markdown reports: pies, bar charts and the lineage graph, which GitHub draws.

Every label may come from a repository (licence names, repo ids), so none reaches a chart as
written: a label keeps letters, digits and a few plain punctuation marks, and every other
character becomes Mermaid's entity code (`#35;`) in graphs, or a space in charts, whose quoted
strings take no entities. Labels are bounded in length, so no text can close the fenced block,
end a quoted string or inject a directive; a label left empty is "?" (Mermaid refuses an empty
quoted label in graphs and bar charts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from auditor.model import Ancestor

_PLAIN = re.compile(r"[A-Za-z0-9 .,:;_+\-/()@]")
_MAX_LABEL = 60
_FENCE = "```"


def graph_label(text: str) -> str:
    """`text` as the inside of a quoted graph label: plain characters kept, the rest as entity codes
    (an empty label, which Mermaid refuses, as "?")."""
    return "".join(c if _PLAIN.fullmatch(c) else f"#{ord(c)};" for c in _bounded(text)) or "?"


def chart_label(text: str) -> str:
    """`text` as the inside of a quoted chart string: plain characters kept, the rest as spaces."""
    cleaned = "".join(c if _PLAIN.fullmatch(c) else " " for c in _bounded(text))
    return " ".join(cleaned.split()) or "?"


def _bounded(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 3] + "..."


def fenced(lines: Iterable[str]) -> list[str]:
    """A chart's lines inside the ```mermaid block GitHub draws."""
    return [_FENCE + "mermaid", *lines, _FENCE]


def pie(title: str, slices: Sequence[tuple[str, int]]) -> list[str]:
    """A pie chart of named counts (slices of zero are left out)."""
    lines = [f"pie showData title {chart_label(title)}"]
    lines += [f'    "{chart_label(name)}" : {count}' for name, count in slices if count > 0]
    return fenced(lines)


def bar_chart(title: str, axis: str, bars: Sequence[tuple[str, int]]) -> list[str]:
    """A vertical bar chart (Mermaid's xychart) of named counts."""
    names = ", ".join(f'"{chart_label(name)}"' for name, _ in bars)
    top = max((count for _, count in bars), default=0)
    return fenced([
        "xychart-beta",
        f'    title "{chart_label(title)}"',
        f"    x-axis [{names}]",
        f'    y-axis "{chart_label(axis)}" 0 --> {max(top, 1)}',
        f"    bar [{', '.join(str(count) for _, count in bars)}]",
    ])


def lineage_graph(release: str, release_licences: Sequence[str], lineage: Sequence[Ancestor]) -> list[str]:
    """The chain of ancestors as a graph: each ancestor -> how its child derives from it -> the child,
    every node with its licences."""
    nodes: dict[str, str] = {}

    def node(repo_id: str, licences: Sequence[str], status: str | None = None) -> str:
        if repo_id not in nodes:
            nodes[repo_id] = f"n{len(nodes)}"
            held = ", ".join(licences) or "no licence found"
            if status and status != "checked":
                held += f" ({status})"
            lines.append(f'    {nodes[repo_id]}["{graph_label(repo_id)}<br/>{graph_label(held)}"]')
        return nodes[repo_id]

    lines = ["graph TD"]
    node(release, release_licences)
    for ancestor in lineage:
        node(ancestor.repo_id, ancestor.licences, ancestor.status.value)
    for ancestor in lineage:
        child = node(ancestor.child, ())
        lines.append(f'    {nodes[ancestor.repo_id]} -->|"{graph_label(ancestor.relation)}"| {child}')
    return fenced(lines)
