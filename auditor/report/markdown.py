"""The human report: the verdict in one line, then components, licences with their facts,
findings, the openness yardsticks, what would raise the verdict, and the file list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from auditor.model import AuditResult, ComponentName, LicenceSummary, MatchMethod, Openness
from auditor.report.escape import markdown_code as _code
from auditor.report.escape import markdown_text as _md
from auditor.report.history_section import history_section
from auditor.report.interface import Outcomes, Renderer
from auditor.report.policy_section import with_markdown_section
from auditor.report.terms_section import commercial_words, lineage_section, what_may_i_do

_VERDICT_WORDS = {
    Openness.OPEN_SOURCE: "open source",
    Openness.OPEN_WEIGHTS: "open weights",
    Openness.RESTRICTED_WEIGHTS: "restricted weights",
    Openness.NON_COMMERCIAL: "non-commercial",
    Openness.NOT_OPEN: "not open",
    Openness.UNKNOWN: "unknown",
}
_FACT_LABELS = {
    "commercial_use": "Commercial use",
    "user_cap": "User cap",
    "use_restrictions": "Use restrictions",
    "attribution": "Attribution / notices",
    "naming": "Naming duty for derivatives",
    "share_alike": "Share-alike",
    "output_restrictions": "Restrictions on outputs",
    "patent_grant": "Patent grant",
    "termination": "Termination",
    "territory": "Territorial limits",
    "registration": "Registration",
}
_COMPONENT_LABELS = {
    ComponentName.WEIGHTS: "Weights",
    ComponentName.CODE: "Code",
    ComponentName.TRAINING_DATA: "Training data",
    ComponentName.DOCUMENTATION: "Documentation",
}


def human_size(size: int) -> str:
    """A byte count for people: 1.5 GB, 700 B."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def _cell(text: str) -> str:
    """Our own text in a table cell; repository text goes through _md instead."""
    return text.replace("|", "\\|").replace("\n", " ")


def _scan_facts(facts: Mapping[str, Any]) -> str:
    """One cell: the facts a reader wants from a header or pickle scan."""
    parts = []
    if facts.get("parameters"):
        parts.append(f"{facts['parameters']:,} parameters")
    if facts.get("tensors") is not None:
        parts.append(f"{facts['tensors']} tensors")
    if facts.get("dtypes"):
        parts.append("/".join(map(_md, facts["dtypes"])))
    for key in ("architecture", "name", "license"):
        if facts.get(key):
            parts.append(f"{key}: {_md(facts[key])}")
    if facts.get("imports") is not None:
        parts.append(f"{len(facts['imports'])} import(s)")
    if facts.get("unscanned"):
        parts.append(f"not scanned: {_md(facts['unscanned'])}")
    return "; ".join(parts) or "—"


def _yes(flag: bool | None) -> str:
    return {True: "yes", False: "no", None: "not verified"}[flag]


_METHOD_WORDS = {MatchMethod.TITLE: "identified by its title and clauses"}


