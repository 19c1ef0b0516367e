"""The SARIF renderer: schema-valid 2.1.0, one rule per declared code, located results."""

import json
from pathlib import Path

import jsonschema
import pytest
from auditresults import SHA, audit_fixture, fixture_names, hub_result, relabelled_result, unlicensed_result

from auditor.findings import declared
from auditor.report import OutputFormat, renderer_for
from auditor.report.sarif import SarifRenderer

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def validate(text: str) -> dict:
    log = json.loads(text)
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)
    return log


@pytest.mark.parametrize("make", [hub_result, relabelled_result, unlicensed_result])
def test_output_is_valid_sarif(make):
    log = validate(SarifRenderer().render(make()))
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1


def test_the_schema_rejects_a_broken_log():
    # Guards the guard: the vendored schema really constrains the output.
    log = json.loads(SarifRenderer().render(hub_result()))
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_driver_declares_every_finding_code_as_a_rule():
    driver = validate(SarifRenderer().render(hub_result()))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "audit-model" and driver["version"]
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(rules) == set(declared())
    relabelled = rules["licence-relabelled"]
    assert relabelled["shortDescription"]["text"] == declared()["licence-relabelled"]["title"]
    assert relabelled["help"]["text"] == declared()["licence-relabelled"]["help"]
    assert relabelled["defaultConfiguration"]["level"] == "error"
    assert rules["use-policy"]["defaultConfiguration"]["level"] == "note"


def test_results_carry_rule_level_message_and_file_locations():
    run = validate(SarifRenderer(include_info=True).render(relabelled_result()))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    first, second = run["results"]
    assert first["ruleId"] == "licence-relabelled" and rules[first["ruleIndex"]]["id"] == "licence-relabelled"
    assert first["level"] == "error"
    assert "Llama 3.1" in first["message"]["text"]
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"] for loc in first["locations"]]
    assert uris == ["README.md", "LICENSE"]  # card:license points at the card
    # The licence match's line span becomes the region of the LICENSE location.
    assert first["locations"][1]["physicalLocation"]["region"] == {"startLine": 3, "endLine": 80}
    assert second["level"] == "note"
    assert second["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "USE_POLICY.md"


def test_release_wide_findings_point_at_the_card():
    run = validate(SarifRenderer().render(unlicensed_result()))["runs"][0]
    for item in run["results"]:
        assert [loc["physicalLocation"]["artifactLocation"]["uri"] for loc in item["locations"]] == ["README.md"]
    assert {item["ruleId"] for item in run["results"]} == {"no-licence", "card-missing", "weights-missing"}


def test_evidence_that_is_not_a_repo_file_is_not_a_location():
    run = validate(SarifRenderer(include_info=True).render(hub_result()))["runs"][0]
    by_rule = {item["ruleId"]: item for item in run["results"]}
    assert by_rule["pickle-weights"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pytorch_model.bin"
    assert by_rule["base-model-licence"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "README.md"


def test_run_properties_carry_the_verdict_and_hub_provenance():
    run = validate(SarifRenderer().render(hub_result()))["runs"][0]
    assert run["properties"]["verdict"]["openness"] == "open-weights"
    assert run["properties"]["verdict"]["mof_class"] == "III"
    assert run["versionControlProvenance"] == [{"repositoryUri": "https://huggingface.co/fixture-lab/fixture-1b", "revisionId": SHA}]


def test_fingerprints_are_stable_and_distinct():
    one = json.loads(SarifRenderer().render(hub_result()))["runs"][0]["results"]
    two = json.loads(SarifRenderer().render(hub_result()))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["auditModelFinding/v1"] for r in one]
    assert prints == [r["partialFingerprints"]["auditModelFinding/v1"] for r in two]
    assert len(set(prints)) == len(prints)


def test_uri_prefix_for_a_target_in_a_subdirectory():
    run = validate(SarifRenderer(uri_prefix="models/small/").render(relabelled_result()))["runs"][0]
    assert run["results"][0]["locations"][1]["physicalLocation"]["artifactLocation"]["uri"] == "models/small/LICENSE"
    assert SarifRenderer(uri_prefix=".").uri_prefix == ""


def test_batch_is_one_run_per_target_with_failures_as_notifications():
    log = validate(SarifRenderer().render_batch([hub_result(), relabelled_result()], [("org/missing", "not found")]))
    assert len(log["runs"]) == 2
    ids = [run["automationDetails"]["id"] for run in log["runs"]]
    assert len(set(ids)) == 2  # distinct categories, so a dashboard keeps both
    invocation = log["runs"][-1]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "org/missing" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_batch_of_failures_only_is_still_a_valid_log():
    log = validate(SarifRenderer().render_batch([], [("org/missing", "not found")]))
    assert log["runs"][0]["results"] == []


def test_renderer_for_knows_sarif():
    assert isinstance(renderer_for(OutputFormat("sarif")), SarifRenderer)


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_audit_is_valid_sarif_located_in_the_checkout(tmp_path, name):
    result, checkout = audit_fixture(name, tmp_path)
    run = validate(SarifRenderer(include_info=True).render(result))["runs"][0]
    assert len(run["results"]) == len(result.findings)
    for item in run["results"]:
        for location in item["locations"]:
            uri = location["physicalLocation"]["artifactLocation"]["uri"]
            assert (checkout / uri).exists() or uri == "README.md", (item["ruleId"], uri)


def test_info_findings_are_left_out_unless_asked_for():
    result = relabelled_result()
    assert any(f.severity.value == "info" for f in result.findings)
    default = validate(SarifRenderer().render(result))["runs"][0]["results"]
    assert {r["level"] for r in default} == {"error"} and all(r["ruleId"] != "use-policy" for r in default)
    everything = validate(SarifRenderer(include_info=True).render(result))["runs"][0]["results"]
    assert "use-policy" in {r["ruleId"] for r in everything}


def test_batch_results_name_their_target_in_every_location():
    log = validate(SarifRenderer(include_info=True).render_batch([hub_result(), relabelled_result()]))
    for run in log["runs"]:
        root = run["originalUriBaseIds"]["TARGETROOT"]["uri"]
        assert root.endswith("/") and "://" in root
        assert run["results"]
        for item in run["results"]:
            for location in item["locations"]:
                assert location["physicalLocation"]["artifactLocation"]["uriBaseId"] == "TARGETROOT"
                assert location["properties"]["target"] == run["properties"]["target"]
    assert log["runs"][0]["originalUriBaseIds"]["TARGETROOT"]["uri"].startswith("https://huggingface.co/fixture-lab/fixture-1b/blob/")
