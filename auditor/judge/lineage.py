"""A derivative's chain of ancestors, and whether its declared licence honours theirs.

The chain is read from every signal a release gives (card `base_model`, adapter configs,
mergekit configs, GGUF metadata, the Hub's tags) and followed through a lookup the caller
injects (a source), each repo once.

The rules are data (lineage.yaml), keyed by the base licence's category: a Llama or Gemma
fine-tune must stay under its base agreement, a RAIL derivative must carry the use
restrictions on, a non-commercial base cannot become commercial.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import yaml

from auditor.bounded import load_json, load_yaml
from auditor.findings import finding
from auditor.judge.licences import TermsLevel, profile_level, strictest
from auditor.judge.tables import rule_table
from auditor.model import Ancestor, AncestorRecord, AncestorStatus, Finding, LicenceKind

if TYPE_CHECKING:
    from auditor.identify.interface import LicenceIdentifier
    from auditor.identify.kb import KnowledgeBase, LicenceProfile


def _rules() -> Mapping[str, Any]:
    return rule_table("lineage.yaml")


def _category(profile: LicenceProfile) -> str:
    return getattr(profile.category, "value", profile.category)


def rule_for(base: Any) -> Mapping[str, str]:
    """The lineage rule (lineage.yaml) a base licence sets for its derivatives."""
    rules = _rules()
    if (base.family or "") in rules["share_alike_families"]:
        return {"rule": "same-family", "why": "share-alike: derivatives must keep the same licence"}
    return rules["base_categories"].get(_category(base), {"rule": "any"})


def compatible(base: Any, derivative: Any) -> tuple[bool, str]:
    """(compatible?, why not) for one base licence profile and one derivative licence profile."""
    rule = rule_for(base)
    kind = rule["rule"]
    same_family = (base.family or base.id) == (derivative.family or derivative.id)
    if kind == "any" or same_family:
        return True, ""
    if kind == "carry-restrictions":
        # only a licence that itself imposes use restrictions can carry the base's on
        return _imposes_use_restrictions(derivative), rule.get("why", "")
    if kind == "stay-non-commercial":
        return profile_level(derivative) in (TermsLevel.NON_COMMERCIAL, TermsLevel.NO_RIGHTS), rule.get("why", "")
    return False, rule.get("why", "")


def _imposes_use_restrictions(profile: LicenceProfile) -> bool:
    fact = (profile.facts or {}).get("use_restrictions")
    return fact is not None and str(fact.value).lower() == "yes"


def check_lineage(
    base_licences: Mapping[str, Iterable[str]],
    derivative_ids: Iterable[str],
    kb: KnowledgeBase,
) -> list[Finding]:
    """Findings for each base model whose licence the derivative's licences do not honour.

    `base_licences` maps a base model id to the licence ids its card declares.
    """
    derivatives = [p for p in (kb.lookup(i) or kb.get(i) for i in derivative_ids) if p is not None]
    if not derivatives:
        return []
    found = []
    for base_model, licence_ids in base_licences.items():
        for licence_id in licence_ids:
            base = kb.lookup(licence_id) or kb.get(licence_id)
            if base is None:
                continue
            problems = [(d, why) for d in derivatives for ok, why in [compatible(base, d)] if not ok]
            if len(problems) == len(derivatives):
                derivative, why = problems[0]
                found.append(finding(
                    "licence-incompatible-with-base",
                    f"{base_model} is under {base.name}, but this derivative declares {derivative.name}: {why}",
                    [f"card:base_model={base_model}", "card:license"],
                ))
    return found


# --- the chain of ancestors -------------------------------------------------------------

MAX_LOOKUPS = 50  # base models looked up per audit, across every generation
MAX_DEPTH = 6  # a quantisation of a merge of a fine-tune of a base is 4; deeper chains end with a finding
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_RELATIONS = {"finetune", "adapter", "merge", "quantized"}


@dataclass(frozen=True)
class Link:
    """One named parent: its repo id, how the child derives from it, and where that was read."""

    repo_id: str
    relation: str
    signal: str


def hub_repo_id(value: Any) -> str | None:
    """A Hub model id from a card value, a config path or a Hub URL; None for local paths and junk."""
    text = str(value or "").strip().rstrip("/")
    for prefix in ("https://huggingface.co/", "http://huggingface.co/", "hf://"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    text = text.split("@", 1)[0]
    return text if _REPO_ID.match(text) and not text.startswith((".", "/")) else None


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def card_links(metadata: Mapping[str, Any], signal: str = "card:base_model") -> list[Link]:
    """Parents a card's `base_model` (a string or a list) names, with `base_model_relation`."""
    bases = [b for b in (hub_repo_id(v) for v in _listed(metadata.get("base_model"))) if b]
    relation = str(metadata.get("base_model_relation") or "").lower()
    if relation not in _RELATIONS:
        relation = "merge" if len(bases) > 1 else "derived"
    return [Link(b, relation, signal) for b in dict.fromkeys(bases)]


