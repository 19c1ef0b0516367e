"""The house's shape, read from the source: no import cycle between auditor's modules, every
import between its packages allowed by the table in docs/architecture.md, and no module over
400 lines without its docstring saying why.

An import counts whether it runs when the module is loaded or when a function runs (a deferred
import is still a dependency, and a circle through one is still a circle); an import under
`if TYPE_CHECKING:` does not count, because it never runs: it names types for annotations only.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = PROJECT / "auditor"
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    """Every module of auditor by its dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PROJECT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imported(name: str, path: Path) -> Iterator[str]:
    """The auditor modules `name` imports, at module level or in a function, outside `if TYPE_CHECKING:`."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    stack: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                stack.extend(child.orelse)  # the else branch runs
                continue
            if isinstance(child, ast.Import):
                yield from (alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package[: len(package) - child.level + 1] + ([base] if base else []))
                for alias in child.names:
                    yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
            stack.append(child)


def _graph() -> dict[str, set[str]]:
    return {name: {m for m in _imported(name, path) if m in MODULES and m != name} for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_in_auditor():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_check_sees_a_cycle_through_a_deferred_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    source = PACKAGE / "errors.py"
    assert "auditor.model" not in set(_imported("auditor.errors", source))  # errors stands on nothing of ours


def _room(module: str) -> str:
    """The top-level package or module of auditor a module belongs to (`judge`, `model`, `__main__`); `auditor` for the package itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _rules() -> dict[str, set[str]]:
    """The import rules of docs/architecture.md: its table of which room may import which."""
    text = (PROJECT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Import rules", 1)[1].split("\n## ", 1)[0]
    rules: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) != 2 or not cells[0].startswith("`"):
            continue
        allowed = set(re.findall(r"`([\w.]+)`", cells[1]))
        for room in re.findall(r"`([\w.]+)`", cells[0]):
            rules[room] = allowed
    return rules


def test_every_import_between_rooms_is_allowed_by_the_architecture_doc():
    rules = _rules()
    rooms = {_room(m) for m in MODULES}
    assert rooms <= set(rules), f"rooms the import rules do not place: {sorted(rooms - set(rules))}"
    assert set(rules) <= rooms | {"auditor"}, f"rules for rooms that do not exist: {sorted(set(rules) - rooms)}"
    for allowed in rules.values():
        assert allowed <= set(rules), f"rules allow rooms that do not exist: {sorted(allowed - set(rules))}"
    broken = sorted({(m, i) for m, imports in _graph().items() for i in imports
                     if _room(i) != _room(m) and _room(i) not in rules[_room(m)]})
    assert not broken, "imports the rules do not allow: " + "; ".join(f"{m} -> {i}" for m, i in broken)


# The parts the judge decides a release with: called only by judge.judgement.judge_release, so no
# caller can decide one part again, or patch one after the judgement.
JUDGE_PARTS = {"assess_licences", "effective_terms", "build_components", "code_evidence", "judge", "mof_items",
               "release_findings", "check_duties", "check_lineage", "summarise_licences", "card_terms_findings"}


def test_only_the_judge_calls_its_parts():
    outside = []
    for name, path in MODULES.items():
        if name.startswith("auditor.judge"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("auditor.judge"):
                outside += [f"{name}: {alias.name}" for alias in node.names if alias.name in JUDGE_PARTS]
    assert not outside, f"the judge's parts used outside judge_release: {outside}"


def test_a_module_over_400_lines_says_why_in_its_docstring():
    long = []
    for name, path in MODULES.items():
        source = path.read_text(encoding="utf-8")
        if source.count("\n") > MAX_LINES:
            docstring = ast.get_docstring(ast.parse(source)) or ""
            if "over 400 lines" not in docstring.lower():
                long.append(name)
    assert not long, f"modules over {MAX_LINES} lines whose docstring does not say why (\"over 400 lines: ...\"): {long}"
