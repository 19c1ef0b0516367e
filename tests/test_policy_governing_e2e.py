"""Allow and deny lists judge the licences that govern each component, as the report shows them,
through the CLI over the fake Hub and on local folders.

Expectations come from the fixtures' construction: fixture-tuners/llama-3.1-8b-chat-tune ships the
Llama 3.1 Community License; fixture-art/diffusion-v1 the BigScience OpenRAIL-M licence;
fixture-lineage/llama3-relabelled is a fine-tune of meta-llama/Meta-Llama-3-8B whose card says
Apache-2.0 (its LICENSE is Apache's too), so the Llama 3 licence governs its weights by
inheritance; aurora-ai/aurora-34b ships a licence the knowledge base does not know.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import audit_model
from fakehub.checkout import materialise

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
LLAMA31 = "fixture-tuners/llama-3.1-8b-chat-tune"
OPENRAIL = "fixture-art/diffusion-v1"
DROPS_ITS_BASE = "fixture-lineage/llama3-relabelled"
UNKNOWN = "aurora-ai/aurora-34b"


def _run(*args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(audit_model, [*args, "--format", "json"])
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, report, result.stderr


def _messages(report: dict) -> list[str]:
    return [f["message"] for f in report.get("policy", {}).get("failures", [])]


@pytest.mark.parametrize("name", ["llama", "Llama", "llama*", "llama3.1"])
def test_a_llama_deny_list_refuses_llama_3_1(name, fake_hub):
    code, report, _ = _run(LLAMA31, "--deny-licence", name)
    assert code == 1
    assert any(m.startswith("Llama 3.1 Community License Agreement (weights)") for m in _messages(report)), _messages(report)


@pytest.mark.parametrize("name", ["openrail", "openrail-m", "openrail*", "OpenRAIL-M"])
def test_an_openrail_deny_list_refuses_bigscience_openrail_m(name, fake_hub):
    code, report, _ = _run(OPENRAIL, "--deny-licence", name)
    assert code == 1, _messages(report)
    assert any("BigScience" in m for m in _messages(report))


@pytest.mark.parametrize("where", ["hub", "local"])
def test_inherited_terms_are_judged_and_the_failure_names_the_base(where, fake_hub, tmp_path):
    target = DROPS_ITS_BASE if where == "hub" else str(materialise(FIXTURES / "lineage-llama-relabelled", tmp_path / "ft"))
    for option in (["--allow-licence", "apache-2.0,mit"], ["--deny-licence", "llama"]):
        code, report, _ = _run(target, *option)
        assert code == 1, option
        [message] = _messages(report)
        assert message.startswith("Meta Llama 3 Community License Agreement (weights), inherited from meta-llama/Meta-Llama-3-8B")
    # the release's own Apache licence is allowed: only the inherited one fails the list
    assert _run(target, "--allow-licence", "apache-2.0,llama")[0] == 0


def test_a_licence_read_from_an_unknown_text_is_judged_by_its_licenceref_id(fake_hub):
    code, report, _ = _run(UNKNOWN, "--allow-licence", "apache-2.0")
    assert code == 1
    [message] = _messages(report)
    assert message.startswith("Aurora Community Model License (LicenseRef-aurora-community-model-license; weights)")


def test_a_failing_rule_is_printed_once(fake_hub):
    result = CliRunner().invoke(audit_model, [DROPS_ITS_BASE, "--deny-licence", "llama", "--fail-on", "licence-incompatible-with-base"])
    assert result.exit_code == 1
    failures = [line for line in result.stdout[result.stdout.index("## Policy"):].splitlines() if line.startswith("- `")]
    assert [line.split("`")[1] for line in failures] == ["fail-on licence-incompatible-with-base", "deny-licence llama"]
    assert result.stderr.count("deny-licence llama") == 1


@pytest.mark.parametrize("name, suggestion", [("lama", "llama"), ("openrial", "openrail"), ("stabilty", "stability")])
def test_a_misspelt_family_is_refused_with_a_suggestion(name, suggestion, fake_hub):
    code, _, stderr = _run(LLAMA31, "--deny-licence", name)
    assert code == 2 and f"'{suggestion}" in stderr, stderr


def test_a_family_named_by_its_unambiguous_start_is_known(fake_hub):
    assert _run(LLAMA31, "--deny-licence", "stability")[0] == 0  # stability-ai's licences: not this one