def tag_links(tags: Iterable[str]) -> list[Link]:
    """Parents the Hub's `base_model:[relation:]org/name` tags name."""
    links = []
    for tag in tags:
        if not tag.startswith("base_model:"):
            continue
        rest = tag[len("base_model:"):]
        relation, _, named = rest.partition(":") if rest.split(":", 1)[0] in _RELATIONS else ("derived", "", rest)
        repo_id = hub_repo_id(named)
        if repo_id:
            links.append(Link(repo_id, relation, "hub:tags"))
    return links


def release_links(
    metadata: Mapping[str, Any], texts: Mapping[str, str], gguf_facts: Iterable[Mapping[str, Any]] = (), tags: Iterable[str] = (),
) -> list[Link]:
    """Every parent the release names: card, adapter_config.json, mergekit configs, GGUF metadata, Hub tags."""
    links = card_links(metadata) + tag_links(tags)
    for path, text in texts.items():
        name = path.rsplit("/", 1)[-1].lower()
        if name == "adapter_config.json":
            try:
                config = load_json(text)
            except ValueError:
                continue
            repo_id = hub_repo_id(config.get("base_model_name_or_path")) if isinstance(config, dict) else None
            if repo_id:
                links.append(Link(repo_id, "adapter", path))
        elif name.startswith("mergekit") and name.endswith((".yml", ".yaml")):
            links += [Link(r, "merge", path) for r in _mergekit_models(text)]
    for facts in gguf_facts:
        for repo_id in facts.get("base_models") or ():
            base_id = hub_repo_id(repo_id)
            if base_id:
                links.append(Link(base_id, "quantized", "gguf:general.base_model"))
    unique: dict[str, Link] = {}
    for link in links:
        if link.repo_id not in unique or (unique[link.repo_id].relation == "derived" and link.relation != "derived"):
            unique[link.repo_id] = link  # the first signal, unless a later one says how it derives
    return list(unique.values())


def _mergekit_models(text: str) -> list[str]:
    """The models a mergekit config merges: `base_model`, `models[].model`, `slices[].sources[].model`."""
    try:
        config = load_yaml(text)
    except yaml.YAMLError:
        return []
    if not isinstance(config, dict):
        return []
    named = [config.get("base_model")]
    named += [m.get("model") for m in _listed(config.get("models")) if isinstance(m, dict)]
    for part in _listed(config.get("slices")):
        if isinstance(part, dict):
            named += [s.get("model") for s in _listed(part.get("sources")) if isinstance(s, dict)]
    return [r for r in dict.fromkeys(hub_repo_id(n) for n in named if n) if r]


def ancestor_licences(record: AncestorRecord, identify: LicenceIdentifier, kb: KnowledgeBase) -> tuple[tuple[str, ...], str | None]:
    """An ancestor's licence ids: from its licence files when readable, else its card (or Hub tags)."""
    from_files = []
    for path, text in record.texts.items():
        if path.upper().startswith("NOTICE"):
            continue
        from_files += [m.id for m in identify(text, path, kb) if m.kind is LicenceKind.LICENCE and m.confidence >= 0.8]
    if from_files:
        return tuple(dict.fromkeys(from_files)), "licence file " + ", ".join(p for p in record.texts if not p.upper().startswith("NOTICE"))
    declared = [*_listed(record.card.get("license_name")), *_listed(record.card.get("license"))]
    declared += [t.split(":", 1)[1] for t in record.tags if t.startswith("license:")]
    ids = [p.id for p in (kb.lookup(str(v)) or kb.get(str(v)) for v in declared if v) if p is not None and _category(p) != "policy"]
    return tuple(dict.fromkeys(ids)), ("card" if ids else None)


