"""A strict grammar of the Mermaid diagrams the reports draw, after Mermaid's own documentation
(https://mermaid.js.org/syntax/pie.html, /xyChart.html, /flowchart.html, /timeline.html): pie
charts, xychart bar charts, flowcharts of quoted-label nodes and labelled edges, and timelines
of periods and their events (bench/mermaid_check.py holds the charts against mermaid.parse).

`blocks(markdown)` finds the ```mermaid blocks; `parse(block)` checks one diagram line by line and
returns what it declares, raising `MermaidSyntaxError` at the first line the grammar refuses.
It accepts a subset of Mermaid, never more: a diagram it accepts is one Mermaid parses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# a quoted string: no double quote inside (Mermaid has no escape for it); in graph labels the
# only markup is an entity code (#35; or #quot;) and the line break <br/>
_STRING = r'"[^"\n]*"'
_NUMBER = r"-?\d+(?:\.\d+)?"
_ENTITY = re.compile(r"#(?:\d+|[a-z]+);")
_ID = r"[A-Za-z][A-Za-z0-9_]*"
_DIRECTIONS = {"TD", "TB", "BT", "LR", "RL"}
_RESERVED_IDS = {"end", "graph", "subgraph", "style", "class", "click", "linkStyle", "classDef", "flowchart"}


class MermaidSyntaxError(ValueError):
    """A line the grammar does not accept."""


@dataclass
class Diagram:
    kind: str
    title: str | None = None
    slices: list[tuple[str, float]] = field(default_factory=list)  # pie
    categories: list[str] = field(default_factory=list)  # xychart
    bars: list[float] = field(default_factory=list)
    nodes: dict[str, str] = field(default_factory=dict)  # flowchart: id -> label (entity codes decoded)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from, label, to)
    periods: list[tuple[str, list[str]]] = field(default_factory=list)  # timeline: (period, its events)


def blocks(markdown: str) -> list[str]:
    """The bodies of the ```mermaid fenced blocks of `markdown`; an unclosed block is an error."""
    found, current = [], None
    for line in markdown.splitlines():
        if current is None:
            if line.strip() == "```mermaid":
                current = []
        elif line.strip() == "```":
            found.append("\n".join(current))
            current = None
        else:
            if "```" in line:
                raise MermaidSyntaxError(f"a fence inside a diagram: {line!r}")
            current.append(line)
    if current is not None:
        raise MermaidSyntaxError("a mermaid block is never closed")
    return found


def _unquote(text: str, graph: bool, may_be_empty: bool = False) -> str:
    inner = text[1:-1]
    if not inner and not may_be_empty:  # mermaid.parse refuses "" as a node or edge label, title or category
        raise MermaidSyntaxError(f"an empty quoted string: {text!r}")
    if graph:
        rest = _ENTITY.sub("", inner.replace("<br/>", ""))
        if any(c in rest for c in "<>&#`"):
            raise MermaidSyntaxError(f"raw markup in a graph label: {text!r}")
        return _ENTITY.sub(lambda m: chr(int(m.group()[1:-1])) if m.group()[1].isdigit() else "?", inner)
    if any(c in inner for c in "<>`"):
        raise MermaidSyntaxError(f"raw markup in a chart string: {text!r}")
    return inner


def parse(block: str) -> Diagram:
    """Check one diagram and return what it declares."""
    lines = [line for line in block.splitlines() if line.strip() and not line.strip().startswith("%%")]
    if not lines:
        raise MermaidSyntaxError("an empty diagram")
    head = lines[0].strip()
    if head.startswith("pie"):
        return _pie(head, lines[1:])
    if head == "xychart-beta":
        return _xychart(lines[1:])
    if head == "timeline":
        return _timeline(lines[1:])
    words = head.split()
    if words[0] in ("graph", "flowchart") and len(words) == 2 and words[1] in _DIRECTIONS:
        return _flowchart(lines[1:])
    raise MermaidSyntaxError(f"not a diagram this grammar knows: {head!r}")


