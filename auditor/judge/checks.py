"""Findings about the release itself, beside its licences: card, unread files, weights, code, data."""

from __future__ import annotations

from collections.abc import Mapping

from auditor.card import find_card_path
from auditor.findings import finding
from auditor.judge.components import ReleaseContents
from auditor.model import (
    Category,
    Component,
    ComponentName,
    Finding,
    RepoSnapshot,
    Severity,
    SkipKind,
)

_PICKLE_FORMATS = {"pickle"}


def release_findings(release: ReleaseContents, components: Mapping[ComponentName, Component]) -> list[Finding]:
    """Stage entry point: the findings about what the release ships or lacks (card, code, data, unread files)."""
    snapshot, card, artefacts, weight_sets = release.snapshot, release.card, release.artefacts, release.weight_sets
    evidence, code = release.evidence, release.code
    found: list[Finding] = []
    unread = {s.path: s.reason for s in snapshot.unread}
    unread_card = find_card_path(unread) if card is None else None
    found.extend(_unread(snapshot, besides=unread_card))
    if unread_card is not None:  # there is a card, it could not be read: not a missing card
        found.append(finding("card-unread", f"{unread_card}: {unread[unread_card]}; its metadata and licence section were not used", [unread_card]))
    elif card is None:
        found.append(finding("card-missing", "the repository has no README.md model card"))
    elif card.error:
        found.append(finding("card-metadata-invalid", f"{card.path}: {card.error}", [card.path or "README.md"]))
    if not weight_sets:
        found.append(finding("weights-missing", "no weight files in the repository"))
    pickled = [s for s in weight_sets if s.format in _PICKLE_FORMATS]
    if pickled:
        safe_alternative = any(s.format == "safetensors" for s in weight_sets)
        found.append(finding(
            "pickle-weights",
            f"{len(pickled)} weight set(s) in a pickle-based format: {', '.join(s.name for s in pickled[:5])}"
            + ("; safetensors copies are also published" if safe_alternative else "; no safetensors alternative"),
            [f for s in pickled for f in s.files][:20],
            severity=Severity.INFO if safe_alternative else None,
        ))
    modelling = [a.path for a in artefacts if a.category is Category.CODE and a.path.rsplit("/", 1)[-1].startswith(("modeling_", "modelling_"))]
    if evidence.remote_code or modelling:
        modules = list(dict.fromkeys(list(evidence.remote_code) + modelling))
        found.append(finding("remote-code", f"config.json auto_map or modelling code loads repository code: {', '.join(modules)}", modules))
    if components[ComponentName.WEIGHTS].present:
        if not code.training:
            found.append(finding("training-code-missing", "neither the repository nor the card's links hold training code"))
        if not components[ComponentName.TRAINING_DATA].present:
            detail = "the card describes it but names no dataset" if evidence.data_description else "no dataset is named or shipped"
            found.append(finding("training-data-undisclosed", f"training data: {detail}"))
    for base in evidence.base_models:
        found.append(finding("base-model-licence", f"derived from {base}: its licence terms may carry over", [f"card:base_model={base}"]))
    return found


def _unread(snapshot: RepoSnapshot, besides: str | None = None) -> list[Finding]:
    gated = [s for s in snapshot.unread if s.kind is SkipKind.GATED]
    other = [s for s in snapshot.unread if s.kind is not SkipKind.GATED and s.path != besides]
    found = []
    if gated:
        repo = snapshot.target.repo_id or ""
        found.append(finding(
            "gated-files-unread",
            f"{len(gated)} file(s) of this gated repository could not be read ({', '.join(s.path for s in gated[:6])}"
            f"{', ...' if len(gated) > 6 else ''}); request access at {snapshot.hub_endpoint}/{repo} and pass --token",
            [s.path for s in gated],
        ))
    for skipped in other:
        found.append(finding("file-unread", f"{skipped.path}: {skipped.reason}", [skipped.path]))
    return found
