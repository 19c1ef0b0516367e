"""Say whether a matched licence text was altered, and summarise how, in a line.

The differences are the stretches of the file inside the region that the reference lacks
(text added) and the stretches of the reference the region lacks (clause removed). Not every
difference alters the terms: a short stretch without digits or words such as "not", "only"
or "except" is a name or wording variant ("the copyright holder" / "NVIDIA Corporation"),
a stretch of date words is an edition's date, a copyright notice is no term, a missing title
is a missing title, and an
appendix after "END OF TERMS AND CONDITIONS" is optional. Everything else is a change.
"""

from __future__ import annotations

from auditor.identify.rules import rules
from auditor.identify.similarity import Region, added_runs, removed_runs

_QUOTE_WORDS = 12
_TITLE_TOKENS = 15


_NOTICE_WORDS = 16  # a copyright notice moved into running text (reflowed) is this long at most


def _significant(words: tuple[str, ...]) -> bool:
    table = rules()
    if words and words[0] == "copyright" and len(words) <= _NOTICE_WORDS:
        return False  # a copyright notice is no licence term (SPDX matching guidelines), wherever a reflow put it
    if all(w.isdigit() or w in table.date_words for w in words) and not all(w.isdigit() for w in words):
        return False  # an edition's date; a bare number (a cap, a term) is not
    if len(words) > table.minor_words:
        return True
    return any(w.isdigit() or w in table.significant for w in words)


def _optional_tail(tokens: tuple[str, ...]) -> int:
    """Where the reference's optional tail starts (len(tokens) when it has none)."""
    for phrase in rules().optional_tail_after:
        n = len(phrase)
        for i in range(len(tokens) - n, -1, -1):
            if tokens[i:i + n] == phrase:
                return i + n
    return len(tokens)


def _quote(words: tuple[str, ...]) -> str:
    text = " ".join(words[:_QUOTE_WORDS])
    return f"“{text}…”" if len(words) > _QUOTE_WORDS else f"“{text}”"


def describe(region: Region, tokens: tuple[str, ...], claimed_elsewhere: set[int]) -> str | None:
    """A short summary of the substantive changes, or None when the text is the reference's."""
    ref = region.reference.tokens
    added = [tokens[a:b + 1] for a, b in added_runs(region, claimed_elsewhere)]
    removed_spans = removed_runs(region)
    tail = _optional_tail(ref) if removed_spans else len(ref)
    removed = [
        ref[a:b + 1]
        for a, b in removed_spans
        if a < tail and not (a == 0 and b - a < _TITLE_TOKENS)
    ]
    added = sorted((w for w in added if _significant(w)), key=len, reverse=True)
    removed = sorted((w for w in removed if _significant(w)), key=len, reverse=True)
    if not added and not removed:
        return None
    parts = []
    if removed:
        parts.append("clause removed: " + ", ".join(_quote(w) for w in removed[:2]) + (f" (+{len(removed) - 2} more)" if len(removed) > 2 else ""))
    if added:
        parts.append("text added: " + ", ".join(_quote(w) for w in added[:2]) + (f" (+{len(added) - 2} more)" if len(added) > 2 else ""))
    return "; ".join(parts)