def _pie(head: str, body: list[str]) -> Diagram:
    match = re.fullmatch(r"pie(?: showData)?(?: title ([^\n\"]+))?", head)
    if not match:
        raise MermaidSyntaxError(f"bad pie header: {head!r}")
    diagram = Diagram("pie", title=match.group(1))
    for line in body:
        slice_ = re.fullmatch(rf"\s*({_STRING})\s*:\s*({_NUMBER})\s*", line)
        if not slice_:
            raise MermaidSyntaxError(f"bad pie slice: {line!r}")
        value = float(slice_.group(2))
        if value <= 0:
            raise MermaidSyntaxError(f"a pie slice must be positive: {line!r}")
        diagram.slices.append((_unquote(slice_.group(1), graph=False, may_be_empty=True), value))
    if not diagram.slices:
        raise MermaidSyntaxError("a pie without slices")
    return diagram


def _xychart(body: list[str]) -> Diagram:
    diagram = Diagram("xychart")
    y_range: tuple[float, float] | None = None
    for line in body:
        text = line.strip()
        if m := re.fullmatch(rf"title ({_STRING})", text):
            diagram.title = _unquote(m.group(1), graph=False)
        elif m := re.fullmatch(rf"x-axis(?: {_STRING})? \[((?:{_STRING})(?:\s*,\s*{_STRING})*)\]", text):
            diagram.categories = [_unquote(s, graph=False) for s in re.findall(_STRING, m.group(1))]
        elif m := re.fullmatch(rf"y-axis(?: {_STRING})? ({_NUMBER}) --> ({_NUMBER})", text):
            y_range = (float(m.group(1)), float(m.group(2)))
        elif m := re.fullmatch(rf"(?:bar|line) \[({_NUMBER}(?:\s*,\s*{_NUMBER})*)\]", text):
            diagram.bars = [float(v) for v in re.split(r"\s*,\s*", m.group(1))]
        else:
            raise MermaidSyntaxError(f"bad xychart line: {line!r}")
    if len(diagram.bars) != len(diagram.categories) or not diagram.bars:
        raise MermaidSyntaxError(f"{len(diagram.bars)} bars for {len(diagram.categories)} categories")
    if y_range is not None and not (y_range[0] <= min(diagram.bars) and max(diagram.bars) <= y_range[1]):
        raise MermaidSyntaxError(f"bars outside the y-axis range {y_range}")
    return diagram


def _flowchart(body: list[str]) -> Diagram:
    diagram = Diagram("flowchart")
    for line in body:
        text = line.strip()
        if m := re.fullmatch(rf"({_ID})\[({_STRING})\]", text):
            node, label = m.groups()
            if node in _RESERVED_IDS or node in diagram.nodes:
                raise MermaidSyntaxError(f"node id reserved or declared twice: {line!r}")
            diagram.nodes[node] = _unquote(label, graph=True)
        elif m := re.fullmatch(rf"({_ID}) -->\|({_STRING})\| ({_ID})", text):
            start, label, end = m.groups()
            for node in (start, end):
                if node not in diagram.nodes:
                    raise MermaidSyntaxError(f"edge to an undeclared node {node}: {line!r}")
            diagram.edges.append((start, _unquote(label, graph=True), end))
        else:
            raise MermaidSyntaxError(f"bad flowchart line: {line!r}")
    return diagram


def _timeline(body: list[str]) -> Diagram:
    """`title T`, `section S`, or `period : event : event ...`: Mermaid splits an event line at every
    colon, so a label holding one becomes an event of its own; no part may be empty."""
    diagram = Diagram("timeline")
    for line in body:
        text = line.strip()
        if m := re.fullmatch(r"(title|section) ([^:\n]+)", text):
            if m.group(1) == "title":
                diagram.title = m.group(2)
        elif ":" in text:
            period, *events = (part.strip() for part in text.split(":"))
            if not period or not all(events) or any(c in text for c in "#;`<>"):
                raise MermaidSyntaxError(f"bad timeline event line: {line!r}")
            diagram.periods.append((period, events))
        else:
            raise MermaidSyntaxError(f"bad timeline line: {line!r}")
    if not diagram.periods:
        raise MermaidSyntaxError("a timeline without periods")
    return diagram
