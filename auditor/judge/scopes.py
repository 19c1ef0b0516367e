"""What each licence covers: the code or the weights, from licence files' names and the card's own sentences.

A licence file's name scopes it: MODEL_LICENSE, LICENSE-MODEL, WEIGHTS_LICENSE cover the
weights, LICENSE-CODE the code, NOTICE files their components; a plain LICENSE beside a model
licence file covers the code unless its first lines say it covers a model.

Which licence a card assigns to the code and which to the weights, from its own sentences:

A card often says it in one sentence ("The code is released under Apache-2.0; the model
weights are under the Model License", "代码以 Apache-2.0 协议开源，模型权重遵循《模型许可协议》").
Each such sentence is cut at the words that name the code and the weights; the licences named
in each part (by a name, alias or id the knowledge base knows, or "the model licence" for the
repository's model licence file) are assigned to that part, and the sentence is kept to cite.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.findings import finding
from auditor.model import Finding, LicenceMatch

if TYPE_CHECKING:
    from auditor.identify.kb import KnowledgeBase

MODEL_LICENCE_FILE = "model-licence-file"  # the weights go to the repository's model licence file (MODEL_LICENSE, ...)

_SENTENCE = re.compile(r"(?<=[.!?])\s+|[\n。！？]+")
_CODE = re.compile(r"\b(?:source )?code\b|代码|源码|源代码", re.I)
_WEIGHTS = re.compile(r"\b(?:model )?weights\b|\bmodel parameters\b|\bcheckpoints?\b|模型权重|权重|模型参数", re.I)
_MODEL_LICENCE = re.compile(r"\bmodel[ _-]?licen[cs]e\b|\blicen[cs]e[ _-]model\b|\bweights[ _-]licen[cs]e\b|模型许可|模型协议|模型授权", re.I)
_MIN_NAME = 3  # shorter names and ids ("cc", "mit" is 3) would be found inside other words


@dataclass(frozen=True)
class CardScope:
    """A licence the card assigns to the code or the weights, and the sentence that says so."""

    scope: str  # "code" or "weights"
    licence_id: str  # a knowledge-base id, or MODEL_LICENCE_FILE
    sentence: str


def card_scopes(body: str, kb: KnowledgeBase) -> tuple[CardScope, ...]:
    """Every assignment of a licence to the code or the weights that a sentence of the card makes."""
    found: list[CardScope] = []
    for sentence in (s.strip() for s in _SENTENCE.split(body or "")):
        if len(sentence) > 400 or not _CODE.search(sentence) or not _WEIGHTS.search(sentence):
            continue
        for scope, part in _parts(sentence):
            ids = _licences_in(part, kb)
            if scope == "weights" and _MODEL_LICENCE.search(part):
                ids.append(MODEL_LICENCE_FILE)
            found += [CardScope(scope, licence_id, sentence) for licence_id in dict.fromkeys(ids)]
    return tuple(found)


def _parts(sentence: str) -> list[tuple[str, str]]:
    """The sentence cut where it turns to the code or to the weights: (scope, the words about it)."""
    marks = sorted([(m.start(), "code") for m in _CODE.finditer(sentence)] + [(m.start(), "weights") for m in _WEIGHTS.finditer(sentence)])
    turns = [(at, scope) for n, (at, scope) in enumerate(marks) if n == 0 or marks[n - 1][1] != scope]
    return [(scope, sentence[at:turns[n + 1][0] if n + 1 < len(turns) else len(sentence)]) for n, (at, scope) in enumerate(turns)]


def _licences_in(part: str, kb: KnowledgeBase) -> list[str]:
    """The licences a part of a sentence names, by their names, aliases and ids, in the order named;
    a name found inside a longer one found ("Apache" in "Apache License 2.0") counts once, as the longer."""
    text = part.lower()
    hits: list[tuple[int, int, str]] = []
    for profile in kb:
        for name in {profile.id, profile.name, profile.spdx, *profile.aliases}:
            if len(name) < _MIN_NAME or name.lower() not in text:  # most names are absent: no pattern to build
                continue
            found = re.search(r"(?<![\w.-])" + re.escape(name.lower()) + r"(?![\w-]|\.\d)", text)
            if found:
                hits.append((found.start(), found.end(), profile.id))
    kept = [h for h in hits if not any(o[0] <= h[0] and h[1] <= o[1] and (o[1] - o[0]) > (h[1] - h[0]) for o in hits)]
    return list(dict.fromkeys(licence_id for _, _, licence_id in sorted(kept)))


_WEIGHTS_FILE = re.compile(r"(?:^|[^a-z])(?:model|weights?)(?:[^a-z]|$)", re.I)  # MODEL_LICENSE, LICENSE-MODEL, WEIGHTS_LICENSE
_SAYS_WEIGHTS = re.compile(r"\b(?:models?|weights|parameters)\b|模型", re.I)
_HEAD_LINES = 10  # a LICENSE says it covers the model in its first lines, if at all


def _scope(source: str) -> str:
    """'card', 'code', 'notice', 'weights' or 'release' for where a match was found, by its file's name."""
    if source.startswith("card:"):
        return "card"
    name = posixpath.basename(source)
    upper = name.upper()
    if "CODE" in upper:
        return "code"
    if upper.startswith("NOTICE") or "THIRD" in upper:
        return "notice"
    if _WEIGHTS_FILE.search(name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name):
        return "weights"
    return "release"


def file_scopes(paths: Iterable[str], texts: Mapping[str, str]) -> dict[str, str]:
    """Each licence file's scope: by its name, and a plain LICENSE beside a model licence file
    (MODEL_LICENSE, LICENSE-MODEL, WEIGHTS_LICENSE) covers the code, unless its first lines say it covers a model."""
    scopes = {path: _scope(path) for path in paths}
    if "weights" in scopes.values():
        for path, scope in scopes.items():
            head = "\n".join(line for line in texts.get(path, "").splitlines() if line.strip())
            if scope == "release" and not _SAYS_WEIGHTS.search("\n".join(head.splitlines()[:_HEAD_LINES])):
                scopes[path] = "code"
    return scopes


def card_code_scopes(card_body: str, kb: KnowledgeBase, grants: list[LicenceMatch], scopes: dict[str, str],
                     findings: list[Finding]) -> set[str]:
    """The licence ids the card's own sentences assign to the code, in a sentence that assigns another
    licence (or the model licence file) to the weights, which the release holds: those cover the code only.
    Files whose licence the card assigns to the weights are scoped to the weights."""
    assigned = card_scopes(card_body, kb)
    held = {m.id for m in grants}
    weights_named = {a.sentence for a in assigned if a.scope == "weights" and (a.licence_id in held or (
        a.licence_id == MODEL_LICENCE_FILE and "weights" in scopes.values()))}
    to_code = {a.licence_id for a in assigned if a.scope == "code" and a.sentence in weights_named and a.licence_id in held}
    weights_ids = {a.licence_id for a in assigned if a.scope == "weights" and a.sentence in weights_named} - to_code
    for match in grants:
        if match.id in weights_ids and scopes.get(match.source) in ("release", "code"):
            scopes[match.source] = "weights"
    for sentence in dict.fromkeys(a.sentence for a in assigned if a.sentence in weights_named):
        findings.append(finding("licence-scope-from-card", f"the card assigns the licences of the code and the weights: “{sentence}”", ["card:body"]))
    return to_code
