"""The policy outcome in each report format's own terms, for the renderers to write in.

An audit is the same whatever the user's rules; its outcome is added last: a "Policy" section
at the end of markdown, a `policy` object {passed, rules, failures} on each JSON result, a run
property in SARIF and model-component properties in CycloneDX. `outcomes` line up with the
audited results; None stands for a result no rule applied to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from auditor.model import AuditResult
from auditor.report.escape import markdown_code, markdown_text
from auditor.report.interface import Outcomes

if TYPE_CHECKING:
    from auditor.judge.policy import PolicyOutcome


def with_markdown_section(report: str, results: Sequence[AuditResult], outcomes: Outcomes) -> str:
    """A text report with the "Policy" section last, when any rule applied."""
    if not any(outcomes):
        return report
    return report.rstrip("\n") + "\n\n" + markdown_section(outcomes, [r.target.label for r in results])


def cyclonedx_properties(outcome: PolicyOutcome) -> list[dict[str, Any]]:
    """The outcome as the model component's CycloneDX properties."""
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
