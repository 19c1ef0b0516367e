"""The judge's tables and the finding codes checked against the knowledge base and the code.

Every licence family, category and licence id a judge table names must exist in licences/
(a key that names nothing never fires, silently); every fact key and value they use must be
the schema's; every finding code declared in findings.yaml must be raised by some check, and
every code a check raises must be declared.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from auditor.findings import declared
from auditor.identify import load_knowledge_base
from auditor.identify.kb import LicenceCategory
from auditor.judge.effective import FACT_KEYS
from auditor.judge.licences import TermsLevel
from auditor.judge.tables import rule_table

PROJECT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((PROJECT / "licences" / "_schema.yaml").read_text(encoding="utf-8"))
KB = load_knowledge_base()
FAMILIES = {p.family for p in KB if p.family}
CATEGORIES = {c.value for c in LicenceCategory}
FACT_VALUES = {name: set(spec.get("values") or ()) for name, spec in SCHEMA["facts"].items()}


def test_the_fact_keys_are_the_schemas():
    assert set(FACT_KEYS) == set(SCHEMA["facts"])


@pytest.mark.parametrize("duty", [k for k, v in rule_table("duties.yaml").items() if isinstance(v, dict)])
def test_every_duty_is_keyed_by_a_licence_family(duty):
    unknown = sorted(set(rule_table("duties.yaml")[duty]) - FAMILIES)
    assert not unknown, f"duties.yaml {duty}: no licence family {unknown}"


def test_duties_apply_to_relations_the_lineage_knows():
    assert set(rule_table("duties.yaml")["new_model_relations"]) <= {"finetune", "adapter", "merge", "quantized", "derived"}


def test_lineage_rules_cover_every_base_category_and_name_real_families():
    table = rule_table("lineage.yaml")
    assert set(table["base_categories"]) == CATEGORIES - {"policy"}, "a policy is never a base model's licence"
    rules = {entry["rule"] for entry in table["base_categories"].values()}
    assert rules <= {"any", "same-family", "carry-restrictions", "stay-non-commercial"}
    assert all("why" in entry for entry in table["base_categories"].values() if entry["rule"] != "any")
    assert set(table["share_alike_families"]) <= FAMILIES


def test_terms_levels_cover_every_category_with_a_known_level():
    table = rule_table("terms.yaml")
    levels = {level.value for level in TermsLevel}
    assert set(table["category_levels"]) == CATEGORIES
    assert set(table["category_levels"].values()) <= levels
    assert set(table["commercial_use_levels"]) <= FACT_VALUES["commercial_use"]
    assert set(table["commercial_use_levels"].values()) <= levels
    for clause in table["custom_clauses"]:
        assert clause["level"] in levels, clause["label"]
        for pattern in clause["patterns"]:
            re.compile(pattern)


def test_effective_terms_use_the_schemas_fact_keys_and_values():
    table = rule_table("effective.yaml")
    lineage_rules = {entry["rule"] for entry in rule_table("lineage.yaml")["base_categories"].values()}
    assert set(table["inherits"]) <= lineage_rules
    for keys in table["inherits"].values():
        assert keys == "all" or set(keys) <= set(FACT_KEYS)
    assert set(table["policy_keys"]) <= set(FACT_KEYS)
    for key, values in table["order"].items():
        assert key == "default" or key in FACT_KEYS, key
        allowed = FACT_VALUES.get(key) or {"yes", "no"}
        assert set(values) == allowed, f"order of {key}: {values} is not every value of {sorted(allowed)}"
    from auditor.judge.licences import _READ_COMMERCIAL  # the labels of commercial-use clauses the clause reader finds

    labels = {clause["label"] for clause in rule_table("terms.yaml")["custom_clauses"]} | {label for _, label in _READ_COMMERCIAL.values()}
    for label, fact in table["clause_facts"].items():
        assert label in labels, f"clause_facts: no custom clause labelled {label!r}"
        assert fact["key"] in FACT_KEYS and fact["value"] in FACT_VALUES[fact["key"]], label
    for name in ("no_licence", "unknown_licence"):
        assert table[name]["value"] in FACT_VALUES["commercial_use"]


def test_inferred_bases_come_from_licence_profiles_that_name_their_models():
    """A base model that cannot be looked up is inferred to be under the licence whose profile lists it
    (`models`): every pattern compiles, belongs to a licence (not a policy) and names an org/name repo."""
    patterned = [p for p in KB if p.models]
    assert patterned
    for profile in patterned:
        assert profile.kind.value == "licence", profile.id
        for pattern in profile.models:
            re.compile(pattern)
            assert "/" in pattern, f"{profile.id}: {pattern} names no org/name repo"
    # two well-known bases, under the licences their publishers release them under
    assert [p.id for p in KB.licences_of_model("meta-llama/Llama-2-7b-hf")] == ["llama2"]
    assert "apache-2.0" in [p.id for p in KB.licences_of_model("mistralai/Mistral-7B-v0.1")]


def _raised_codes() -> tuple[set[str], list[str]]:
    """The codes passed to finding(), and to the helpers that pass a code on, as literals; and any non-literal call."""
    raised: set[str] = set()
    codes = set(declared())
    for path in (PROJECT / "auditor").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                arguments = [*node.args, *(k.value for k in node.keywords)]
                raised.update(a.value for a in arguments if isinstance(a, ast.Constant) and a.value in codes)
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                if name == "finding" and node.args and isinstance(node.args[0], ast.Constant):
                    raised.add(node.args[0].value)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):  # a helper's default code
                raised.update(d.value for d in node.args.defaults if isinstance(d, ast.Constant) and d.value in codes)
            elif isinstance(node, ast.For):  # codes a loop raises in turn: for code, ... in (("code", ...), ...)
                raised.update(c.value for c in ast.walk(node.iter) if isinstance(c, ast.Constant) and c.value in codes)
    return raised, sorted(codes)


def test_every_declared_finding_code_is_raised_and_every_raised_code_declared():
    raised, codes = _raised_codes()
    assert not sorted(set(codes) - raised), f"declared in findings.yaml but raised by no check: {sorted(set(codes) - raised)}"
    assert raised <= set(codes)
    for spec in declared().values():
        assert spec["severity"] in ("error", "warning", "info") and spec["title"] and spec["help"]
        assert set(spec.get("also-fails") or ()) <= set(codes)


def test_every_literal_code_given_to_finding_is_declared():
    codes = set(declared())
    for path in (PROJECT / "auditor").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "finding" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    assert first.value in codes, f"{path.name}:{node.lineno}: {first.value} is not declared"
