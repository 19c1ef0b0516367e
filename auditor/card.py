"""Parse a model card: YAML front matter between leading `---` lines, then the markdown body.

Broken front matter is not an exception: the card comes back with empty metadata and an
`error` the judge turns into a finding, because the rest of the release is still worth auditing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import yaml

from auditor.bounded import load_yaml
from auditor.model import ModelCard, RepoSnapshot

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)(?:\r?\n)?^---[ \t]*$\r?\n?", re.S | re.M)
_CARD_NAMES = ("README.md", "readme.md", "README.MD", "Readme.md", "README")


def find_card_path(texts: Mapping[str, str]) -> str | None:
    """The top-level README the Hub treats as the model card."""
    for name in _CARD_NAMES:
        if name in texts:
            return name
    for path in texts:
        if "/" not in path and path.lower().startswith("readme"):
            return path
    return None


def parse_card(text: str, path: str | None = "README.md") -> ModelCard:
    """The model card in `text`: its YAML front matter as metadata, the rest as its body."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return ModelCard(path=path, metadata={}, body=text)
    body = text[match.end():]
    body_line = text.count("\n", 0, match.end()) + 1
    try:
        metadata = load_yaml(match.group(1))
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 2}" if where is not None else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        return ModelCard(path=path, metadata={}, body=body, error=f"{problem}{line}", body_line=body_line)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        return ModelCard(path=path, metadata={}, body=body, error="front matter is not a mapping", body_line=body_line)
    return ModelCard(path=path, metadata=metadata, body=body, body_line=body_line)


def card_from_snapshot(snapshot: RepoSnapshot) -> ModelCard | None:
    """The snapshot's card; when the README could not be read, the Hub's parsed cardData stands in."""
    path = find_card_path(snapshot.texts)
    if path is not None:
        return parse_card(snapshot.texts[path], path)
    if snapshot.hub_card_data:
        return ModelCard(path=None, metadata=dict(snapshot.hub_card_data), body="")
    return None


def metadata_list(metadata: Mapping[str, object], key: str) -> tuple[str, ...]:
    """A card field that may be a string or a list, as a tuple of non-empty strings."""
    value = metadata.get(key)
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(item).strip() for item in value if item is not None and str(item).strip())
    text = str(value).strip()
    return (text,) if text else ()
