"""What changed between two audited revisions: the licences, the terms (narrower or wider), a licence text.

Terms are compared fact by fact in the order of judge/effective.yaml (commercial use: yes,
capped, conditional, no; other facts: no, yes), a user cap by its number, and the verdict by
the taxonomy's order, an unknown verdict counting as the strictest: a change is never read as
wider than the texts show.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from auditor.findings import finding
from auditor.history.bearing import licence_bearing
from auditor.judge.tables import rule_table
from auditor.model import Finding, HistoryEntry, Openness, Revision, TermFact
from auditor.sources.selection import rule_for

_VERDICT_RANK = {
    Openness.OPEN_SOURCE: 0, Openness.OPEN_WEIGHTS: 1, Openness.RESTRICTED_WEIGHTS: 2,
    Openness.NON_COMMERCIAL: 3, Openness.NOT_OPEN: 4, Openness.UNKNOWN: 4,
}
MAX_CHANGED_LINES = 20  # of a licence text edited in place, quoted in the finding
_LINE = 200  # characters of one quoted line


def label(entry: HistoryEntry) -> str:
    """A revision as findings cite it: short commit and date."""
    return f"{entry.revision.commit[:12]} ({entry.revision.date[:10]})"


def _rank(key: str, value: str) -> float:
    """How restrictive a fact's value is."""
    order = rule_table("effective.yaml")["order"]
    ranking = [str(v) for v in order.get(key, order["default"])]
    return float(ranking.index(value)) if value in ranking else float(len(ranking))  # an unranked value: the strictest


def _cap(value: str | None) -> float | None:
    try:
        return float(str(value).replace(",", "").replace("_", "")) if value is not None else None
    except ValueError:
        return None


def _direction(key: str, old: TermFact | None, new: TermFact | None) -> int:
    """+1 when `new` is stricter on `key`, -1 when it is wider, 0 when neither."""
    before, after = (old.value if old else None), (new.value if new else None)
    if before == after:
        return 0
    if key == "user_cap":
        if before is None or after is None:
            return 1 if after is not None else -1
        low, high = _cap(before), _cap(after)
        if low is None or high is None:
            return 1  # a cap that is not a number changed: read it as stricter
        return 1 if high < low else -1
    unsaid = "conditional" if key == "commercial_use" else "no"  # unsaid use is not granted; an unsaid restriction is none
    rank_before, rank_after = _rank(key, before or unsaid), _rank(key, after or unsaid)
    if rank_before == rank_after:
        return 0
    return 1 if rank_after > rank_before else -1


def _quote(fact: TermFact | None) -> str:
    if fact is None:
        return "unsaid"
    where = ", ".join(fact.names or fact.sources)
    clause = f": \"{fact.clause}\"" if fact.clause else ""
    return f"{fact.value} ({where}{clause})" if where else f"{fact.value}{clause}"


def term_changes(old: HistoryEntry, new: HistoryEntry) -> list[Finding]:
    """terms-narrowed and terms-widened between two consecutive entries, each fact and clause cited."""
    narrower: list[tuple[str, str]] = []  # (what changed, the clauses cited)
    wider: list[tuple[str, str]] = []
    for key in dict.fromkeys([*old.terms, *new.terms]):
        was, now = old.terms.get(key), new.terms.get(key)
        direction = _direction(key, was, now)
        if direction:
            name = key.replace("_", " ")
            change = (f"{name} {was.value if was else 'unsaid'} → {now.value if now else 'unsaid'}",
                      f"{name}: {_quote(was)} → {_quote(now)}")
            (narrower if direction > 0 else wider).append(change)
    verdict = _VERDICT_RANK[new.verdict] - _VERDICT_RANK[old.verdict]
    change = (f"verdict {old.verdict.value} → {new.verdict.value}", f"verdict: {old.verdict.value} → {new.verdict.value}")
    if old.verdict is not new.verdict:
        (narrower if verdict >= 0 else wider).append(change)
    findings = []
    cited = [f"from {label(old)}: {old.revision.title}", f"to {label(new)}: {new.revision.title}"]
    for code, changes, word in (("terms-narrowed", narrower, "narrowed"), ("terms-widened", wider, "widened")):
        if changes:
            message = f"terms {word} at {label(new)} since {label(old)}: " + "; ".join(short for short, _ in changes)
            findings.append(finding(code, message, [*cited, *(quoted for _, quoted in changes)]))
    return findings


