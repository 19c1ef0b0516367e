"""The policy outcome, added last to a rendered report, in the report's own format.

The renderers know nothing of policies: an audit is the same whatever the user's rules. So
the outcome is added to the finished text: a "Policy" section at the end of markdown, a
`policy` object {passed, rules, failures} on each JSON result, a run property in SARIF and
model-component properties in CycloneDX. `outcomes` line up with the audited results;
None stands for a result no rule applied to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from auditor.judge.policy import PolicyOutcome
from auditor.report.escape import dump_json, markdown_code, markdown_text


def attach_policy(report: str, output_format: str, outcomes: Sequence[PolicyOutcome | None], labels: Sequence[str] = ()) -> str:
    """The finished report with the policy outcomes added: a section in Markdown, a property per target in the JSON formats."""
    if not any(outcomes):
        return report
    if output_format == "markdown":
        return report.rstrip("\n") + "\n\n" + markdown_section(outcomes, labels)
    document = json.loads(report)
    if output_format == "json":
        targets = document["results"] if "results" in document else [document]
        for entry, outcome in zip(targets, outcomes, strict=False):
            if outcome:
                entry["policy"] = outcome.to_dict()
    elif output_format == "sarif":
        for run, outcome in zip(document["runs"], outcomes, strict=False):
            if outcome:
                run.setdefault("properties", {})["policy"] = outcome.to_dict()
    elif output_format == "cyclonedx":
        models = [c for c in document.get("components", []) if c.get("type") == "machine-learning-model"]
        for model, outcome in zip(models, outcomes, strict=False):
            if outcome:
                model.setdefault("properties", []).extend(_properties(outcome))
    else:
        raise ValueError(output_format)
    return dump_json(document)


def _properties(outcome: PolicyOutcome) -> list[dict[str, Any]]:
    props = [{"name": "audit-model:policy", "value": "passed" if outcome.passed else "failed"}]
    props += [{"name": "audit-model:policy-failure", "value": f"{f.rule}: {f.message}"} for f in outcome.failures]
    return props


def markdown_section(outcomes: Sequence[PolicyOutcome | None], labels: Sequence[str] = ()) -> str:
    """One "Policy" section: per target in a batch, with the failing rules listed last."""
    batch = len(outcomes) > 1
    lines = ["## Policy", ""]
    for index, outcome in enumerate(outcomes):
        if outcome is None:
            continue
        if batch:
            label = labels[index] if index < len(labels) else f"target {index + 1}"
            lines += [f"### {markdown_text(label)}", ""]
        origin = f" (from {markdown_text(outcome.origin)})" if outcome.origin else ""
        lines += ["Rules" + origin + ": " + ", ".join(markdown_code(rule) for rule in outcome.rules), ""]
        if outcome.passed:
            lines += ["**Policy passed.**", ""]
            continue
        lines += [f"**Policy failed** ({len(outcome.failures)} failure{'s' if len(outcome.failures) > 1 else ''}):", ""]
        for failure in outcome.failures:
            where = f" ({', '.join(map(markdown_text, failure.evidence[:5]))})" if failure.evidence and failure.rule.startswith("fail-on") else ""
            lines.append(f"- {markdown_code(failure.rule)}: {markdown_text(failure.message)}{where}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
