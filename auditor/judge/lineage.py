"""Is a derivative's declared licence compatible with its base model's?

The rules are data (lineage.yaml), keyed by the base licence's category: a Llama or Gemma
fine-tune must stay under its base agreement, a RAIL derivative must carry the use
restrictions on, a non-commercial base cannot become commercial.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Mapping

import yaml

from auditor.findings import finding
from auditor.judge.licences import TermsLevel, profile_level
from auditor.model import Finding


@lru_cache(maxsize=1)
def _rules() -> Mapping[str, Any]:
    text = resources.files("auditor.judge").joinpath("lineage.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _category(profile: Any) -> str:
    return getattr(profile.category, "value", profile.category)


def _rule_for(base: Any) -> Mapping[str, str]:
    rules = _rules()
    if (base.family or "") in rules["share_alike_families"]:
        return {"rule": "same-family", "why": "share-alike: derivatives must keep the same licence"}
    return rules["base_categories"].get(_category(base), {"rule": "any"})


def compatible(base: Any, derivative: Any) -> tuple[bool, str]:
    """(compatible?, why not) for one base licence profile and one derivative licence profile."""
    rule = _rule_for(base)
    kind = rule["rule"]
    same_family = (base.family or base.id) == (derivative.family or derivative.id)
    if kind == "any" or same_family:
        return True, ""
    if kind == "carry-restrictions":
        restrictive = profile_level(derivative) in (TermsLevel.RESTRICTED, TermsLevel.NON_COMMERCIAL)
        return restrictive, rule.get("why", "")
    if kind == "stay-non-commercial":
        return profile_level(derivative) in (TermsLevel.NON_COMMERCIAL, TermsLevel.NO_RIGHTS), rule.get("why", "")
    return False, rule.get("why", "")


def check_lineage(
    base_licences: Mapping[str, Iterable[str]],
    derivative_ids: Iterable[str],
    kb: Any,
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
