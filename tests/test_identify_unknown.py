"""Licences the knowledge base does not know: named from their title, read by their clauses,
weighed by the judge like a profile, and reported as read from an unknown text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import audit_model
from auditor.identify import identify_text, load_knowledge_base
from auditor.identify.names import title_licence_ref
from auditor.identify.normalise import normalise
from auditor.identify.unknown import read_category, read_facts, title_at
from auditor.model import MatchMethod

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
UNKNOWN_CASES = sorted(p.name for p in FIXTURES.glob("unknown-*-licence"))
KB = load_knowledge_base()


def _expected(case: str) -> dict:
    return yaml.safe_load((FIXTURES / case / "expected.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", UNKNOWN_CASES)
def test_an_unknown_licence_is_named_read_and_judged_through_the_cli(case: str, local_checkout, fake_hub) -> None:
    want = _expected(case)
    result = CliRunner().invoke(audit_model, [str(local_checkout(case)), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    licence_id = want["weights_licence"][0]
    read = [m for m in report["licences"] if m["id"] == licence_id]
    assert read and read[0]["unidentified"] and read[0]["method"] == "read" and read[0]["source"] == "LICENSE"
    summary = report["licence_facts"][licence_id]
    assert summary["unidentified"] is True
    assert summary["facts"]["commercial_use"]["value"] == want["commercial_use"]
    for fact in summary["facts"].values():
        assert fact["clause"] and 0 < fact["confidence"] <= 1
    assert report["verdict"]["openness"] == want["openness"]
    assert report["components"]["weights"]["licence"] == licence_id
    assert any(f["code"] == "licence-unidentified" and "read from its clauses" in f["message"] for f in report["findings"])


def test_the_markdown_report_marks_facts_read_from_an_unknown_text(local_checkout, fake_hub) -> None:
    result = CliRunner().invoke(audit_model, [str(local_checkout("unknown-community-licence")), "--format", "markdown"])
    assert result.exit_code == 0, result.stderr
    assert "### Aurora Community Model License" in result.stdout
    assert "Not a licence the auditor knows" in result.stdout
    assert "- **User cap:** 100 million monthly active users (read, confidence 0.80)" in result.stdout
    assert "- **Registration:** yes (read, confidence" in result.stdout
    first_screen = result.stdout.split("## Why this verdict")[0]  # the answer people act on says so too
    assert "**Read, not recognised:** Aurora Community Model License is not a licence the auditor knows" in first_screen


def test_each_kind_of_clause_is_read_with_its_sentence() -> None:
    text = (FIXTURES / "unknown-community-licence" / "files" / "LICENSE").read_text(encoding="utf-8")
    (match,) = identify_text(text, "LICENSE", KB)
    facts = {f.name: f for f in match.facts}
    assert facts["commercial_use"].value == "capped"
    assert facts["user_cap"].value == "100 million monthly active users"
    assert "register with Aurora" in facts["registration"].clause
    assert "Acceptable Use Policy" in facts["use_restrictions"].clause
    assert "improve any other large language model" in facts["output_restrictions"].clause
    assert '"Built with Aurora"' in facts["naming"].clause
    territory = (FIXTURES / "unknown-territory-licence" / "files" / "LICENSE").read_text(encoding="utf-8")
    facts = {f.name: f for f in identify_text(territory, "LICENSE", KB)[0].facts}
    assert facts["territory"].value == "yes" and "European Union" in facts["territory"].clause
    assert facts["commercial_use"].value == "yes"


def test_a_bilingual_licence_is_named_by_its_english_title_and_read_from_either_half() -> None:
    text = (FIXTURES / "unknown-bilingual-licence" / "files" / "LICENSE").read_text(encoding="utf-8")
    (match,) = identify_text(text, "LICENSE", KB)
    assert (match.id, match.name) == ("LicenseRef-xinghe-model-license-agreement", "Xinghe Model License Agreement")
    chinese = text.split("XINGHE MODEL LICENSE AGREEMENT")[0]
    english = "XINGHE MODEL LICENSE AGREEMENT" + text.split("XINGHE MODEL LICENSE AGREEMENT")[1]
    for half in (chinese, english):
        facts = {f.name: f.value for f in read_facts_of(half)}
        assert facts["commercial_use"] == "conditional" and facts["registration"] == "yes", half[:40]


def read_facts_of(text: str) -> tuple:
    (match,) = identify_text(text, "LICENSE", KB)
    assert match.unidentified
    return match.facts


def test_ids_are_stable_and_safe() -> None:
    assert title_licence_ref("The Foo Model License v1.0") == "LicenseRef-foo-model-license-v1.0"
    assert title_licence_ref("FOO | `rm -rf` <b>Licence</b>") == "LicenseRef-foo-rm-rf-b-licence-b"
    chinese = title_licence_ref("星河模型许可协议")
    assert chinese.startswith("LicenseRef-unnamed-") and chinese == title_licence_ref("星河模型许可协议")
    norm = normalise("ACME AI RESEARCH LICENSE OF THE MODEL\n\nAcme grants you a licence.")
    assert title_at(norm, [1, 2, 3]) == (1, "Acme AI Research License of the Model")


def test_text_that_is_no_licence_is_not_read_as_one() -> None:
    readme = "# My model\n\nA fine-tuned model for summarisation. " + "It works well on news articles. " * 20
    notice = "Foo Model License\n\nSee LICENSE.md for the terms."
    heading_only = "## License\n\nYou may use this model for research only. " + "More words about the model follow here. " * 15
    for text in (readme, notice, heading_only):
        assert not any(m.method is MatchMethod.READ for m in identify_text(text, "LICENSE", KB)), text[:30]


def test_facts_that_settle_nothing_leave_the_category_open() -> None:
    assert read_category(read_facts(["Permission is granted to use the Model as described below in every way."])) is None
    assert read_category(read_facts(["You may use the Model solely for non-commercial research purposes."])).value == "non-commercial"
    assert read_category(read_facts(["The license does not extend to use in the European Union by anyone at all."])).value == "custom-community"


def test_a_licence_adapted_from_another_labs_text_is_not_reported_as_that_lab_s() -> None:
    body = (Path(KB.get("llama2").text_path)).read_text(encoding="utf-8")
    lines = body.splitlines()
    adapted = "ORION LABS RESEARCH LICENSE AGREEMENT\n\n" + "\n".join(lines[1:])
    matches = identify_text(adapted, "LICENSE", KB)
    assert "llama2" not in {m.id for m in matches}
    read = [m for m in matches if m.unidentified]
    assert read and read[0].name == "Orion Labs Research License Agreement"
    assert read[0].changes == f"adapted from the text of {KB.get('llama2').name}"
    # the lab's own title over the same text is that lab's licence
    assert [m.id for m in identify_text(body, "LICENSE", KB)][0] == "llama2"


def test_a_huge_unknown_licence_is_read_only_as_far_as_licences_go() -> None:
    head = (FIXTURES / "unknown-territory-licence" / "files" / "LICENSE").read_text(encoding="utf-8")
    filler = "This paragraph explains the history of the project at some length and grants nothing new.\n\n" * 800
    text = head + filler + "The Northwind Works may be used solely for non-commercial research purposes.\n"
    (match,) = identify_text(text, "LICENSE", KB)
    assert {f.name: f.value for f in match.facts}["commercial_use"] == "yes"  # the late clause lies past the reading


def test_a_card_declaring_an_open_licence_over_an_unknown_research_licence_is_relabelled() -> None:
    from auditor.identify.metadata import identify_card_licences
    from auditor.identify.unknown import with_read_licences
    from auditor.judge.licences import TermsLevel, assess_licences
    from auditor.model import ModelCard

    text = (FIXTURES / "unknown-research-licence" / "files" / "LICENSE").read_text(encoding="utf-8")
    card = ModelCard(path="README.md", metadata={"license": "apache-2.0"}, body="")
    matches = (*identify_card_licences(card, KB), *identify_text(text, "LICENSE", KB))
    kb = with_read_licences(KB, matches)
    assert kb.get("LicenseRef-orion-labs-research-license").unidentified and KB.get("LicenseRef-orion-labs-research-license") is None
    assessment = assess_licences(matches, kb, ["LICENSE"], {"LICENSE": text}, "apache-2.0")
    assert assessment.weights.level is TermsLevel.NON_COMMERCIAL
    codes = [f.code for f in assessment.findings]
    assert "licence-relabelled" in codes and "licence-unidentified" in codes


def test_a_licence_without_a_title_line_is_named_as_it_names_itself_or_by_its_file() -> None:
    body = ("Version 2.0, March 2025\n\nYou and the Vela team agree to the following \"Vela Open Weights License Agreement\":\n\n"
            "1. Vela grants you a non-exclusive, worldwide, royalty-free license to use, copy and modify the weights "
            "for any purpose, including commercial purposes, if you register your organisation with Vela first. "
            "You may not use the weights or their outputs to improve any other large language model. "
            "You must retain this notice in every copy of the weights that you distribute to anyone.\n")
    (match,) = identify_text(body, "LICENSE", KB)
    assert (match.id, match.name) == ("LicenseRef-vela-open-weights-license-agreement", "Vela Open Weights License Agreement")
    unnamed = body.replace('the following "Vela Open Weights License Agreement"', "these terms")
    (match,) = identify_text(unnamed, "models/Vela Model License.md", KB)
    assert match.name == "Vela Model License"
    assert identify_text(unnamed, "LICENSE", KB) == ()


def test_a_licence_read_from_an_unknown_text_is_weighed_against_its_base_model() -> None:
    from auditor.identify.unknown import with_read_licences
    from auditor.judge.lineage import check_lineage

    text = (FIXTURES / "unknown-territory-licence" / "files" / "LICENSE").read_text(encoding="utf-8")
    matches = identify_text(text, "LICENSE", KB)
    kb = with_read_licences(KB, matches)
    found = check_lineage({"org/base-nc": ["cc-by-nc-4.0"]}, [matches[0].id], kb)
    assert [f.code for f in found] == ["licence-incompatible-with-base"]
    assert "Northwind Open Model License Agreement" in found[0].message


def test_facts_read_from_a_licence_of_unsettled_category_are_still_reported() -> None:
    from auditor.identify.unknown import with_read_licences
    from auditor.judge.summaries import summarise_licences

    text = ("ACME MODEL LICENSE\n\nAcme grants you a worldwide, royalty-free license to use, copy, modify and share the "
            "Acme model weights and their documentation. You must retain this notice in every copy of the weights you "
            "share with others. This License terminates automatically if you break any of these terms and conditions. "
            "THE WEIGHTS ARE PROVIDED AS IS, WITHOUT WARRANTY OF ANY KIND, AND ACME IS NOT LIABLE FOR ANY DAMAGES.\n")
    matches = identify_text(text, "LICENSE", KB)
    (summary,) = summarise_licences(matches, with_read_licences(KB, matches))
    assert (summary.name, summary.category, summary.unidentified) == ("Acme Model License", "unknown", True)
    assert {f.name for f in summary.facts} == {"attribution", "termination"}
