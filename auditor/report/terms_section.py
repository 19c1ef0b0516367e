""""What may I do?": the effective terms of the weights in plain words, each citing its licence
and clause, for the first screen of the markdown report (and a word for batch tables).

Every string here may come from a repository (licence names, repo ids, clauses), so each
is escaped before it reaches markdown.
"""

from __future__ import annotations

from auditor.judge.openness import unchecked_bases
from auditor.model import AuditResult, ComponentName, Severity, TermFact
from auditor.report.escape import markdown_text as escape
from auditor.report.mermaid import lineage_graph

# what each duty or prohibition means for the user, when the term is "yes"
_DUTIES = {
    "attribution": "keep the licence text, copyright and notices (NOTICE / attribution) with every copy you share",
    "naming": "name or label what you build as the licence requires",
    "share_alike": "release derivatives under the same terms (use restrictions included)",
    "use_restrictions": "keep the use restrictions in your own licence when you pass the weights or derivatives on",
}
_PROHIBITIONS = {
    "use_restrictions": "the uses the licence or its acceptable-use policy prohibits",
    "output_restrictions": "restricted uses of the outputs (e.g. training other models)",
    "termination": "your rights end if you breach the terms or sue over the model",
}


def commercial_words(result: AuditResult) -> str:
    """May I use it commercially? in a few words: yes / no / yes, under a cap / only on conditions."""
    fact = result.terms.get("commercial_use")
    if fact is None:
        return "unknown"
    cap = result.terms.get("user_cap")
    words = {
        "yes": "yes",
        "no": "no",
        "capped": f"yes, under {cap.value}" if cap and cap.value not in ("None", "null", "") else "yes, under a cap",
        "conditional": "only on conditions",
    }.get(fact.value, fact.value)
    return words + (commercial_qualifier(result) or "")


def commercial_qualifier(result: AuditResult) -> str | None:
    """What qualifies the commercial-use answer when the verdict is provisional (the markdown's words), else None."""
    if unchecked_bases(result.lineage):
        return " by its own licence; a base model's licence was not checked and may forbid more (provisional)"
    return " (provisional)" if result.verdict.provisional else None


def _cite(fact: TermFact) -> str:
    """“— Licence (from where): “clause”” for one term."""
    names = ", ".join(f"{escape(n)} ({escape(b)})" if b and b != n and not b.startswith("the card") else escape(n)
                      for n, b in zip(fact.names or fact.sources, fact.because, strict=False))
    clause = f": “{escape(fact.clause)}”" if fact.clause else ""
    return f" — {names}{clause}" if names or clause else ""


def what_may_i_do(result: AuditResult) -> list[str]:
    """The section's lines: commercial use, duties, prohibitions, territory, errors, what was not checked."""
    terms = result.terms
    lines = ["## What may I do?", ""]
    commercial = terms.get("commercial_use")
    lines.append(f"- **Commercial use: {escape(commercial_words(result))}**" + (_cite(commercial) if commercial else ""))
    duties = [(key, _DUTIES[key]) for key in _DUTIES if _says_yes(terms.get(key))]
    if duties:
        lines.append("- **You must:**")
        lines += [f"  - {text}{_cite(terms[key])}" for key, text in duties]
    prohibited = [(key, _PROHIBITIONS[key]) for key in _PROHIBITIONS if _says_yes(terms.get(key))]
    if prohibited:
        lines.append("- **Not allowed:**")
        lines += [f"  - {text}{_listed(terms[key])}{_cite(terms[key])}" for key, text in prohibited]
    if _says_yes(terms.get("territory")):
        lines.append(f"- **Territory:** not licensed everywhere{_cite(terms['territory'])}")
    if _says_yes(terms.get("share_alike")):
        lines.append("- **Share-alike:** yes: derivatives keep these terms")
    data = result.components.get(ComponentName.TRAINING_DATA)
    if data is not None and data.open is False:
        named = "; ".join(f"{escape(name)}: {escape(', '.join(ids))}" for name, ids in result.evidence.dataset_licences.items())
        lines.append(f"- **Training data not under open terms:** {named or 'see the component table'}: its terms may reach what you build with it")
    for item in result.findings:
        if item.severity is Severity.ERROR:
            lines.append(f"- **Error** `{item.code}`: {escape(item.message)}")
    unknown = [s.name for s in result.licence_summaries if s.unidentified]
    if unknown:
        lines.append(f"- **Read, not recognised:** {escape(', '.join(unknown))} is not a licence the auditor knows; "
                     "its terms above were read from its own sentences: have its text reviewed before relying on them")
    if result.verdict.provisional:
        lines.append(f"- **Provisional:** not checked: {escape('; '.join(result.verdict.unverified[:5]))}")
    return lines + [""]


_LISTED_FIRST = 4  # prohibited uses named on the first screen; the rest are counted


def _listed(fact: TermFact) -> str:
    """": a, b, c, d and N more" for what a term lists (a licence's prohibited uses), or nothing."""
    if not fact.listed:
        return ""
    shown = "; ".join(escape(item) for item in fact.listed[:_LISTED_FIRST])
    rest = len(fact.listed) - _LISTED_FIRST
    return f": {shown}" + (f"; and {rest} more" if rest > 0 else "")


def _says_yes(fact: TermFact | None) -> bool:
    return fact is not None and fact.value.lower() == "yes"


def lineage_section(result: AuditResult) -> list[str]:
    """The chain of ancestors: what each is, how this release derives from it, and its licences."""
    if not result.lineage:
        return []
    lines = ["## Lineage", "", "| ancestor | relation | of | licences | read from | status |", "|---|---|---|---|---|---|"]
    for ancestor in result.lineage:
        status = ancestor.status.value + (f": {ancestor.reason}" if ancestor.reason else "")
        lines.append(
            f"| {escape(ancestor.repo_id)} | {escape(ancestor.relation)} | {escape(ancestor.child)} | {escape(', '.join(ancestor.licences)) or '—'} "
            f"| {escape(ancestor.licence_source or ancestor.signal)} | {escape(status)} |"
        )
    weights = result.components.get(ComponentName.WEIGHTS)
    own = [weights.licence] if weights is not None and weights.licence else []
    return lines + ["", *lineage_graph(result.target.label, own, result.lineage), ""]
