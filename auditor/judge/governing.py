"""The licences that govern each component of a release, as the report shows them, with where
each came from: what a policy's allow and deny lists judge.

The weights are governed by their effective terms: their own licences, licences read from
unknown texts (by their `LicenseRef-` id and name), and what their ancestors' licences bind
derivatives to ("inherited from meta-llama/Meta-Llama-3-8B"). Code and training data by the
licences the component table gives them. Every licence found in the repository counts too,
as before: a policy is never judged on less than was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.identify.names import split_expression
from auditor.model import AuditResult, ComponentName, LicenceKind, LicenceMatch

if TYPE_CHECKING:
    from auditor.identify.kb import KnowledgeBase

_WORDS = {ComponentName.WEIGHTS: "weights", ComponentName.CODE: "code", ComponentName.TRAINING_DATA: "training data"}


@dataclass(frozen=True)
class GoverningLicence:
    """One licence, the components it governs, where it was found and which ancestors it comes from."""

    id: str
    name: str
    spdx: str | None
    components: tuple[str, ...]
    found_in: tuple[str, ...]  # files and card fields of the release
    inherited_from: tuple[str, ...]  # ancestors (repo ids) whose licence binds the weights
    policy: bool = False  # an acceptable-use policy: restricts, grants nothing
    unknown: bool = False  # not in the knowledge base: read from its own text, named by its LicenseRef- id

    def keys(self) -> set[str]:
        """The lower-case ids a policy's names are compared with."""
        keys = {self.id.lower(), f"licenseref-{self.id.lower()}"}
        if self.spdx:
            keys.add(self.spdx.lower())
        return keys

    def describe(self) -> str:
        """"Meta Llama 3 Community License Agreement (weights), inherited from meta-llama/Meta-Llama-3-8B"."""
        labels = ([self.spdx] if self.unknown and self.spdx and self.spdx != self.name else []) + list(self.components)
        where = f" ({'; '.join(labels)})" if labels else ""
        parts = []
        if self.inherited_from:
            parts.append("inherited from " + ", ".join(self.inherited_from))
        if self.found_in:
            parts.append("found in " + ", ".join(self.found_in))
        return f"{self.name}{where}" + (", " + "; ".join(parts) if parts else "")

    @property
    def origins(self) -> tuple[str, ...]:
        """Everywhere it was read: the release's files and card fields, then the ancestors."""
        return self.found_in + self.inherited_from


@dataclass(frozen=True)
class _Named:
    id: str
    name: str
    spdx: str | None
    policy: bool
    unknown: bool


class _Collected:
    """Licences in the order first seen, one per SPDX id (a card's name and a file's text of the
    same unknown licence are one), each with its components and origins."""

    def __init__(self, ancestors: set[str]) -> None:
        self.ancestors = ancestors
        self.named: dict[str, _Named] = {}
        self.components: dict[str, list[str]] = {}
        self.origins: dict[str, list[str]] = {}

    def add(self, licence: _Named, component: str | None, origin: str | None) -> None:
        key = (licence.spdx or licence.id).lower()
        known = self.named.get(key)
        if known is None or (known.name == known.id and licence.name != licence.id):  # a title beats a bare id
            self.named[key] = licence if known is None else _Named(known.id, licence.name, known.spdx, known.policy,
                                                                   known.unknown or licence.unknown)
        components = self.components.setdefault(key, [])
        if component and component not in components:
            components.append(component)
        origins = self.origins.setdefault(key, [])
        if origin and origin not in origins:
            origins.append(origin)

    def result(self) -> tuple[GoverningLicence, ...]:
        return tuple(
            GoverningLicence(n.id, n.name, n.spdx, tuple(self.components[key]),
                             tuple(o for o in self.origins[key] if o not in self.ancestors),
                             tuple(o for o in self.origins[key] if o in self.ancestors), n.policy, n.unknown)
            for key, n in self.named.items()
        )


def governing_licences(result: AuditResult, kb: KnowledgeBase | None) -> tuple[GoverningLicence, ...]:
    """Every licence that governs a component of `result` or was found in it, with its origins."""
    found = {m.id: m for m in result.licences}
    by_spdx = {(m.spdx or "").lower(): m for m in result.licences if m.spdx}
    collected = _Collected({a.repo_id for a in result.lineage})

    def known(licence_id: str) -> bool:
        return kb is None or kb.get(licence_id) is not None

    def named(match: LicenceMatch) -> _Named:
        return _Named(match.id, match.name, match.spdx, match.kind is LicenceKind.POLICY, match.unidentified or not known(match.id))

    def resolve(text: str) -> _Named | None:
        match = found.get(text) or by_spdx.get(text.lower())
        if match is not None:
            return named(match)
        profile = kb.lookup(text) if kb is not None else None
        if profile is None and kb is not None and text.lower().startswith("licenseref-"):
            profile = kb.get(text[len("licenseref-"):].lower())
        if profile is None:  # a LicenseRef- the knowledge base does not know still names a licence
            return _Named(text, text, text, False, True) if text.startswith("LicenseRef-") else None
        return _Named(profile.id, getattr(profile, "name", profile.id), profile.spdx,
                      getattr(profile, "kind", None) is LicenceKind.POLICY, False)

    weights = _WORDS[ComponentName.WEIGHTS]
    for term in result.terms.values():  # the weights' effective terms: own, read and inherited licences
        for licence_id, because in zip(term.sources, term.because, strict=False):
            resolved = resolve(licence_id)
            if resolved is not None:
                collected.add(resolved, weights, because)
    for name, words in _WORDS.items():
        component = result.components.get(name)
        if component is None or not component.licence:
            continue
        for part in split_expression(component.licence):
            resolved = resolve(part)
            if resolved is not None:
                sources = [m.source for m in result.licences if m.id == resolved.id]
                inherited = [a.repo_id for a in result.lineage if resolved.id in a.licences]
                origins: list[str | None] = [*sources] or [*inherited] or [None]
                for origin in origins:
                    collected.add(resolved, words, origin)
    for match in result.licences:  # every licence found, governing or not
        collected.add(named(match), None, match.source)
    return collected.result()