class MarkdownRenderer(Renderer):
    """The audit as Markdown, its first screen the verdict and what to act on."""

    def render_batch(self, results: Sequence[AuditResult], failures: Sequence[tuple[str, str]] = (),
                     outcomes: Outcomes = ()) -> str:
        """Several audits (a summary table first, so a reader comparing models sees them side by side), the policy last."""
        return with_markdown_section(self._batch(results, failures), results, outcomes)

    def _batch(self, results: Sequence[AuditResult], failures: Sequence[tuple[str, str]]) -> str:
        if len(results) + len(failures) < 2:
            return self._single(results, failures)
        lines = [
            f"# Audit of {len(results) + len(failures)} models", "",
            "| model | verdict | commercial use | weights licence | OSAID 1.0 | MOF | gated | errors | warnings |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for result in results:
            weights = result.components.get(ComponentName.WEIGHTS)
            severities = [f.severity.value for f in result.findings]
            lines.append(
                f"| {_md(result.target.label)} | {_VERDICT_WORDS[result.verdict.openness]} | {_md(commercial_words(result))} "
                f"| {_md((weights and weights.licence) or '—')} "
                f"| {result.verdict.osaid.value} | {result.verdict.mof_class.value if result.verdict.mof_class else '—'} "
                f"| {'yes' if result.verdict.gated else 'no'} | {severities.count('error')} | {severities.count('warning')} |"
            )
        for target, message in failures:
            lines.append(f"| {_md(target)} | not audited: {_md(message)} | | | | | | | |")
        # each report sits one heading level below the summary
        body = "\n".join("#" + line if line.startswith("#") else line for line in self._single(results, failures).splitlines())
        return "\n".join(lines) + "\n\n" + body + "\n"

    def _single(self, results: Sequence[AuditResult], failures: Sequence[tuple[str, str]]) -> str:
        """Each audit's report, then each failure's one line, with the repository's text escaped."""
        parts = [self.render(result) for result in results]
        parts += [f"# {_md(target)}\n\nnot audited: {_md(message)}\n" for target, message in failures]
        return "\n\n".join(parts)

    def render(self, result: AuditResult) -> str:
        """One audit's report: the verdict and what to act on first."""
        lines: list[str] = []
        lines += self._headline(result)
        lines += self._checkout(result)
        lines += self._load_safety(result)
        lines += what_may_i_do(result)
        lines += self._reasons(result)
        lines += self._components(result)
        lines += lineage_section(result)
        lines += history_section(result.history)
        lines += self._licences(result)
        lines += self._findings(result)
        lines += self._weight_scan(result)
        lines += self._openness(result)
        lines += self._files(result)
        return "\n".join(lines).rstrip() + "\n"

    def _headline(self, result: AuditResult) -> list[str]:
        verdict = result.verdict
        sha = f" @ {_code(result.sha[:12])}" if result.sha else ""
        mof = f"class {verdict.mof_class.value}" if verdict.mof_class else "no class"
        gated = " · gated access" if verdict.gated else ""
        return [
            f"# Audit of {_md(result.target.label)}{sha}",
            "",
            f"**Verdict: {_VERDICT_WORDS[verdict.openness]}**{' (provisional)' if verdict.provisional else ''} · OSAID 1.0: {verdict.osaid.value} · MOF: {mof}{gated}",
            "",
        ]

    def _load_safety(self, result: AuditResult) -> list[str]:
        """Files not to load, and pickle-based files nobody checked, before anything else is done with them."""
        from auditor.judge.load_safety import load_warnings

        warnings = load_warnings(result)
        if not warnings:
            return []
        return [f"- **{_md(w.line)}**" if w.unsafe else f"- {_md(w.line)}" for w in warnings] + [""]

    def _reasons(self, result: AuditResult) -> list[str]:
        """Why the verdict is what it is (it follows the effective terms, so their sources are named here)."""
        return ["## Why this verdict", "", *[f"- {_md(reason)}" for reason in result.verdict.reasons], ""]

    def _checkout(self, result: AuditResult) -> list[str]:
        """What kind of local folder was read, when it changes what the report describes."""
        checkout = result.checkout or {}
        kinds = {"hf-cache": "a Hugging Face cache snapshot", "hf-local-dir": "an `hf download --local-dir` folder", "git": "a git checkout"}
        parts = []
        if checkout.get("kind") in kinds:
            repo = f" of {_md(checkout['repo'])}" if checkout.get("repo") else ""
            parts.append(f"Read from {kinds[checkout['kind']]}{repo}.")
        if checkout.get("revision"):
            parts.append(f"Revision {_md(checkout['revision'])} read from git, not the files on disk.")
        dirty = checkout.get("dirty")
        if dirty:
            named = ", ".join(_md(path) for path in dirty[:5]) + (", ..." if len(dirty) > 5 else "")
            parts.append(f"**Uncommitted changes** in {len(dirty)} path(s) ({named}): this report is of the files on disk, not of the commit.")
        elif dirty is None and checkout.get("kind") == "git" and "dirty" in checkout:
            parts.append("Whether the work tree has uncommitted changes could not be checked.")
        if checkout.get("ignored"):
            parts.append(f"{checkout['ignored']} path(s) left out as .gitignore says.")
        return ["> " + " ".join(parts), ""] if parts else []

    def _components(self, result: AuditResult) -> list[str]:
        lines = ["## What was released", "", "| component | present | where | licence | open |", "|---|---|---|---|---|"]
        for name, component in result.components.items():
            where = "; ".join(map(_md, component.notes)) if component.notes else ", ".join(map(_md, component.files[:4]))
            if name is ComponentName.WEIGHTS and result.weight_sets:
                where = "; ".join(
                    f"{_md(s.name)} ({s.format}, {len(s.files)} file{'s' if len(s.files) > 1 else ''}, {human_size(s.total_size)}"
                    + (f", {s.parameters / 1e9:.2f}B parameters" if s.parameters else "") + (", adapter" if s.adapter else "") + ")"
                    for s in result.weight_sets[:6]
                ) + (f"; and {len(result.weight_sets) - 6} more" if len(result.weight_sets) > 6 else "")
            # documentation carries no licence verdict of its own
            open_cell = _yes(component.open) if component.present and name is not ComponentName.DOCUMENTATION else ""
            lines.append(
                f"| {_COMPONENT_LABELS[name]} | {'yes' if component.present else 'no'} | {where or '—'} "
                f"| {_md(component.licence or '—')} | {open_cell} |"
            )
        return lines + [""]

    def _licences(self, result: AuditResult) -> list[str]:
        lines = ["## Licences", ""]
        if not result.licences:
            return lines + ["No licence found: without one, all rights are reserved.", ""]
        lines += ["| licence | kind | found in | how | confidence |", "|---|---|---|---|---|"]
        for match in result.licences:
            where = _md(match.source) + (f" (lines {match.span[0]}–{match.span[1]})" if match.span else "")
            name = _md(match.name) + (" — **modified**" if match.modified else "")
            spdx = f" {_code(match.spdx)}" if match.spdx else ""
            how = _METHOD_WORDS.get(match.method, match.method.value)
            lines.append(f"| {name}{spdx} | {match.kind.value} | {where} | {how} | {match.confidence:.2f} |")
        lines.append("")
        for match in result.licences:
            if match.modified and match.changes:
                lines.append(f"- {_md(match.source)}: changes from the reference text: {_md(match.changes)}")
        for summary in result.licence_summaries:
            lines += self._facts(summary)
        return lines

    def _facts(self, summary: LicenceSummary) -> list[str]:
        osi = "OSI-approved" if summary.osi_approved else "not OSI-approved"
        lines = [f"### {_md(summary.name)}", "", f"{summary.category}, {osi}" + (f" · {_md(summary.url)}" if summary.url else ""), ""]
        if summary.unidentified:
            lines += ["Not a licence the auditor knows: named from its own title, each fact read from its clauses "
                      "with the confidence of that reading. Check them against the text.", ""]
        for fact in summary.facts:
            label = _FACT_LABELS.get(fact.name, fact.name)
            clause = f" — “{_md(fact.clause)}”" if fact.clause else ""
            read = f" (read, confidence {fact.confidence:.2f})" if fact.confidence is not None else ""
            lines.append(f"- **{label}:** {_md(fact.value)}{read}{clause}")
        return lines + [""]

    def _findings(self, result: AuditResult) -> list[str]:
        lines = ["## Findings", ""]
        if not result.findings:
            return lines + ["None.", ""]
        for item in result.findings:
            lines.append(f"- **{item.severity.value}** `{item.code}`: {_md(item.message)}")
        return lines + [""]

    def _weight_scan(self, result: AuditResult) -> list[str]:
        scan = result.weight_scan
        if scan is None:
            return []
        lines = [
            "## Weight scan",
            "",
            f"{scan.files} file(s) scanned statically (nothing unpickled or loaded); "
            f"{human_size(scan.bytes_read)} read in all.",
            "",
        ]
        if scan.per_file:
            lines += ["| file | format | read | found |", "|---|---|---|---|"]
            for path, facts in scan.per_file.items():
                lines.append(f"| {_md(path)} | {facts['format']} | {human_size(facts['bytes_read'])} | {_scan_facts(facts)} |")
            lines.append("")
        if scan.not_checked_out:
            lines += [f"Not scanned, Git LFS pointers without content: {', '.join(map(_md, scan.not_checked_out))}.", ""]
        if scan.read_from_hub:
            lines += [f"Git LFS pointers read by byte ranges from the Hub repo {_md(scan.hub_mirror or '')} at this commit: "
                      f"{', '.join(_md(p) for p in scan.read_from_hub)}.", ""]
        return lines

    def _openness(self, result: AuditResult) -> list[str]:
        verdict = result.verdict
        lines = ["## Openness", "", f"- Plain taxonomy: **{_VERDICT_WORDS[verdict.openness]}**"]
        lines.append(f"- Open Source AI Definition 1.0: **{verdict.osaid.value}**")
        mof = f"Class {verdict.mof_class.value}" if verdict.mof_class else "no class"
        lines += [f"- Model Openness Framework: **{mof}**", ""]
        if result.mof_items:
            lines += ["| MOF class | component | found |", "|---|---|---|"]
            lines += [f"| {i.mof_class.value} | {i.label} | {'yes' if i.met else 'no'} |" for i in result.mof_items]
            lines.append("")
        if verdict.improvements:
            lines += ["### What would raise the verdict", "", *[f"- {_md(i)}" for i in verdict.improvements], ""]
        return lines

    def _files(self, result: AuditResult) -> list[str]:
        lines = [f"<details><summary>Files ({len(result.artefacts)})</summary>", "",
                 "| file | category | format | size | rule |", "|---|---|---|---|---|"]
        for artefact in result.artefacts:
            lines.append(
                f"| {_md(artefact.path)} | {artefact.category.value} | {artefact.format or '—'} "
                f"| {human_size(artefact.size)} | {_cell(artefact.reason)} |"
            )
        return lines + ["", "</details>", ""]