def inferred_licences(repo_id: str, kb: KnowledgeBase) -> tuple[str, ...]:
    """The licence a well-known base model is under, inferred from its id by the knowledge base's
    model patterns (each profile's `models`); where patterns overlap, the strictest terms win."""
    candidates = [p for p in kb.licences_of_model(repo_id) if p.kind is LicenceKind.LICENCE]
    if not candidates:
        return ()
    strictest_level = strictest(profile_level(p) for p in candidates)
    return (next(p.id for p in candidates if profile_level(p) is strictest_level),)


def trace_lineage(
    root: str,
    links: list[Link],
    lookup: Callable[[str], AncestorRecord],
    identify: LicenceIdentifier,
    kb: KnowledgeBase,
    max_depth: int = MAX_DEPTH,
) -> tuple[tuple[Ancestor, ...], list[Finding]]:
    """Follow the parents recursively (each repo looked up once); cycles, unreadable and too-deep ancestors end a branch with a finding."""
    ancestors: list[Ancestor] = []
    findings: list[Finding] = []
    seen: set[str] = set()
    queue: list[tuple[Link, str, int, tuple[str, ...]]] = [(link, root, 1, (root,)) for link in links]
    looked_up = 0
    over_cap: list[str] = []
    while queue:
        link, child, depth, path = queue.pop(0)
        base = partial(Ancestor, repo_id=link.repo_id, child=child, relation=link.relation, depth=depth, signal=link.signal)
        if link.repo_id in path:
            ancestors.append(base(status=AncestorStatus.CYCLE, reason=f"names {link.repo_id}, already in its own chain"))
            findings.append(finding("lineage-cycle", f"{child} names {link.repo_id} as its base, which derives from {child}: the chain "
                                    f"{' -> '.join(path + (link.repo_id,))} is a cycle", [link.signal]))
            continue
        if link.repo_id in seen:
            continue  # reached again through another parent (a merge of relatives): already traced
        seen.add(link.repo_id)
        if depth > max_depth:
            ancestors.append(base(status=AncestorStatus.TOO_DEEP, reason=f"deeper than {max_depth} generations"))
            findings.append(finding("ancestor-unreadable", f"{link.repo_id}: the chain of ancestors is followed to {max_depth} generations only", [link.signal]))
            continue
        if looked_up >= MAX_LOOKUPS:  # a card naming thousands of bases must not cost thousands of requests
            over_cap.append(link.repo_id)
            ancestors.append(base(status=AncestorStatus.UNREADABLE, reason=f"not looked up: the cap of {MAX_LOOKUPS} look-ups per audit was reached"))
            continue
        looked_up += 1
        record = lookup(link.repo_id)
        if not record.readable:
            inferred = inferred_licences(link.repo_id, kb)
            ancestors.append(base(status=AncestorStatus.UNREADABLE, reason=record.reason, licences=inferred,
                                      licence_source="inferred from its id" if inferred else None))
            findings.append(finding("ancestor-unreadable", f"{link.repo_id} (base of {child}) could not be checked: {record.reason}; "
                                    "its licence may bind this release", [link.signal]))
            continue
        licences, source = ancestor_licences(record, identify, kb)
        notices = tuple(p for p in record.files if "/" not in p and p.upper().startswith("NOTICE"))
        ancestors.append(base(licences=licences, licence_source=source, notices=notices))
        parents = card_links(record.card) or tag_links(record.tags)
        queue += [(parent, link.repo_id, depth + 1, path + (link.repo_id,)) for parent in parents]
    if over_cap:
        findings.append(finding("ancestor-unreadable", f"{len(over_cap)} more base models named were not looked up (the cap of "
                                f"{MAX_LOOKUPS} look-ups per audit was reached); their licences may bind this release",
                                sorted(over_cap)[:20]))
    return tuple(ancestors), findings
