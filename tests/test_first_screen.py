"""The first screen ("What may I do?") says what the licences say and no more: a termination line
only where a licence ends rights on breach, territory only for the models a clause names, the
prohibited uses listed, a library name not taken for code, and a provisional answer marked in JSON too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import audit_model

FIXTURES = Path(__file__).parent / "fixtures" / "repos"


def _repo_id(case: str) -> str:
    return yaml.safe_load((FIXTURES / case / "repo.yaml").read_text())["id"]


def _targets(case: str, local_checkout) -> list[str]:
    return [_repo_id(case), str(local_checkout(case))]


def _run(target: str, fmt: str) -> str:
    result = CliRunner().invoke(audit_model, [target, "--format", fmt])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _first_screen(markdown: str) -> str:
    return markdown.split("## What may I do?", 1)[1].split("\n## ", 1)[0]


def test_apache_has_no_termination_line_only_its_patent_licence_ends(fake_hub, local_checkout):
    for target in _targets("apache-weights-only", local_checkout):
        screen = _first_screen(_run(target, "markdown"))
        assert "your rights end" not in screen
        assert json.loads(_run(target, "json"))["terms"]["termination"]["value"] == "patent"


def test_a_licence_that_ends_rights_on_breach_has_its_termination_line_quoting_it(fake_hub, local_checkout):
    for target in _targets("llama32-text", local_checkout):
        screen = _first_screen(_run(target, "markdown"))
        line = next(line for line in screen.splitlines() if "your rights end" in line)
        assert "“Meta may terminate this Agreement if you are in breach" in line


@pytest.mark.parametrize(("case", "territory"), [("llama32-text", False), ("llama32-vision", True)])
def test_the_llama_3_2_eu_exclusion_is_shown_only_for_its_multimodal_models(case, territory, fake_hub, local_checkout):
    for target in _targets(case, local_checkout):
        screen = _first_screen(_run(target, "markdown"))
        assert ("**Territory:**" in screen) is territory
        terms = json.loads(_run(target, "json"))["terms"]
        assert (terms.get("territory", {}).get("value") == "yes") is territory


def test_the_prohibited_uses_are_listed_first_few_then_counted(fake_hub, local_checkout):
    for target in _targets("llama32-text", local_checkout):
        screen = _first_screen(_run(target, "markdown"))
        line = next(line for line in screen.splitlines() if "prohibits" in line)
        assert "prohibits: violating the law or others' rights" in line and "; and 15 more" in line
        listed = json.loads(_run(target, "json"))["terms"]["use_restrictions"]["listed"]
        assert len(listed) == 19 and listed[7] == "military, warfare, nuclear, espionage or ITAR-controlled uses"


def test_a_library_name_is_not_code(fake_hub, local_checkout):
    for target in _targets("llama32-text", local_checkout):
        report = json.loads(_run(target, "json"))
        assert report["components"]["code"]["present"] is False
        assert "| Code | no |" in _run(target, "markdown")


def test_a_provisional_commercial_answer_is_marked_in_json_as_in_markdown(fake_hub, local_checkout):
    for target in _targets("open-science", local_checkout):
        report = json.loads(_run(target, "json"))
        assert report["verdict"]["provisional"] is True
        commercial = report["terms"]["commercial_use"]
        assert commercial["provisional"] is True and commercial["qualifier"]
        screen = _first_screen(_run(target, "markdown"))
        assert f"**Commercial use: {commercial['value']}{' ' + commercial['qualifier']}**" in screen


def test_a_settled_answer_carries_no_provisional_mark(fake_hub):
    commercial = json.loads(_run(_repo_id("llama32-text"), "json"))["terms"]["commercial_use"]
    assert "provisional" not in commercial and "qualifier" not in commercial