def licence_change(old: HistoryEntry, new: HistoryEntry) -> list[Finding]:
    """licence-changed when the governing licences differ."""
    if old.governing == new.governing:
        return []
    message = f"governing licences changed at {label(new)}: {old.governing or 'none found'} → {new.governing or 'none found'}"
    evidence = [f"from {label(old)}: {old.governing or 'none found'}", f"to {label(new)}: {new.governing or 'none found'}",
                *(f"changed: {path}" for path in new.changed)]
    return [finding("licence-changed", message, evidence)]


def text_edits(old: HistoryEntry, new: HistoryEntry, old_texts: Mapping[str, str], new_texts: Mapping[str, str],
               old_ids: Mapping[str, tuple[str, ...]], new_ids: Mapping[str, tuple[str, ...]]) -> list[Finding]:
    """licence-text-edited for each licence file whose words changed while it names the same licence."""
    findings = []
    for path in new.changed:
        rule = rule_for(path)
        if rule is None or rule.read != "licence" or path not in old_texts or path not in new_texts:
            continue
        if old_ids.get(path, ()) != new_ids.get(path, ()) or old_texts[path] == new_texts[path]:
            continue  # another licence altogether: the licence change says so
        lines = changed_lines(old_texts[path], new_texts[path])
        names = ", ".join(new_ids.get(path, ())) or "an unidentified licence"
        message = f"{path} ({names}) was edited at {label(new)} since {label(old)}: {len(lines)} line(s) changed"
        findings.append(finding("licence-text-edited", message, [f"from {label(old)}", f"to {label(new)}", *lines]))
    return findings


def changed_lines(old: str, new: str) -> list[str]:
    """The lines removed (-) and added (+), at most MAX_CHANGED_LINES, each cut at a readable length."""
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    lines = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    cut = [line if len(line) <= _LINE else line[:_LINE] + "..." for line in lines[:MAX_CHANGED_LINES]]
    if len(lines) > MAX_CHANGED_LINES:
        cut.append(f"... and {len(lines) - MAX_CHANGED_LINES} more changed line(s)")
    return cut


def changed_paths(old: Mapping[str, str] | None, new: Mapping[str, str]) -> tuple[str, ...]:
    """The licence-bearing paths added, edited or deleted between two states."""
    before = old or {}
    return tuple(sorted(p for p in {*before, *new} if licence_bearing(p) and before.get(p) != new.get(p)))


def terms_changed_at(entries: Sequence[HistoryEntry]) -> Revision | None:
    """The revision since which the current terms hold, None when none in the history (oldest first) changed them."""
    for at in range(len(entries) - 1, 0, -1):
        old, new = entries[at - 1], entries[at]
        values = lambda e: (e.governing, e.verdict, {k: f.value for k, f in e.terms.items()})  # noqa: E731
        if values(old) != values(new):
            return new.revision
    return None


def history_findings(entries: Sequence[HistoryEntry], texts: Sequence[Mapping[str, str]],
                     ids: Sequence[Mapping[str, tuple[str, ...]]]) -> list[Finding]:
    """Every change between consecutive entries (oldest first), with the texts and licence ids each file held."""
    findings: list[Finding] = []
    for at in range(1, len(entries)):
        old, new = entries[at - 1], entries[at]
        findings += licence_change(old, new)
        findings += term_changes(old, new)
        findings += text_edits(old, new, texts[at - 1], texts[at], ids[at - 1], ids[at])
    return findings
