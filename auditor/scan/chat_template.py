"""Check a chat template (GGUF `tokenizer.chat_template`) for server-side template injection.

Runtimes render the template with Jinja2, some without its sandbox (CVE-2024-34359, in
llama-cpp-python). A template never needs Python's internals: it is parsed (never rendered)
with the sandboxed environment's parser, and every attribute or item whose name starts with
an underscore (`__class__`, `__globals__`, `_TemplateReference__context`), every attribute
name passed as a string to `attr`, `map` and the like that does, or that is built at render
time, and every use of a Jinja global that hands out Python objects (`cycler`, `joiner`,
`lipsum`, `self`) is an `unsafe-artefact` error. A template Jinja cannot parse cannot run.
"""

from __future__ import annotations

from typing import Any

from auditor.findings import finding
from auditor.model import Finding
from auditor.scan.policy_data import artefact_policy

MAX_TEMPLATE = 1 << 20
_MAX_FINDINGS = 10


def chat_template_findings(path: str, template: str, where: str = "tokenizer.chat_template") -> list[Finding]:
    """The errors of one chat template; none when it only formats messages."""
    from jinja2 import TemplateSyntaxError, nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    if len(template) > MAX_TEMPLATE:
        return [finding("artefact-unscanned", f"{path}: {where} of {len(template)} characters, over the {MAX_TEMPLATE}-character limit", [path])]
    try:
        tree = ImmutableSandboxedEnvironment().parse(template)
    except (TemplateSyntaxError, RecursionError, MemoryError):
        return []
    policy = artefact_policy()["chat_template"]
    problems: list[str] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name, nodes.Filter, nodes.Test, nodes.Call)):
        problems.extend(_problems(node, policy, nodes))
    unique = list(dict.fromkeys(problems))
    return [finding("unsafe-artefact", f"{path}: {where} {problem}", [path]) for problem in unique[:_MAX_FINDINGS]]


def _problems(node: Any, policy: Any, nodes: Any) -> list[str]:
    line = f"(line {node.lineno})"
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return [f"reaches the Python attribute {node.attr} {line}"]
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
        return [f"reaches the Python attribute {node.arg.value} {line}"]
    if isinstance(node, nodes.Name) and node.ctx == "load" and (node.name in policy["gadgets"] or node.name.startswith("_")):
        return [f"uses {node.name}, a global that hands out Python objects {line}"]
    if isinstance(node, (nodes.Filter, nodes.Test)) and node.name in policy["attribute_filters"]:
        found = []
        arguments = list(node.args) + [kw.value for kw in node.kwargs]
        for arg in arguments:
            if isinstance(arg, nodes.Const) and isinstance(arg.value, str) and arg.value.split(".")[0].startswith("_"):
                found.append(f"passes the Python attribute {arg.value} to {node.name} {line}")
            elif node.name == "attr" and not isinstance(arg, nodes.Const):
                found.append(f"passes an attribute name built at render time to attr {line}")
        return found
    return []
