"""JSON and YAML from a repository, parsed within budgets: nesting depth, YAML aliases, bytes.

A repository's `config.json`, `adapter_config.json`, card front matter or mergekit config is
hostile until parsed: 100,000 nested brackets would end the parse in a RecursionError, and a
YAML alias bomb ("billion laughs") builds a document exponentially larger than its text.
Exceeding a budget raises `BudgetExceeded`, a ValueError (for JSON) and a YAMLError (for
YAML), so every caller that already treats a malformed file as unreadable does the same for
an over-budget one, with the reason.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

MAX_DEPTH = 64  # the deepest real config or card nests under 10 levels
MAX_ALIASES = 64  # a card or mergekit config has no use for more; a bomb needs thousands
MAX_YAML_CHARS = 1 << 20  # front matter and mergekit configs are a few KiB
MAX_YAML_NODES = 100_000  # nodes of the document as built, aliases expanded: a few hundred in a real card


class BudgetExceeded(ValueError):
    """A document beyond one of this module's budgets; the message says which."""


class YamlBudgetExceeded(yaml.YAMLError):
    """A YAML document beyond a budget (a YAMLError, so YAML callers report it as invalid)."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def load_json(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """`text` parsed as JSON; BudgetExceeded when nested deeper than `max_depth`, ValueError when invalid."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise BudgetExceeded(f"JSON nested more than {max_depth} levels deep") from None
    if depth_exceeds(value, max_depth):
        raise BudgetExceeded(f"JSON nested more than {max_depth} levels deep")
    return value


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether lists and mappings in `value` nest deeper than `max_depth` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing documents with too many aliases or too deep a nesting.

    Aliases are counted as the document is composed, before anything is built, so a bomb
    costs its text and no more."""

    def __init__(self, stream: str, max_depth: int, max_aliases: int):
        super().__init__(stream)
        self._max_depth = max_depth
        self._max_aliases = max_aliases
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102 - PyYAML's hook
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self._max_aliases:
                raise YamlBudgetExceeded(f"more than {self._max_aliases} YAML aliases (refused unexpanded)")
        self._depth += 1
        try:
            if self._depth > self._max_depth:
                raise YamlBudgetExceeded(f"YAML nested more than {self._max_depth} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str, *, max_depth: int = MAX_DEPTH, max_aliases: int = MAX_ALIASES, max_chars: int = MAX_YAML_CHARS) -> Any:
    """`text` (a repository's YAML) parsed safely within the budgets; YAMLError when invalid or beyond one."""
    if len(text) > max_chars:
        raise YamlBudgetExceeded(f"YAML of {len(text)} characters, more than {max_chars} (not parsed)")
    loader = _BoundedLoader(text, max_depth, max_aliases)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_nodes(node) > MAX_YAML_NODES:
            raise YamlBudgetExceeded(f"YAML whose aliases expand to more than {MAX_YAML_NODES} nodes (refused unexpanded)")
        return loader.construct_document(node)
    except RecursionError:
        raise YamlBudgetExceeded(f"YAML nested more than {max_depth} levels deep") from None
    finally:
        loader.dispose()


def _expanded_nodes(root: yaml.Node) -> int:
    """How many nodes `root` holds once every alias is expanded (a recursive alias counts as too many)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = min(MAX_YAML_NODES + 1, 1 + sum(sizes[id(child)] for child in children))
            continue
        if id(node) in open_nodes:
            return MAX_YAML_NODES + 1  # an alias inside its own anchor: infinite once expanded
        open_nodes.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                return MAX_YAML_NODES + 1
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
