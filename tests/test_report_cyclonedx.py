"""The CycloneDX renderer: a schema-valid 1.6 ML-BOM with the model, its licences, card and datasets."""

import json
from dataclasses import replace

import pytest
from auditresults import SHA, audit_fixture, hub_result, relabelled_result, unlicensed_result
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from auditor.model import Artefact, Category, ReleaseEvidence, Target, TargetKind
from auditor.report import OutputFormat, renderer_for
from auditor.report.cyclonedx import CycloneDxRenderer

VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)


def render(*results, failures=()) -> dict:
    text = CycloneDxRenderer().render_batch(list(results), failures)
    error = VALIDATOR.validate_str(text)
    assert error is None, error
    return json.loads(text)


def model_of(bom: dict, index: int = 0) -> dict:
    return [c for c in bom["components"] if c["type"] == "machine-learning-model"][index]


@pytest.mark.parametrize("make", [hub_result, relabelled_result, unlicensed_result])
def test_output_is_valid_cyclonedx_1_6(make):
    bom = render(make())
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"


def test_the_validator_rejects_a_broken_model_card():
    bom = json.loads(CycloneDxRenderer().render(hub_result()))
    model_of(bom)["modelCard"]["modelParameters"]["task"] = 7
    assert VALIDATOR.validate_str(json.dumps(bom)) is not None


def test_hub_model_component_purl_and_references():
    model = model_of(render(hub_result()))
    assert model["name"] == "fixture-1b" and model["group"] == "fixture-lab" and model["version"] == SHA
    assert model["purl"] == f"pkg:huggingface/fixture-lab/fixture-1b@{SHA}"
    references = {ref["type"]: ref["url"] for ref in model["externalReferences"]}
    assert references["website"] == "https://huggingface.co/fixture-lab/fixture-1b"
    assert references["model-card"].endswith(f"/blob/{SHA}/README.md")


def test_licences_spdx_ids_and_names_declared_and_concluded():
    model = model_of(render(relabelled_result()))
    licences = {(entry["license"].get("id") or entry["license"].get("name"), entry["license"]["acknowledgement"])
                for entry in model["licenses"]}
    assert licences == {("Apache-2.0", "declared"), ("Llama 3.1 Community License", "concluded")}
    # The acceptable-use policy is not a licence: it becomes an ethical consideration.
    risks = model["modelCard"]["considerations"]["ethicalConsiderations"]
    assert any("Acceptable Use Policy" in risk["name"] for risk in risks)


def test_same_licence_in_card_and_file_appears_once_per_acknowledgement():
    licences = model_of(render(hub_result()))["licenses"]
    assert sorted(e["license"]["acknowledgement"] for e in licences) == ["concluded", "declared"]
    assert {e["license"]["id"] for e in licences} == {"Apache-2.0"}


def test_model_card_parameters_metrics_and_dataset_refs():
    plain = hub_result()
    evidence = replace(plain.evidence, architectures=("LlamaForCausalLM",), model_type="llama")
    bom = render(replace(plain, evidence=evidence))
    card = model_of(bom)["modelCard"]
    parameters = card["modelParameters"]
    assert parameters["task"] == "text-generation"
    assert parameters["architectureFamily"] == "llama" and parameters["modelArchitecture"] == "LlamaForCausalLM"
    data_refs = {c["bom-ref"] for c in bom["components"] if c["type"] == "data"}
    assert {d["ref"] for d in parameters["datasets"]} == data_refs == {
        "dataset:fixture-lab/pretraining-mix", "dataset:fixture-lab/instruct-mix"}
    assert card["quantitativeAnalysis"]["performanceMetrics"] == [{"type": "accuracy", "value": "61.2", "slice": "ARC"}]
    assert {"name": "audit-model:library_name", "value": "transformers"} in card["properties"]


def test_no_metrics_no_quantitative_analysis():
    base = hub_result()
    card = model_of(render(hub_result(card=type(base.card)(path="README.md", metadata={"license": "mit"}, body=""))))["modelCard"]
    assert "quantitativeAnalysis" not in card and "task" not in card.get("modelParameters", {})


def test_datasets_are_data_components_the_model_depends_on():
    bom = render(hub_result())
    data = [c for c in bom["components"] if c["type"] == "data"]
    assert {d["data"][0]["name"] for d in data} == {"fixture-lab/pretraining-mix", "fixture-lab/instruct-mix"}
    assert all(d["externalReferences"][0]["url"].startswith("https://huggingface.co/datasets/") for d in data)
    model_ref = model_of(bom)["bom-ref"]
    depends = {d["ref"]: set(d.get("dependsOn", [])) for d in bom["dependencies"]}
    assert depends[model_ref] == {d["bom-ref"] for d in data}


def test_shipped_training_data_is_a_data_component():
    base = hub_result()
    shipped = Artefact("data/train.jsonl", Category.TRAINING_DATA, "jsonl", 1234, "data/*")
    bom = render(hub_result(artefacts=base.artefacts + (shipped,), evidence=ReleaseEvidence()))
    data = [c for c in bom["components"] if c["type"] == "data"]
    assert [d["name"] for d in data] == ["data/train.jsonl"]
    assert data[0]["data"][0]["description"] == "shipped in the repository"


def test_weight_files_nested_with_sizes_and_base_model_as_ancestor():
    model = model_of(render(hub_result()))
    files = {c["name"]: c for c in model["components"]}
    assert "pytorch_model.bin" in files and "config.json" not in files
    props = {p["name"]: p["value"] for p in files["model-00001-of-00002.safetensors"]["properties"]}
    assert props["audit-model:size"] == "4000000000" and props["audit-model:format"] == "safetensors"
    ancestor = model["pedigree"]["ancestors"][0]
    assert ancestor["purl"] == "pkg:huggingface/fixture-lab/base-1b"


def test_verdict_and_findings_as_properties():
    props = model_of(render(relabelled_result()))["properties"]
    assert {"name": "audit-model:openness", "value": "restricted-weights"} in props
    assert {"name": "audit-model:finding:error", "value": "licence-relabelled"} in props


def test_local_target_has_no_purl_and_is_named_after_its_directory(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    model = model_of(render(hub_result(target=Target(TargetKind.LOCAL, path=str(folder)), sha=None)))
    assert model["name"] == "my-model" and "purl" not in model and "version" not in model


def test_batch_shares_datasets_and_keeps_refs_unique():
    bom = render(hub_result(), hub_result(), failures=[("org/missing", "not found")])
    refs = [model_of(bom, i)["bom-ref"] for i in range(2)]
    assert len(set(refs)) == 2
    assert len([c for c in bom["components"] if c["type"] == "data"]) == 2
    assert {"name": "audit-model:not-audited", "value": "org/missing: not found"} in bom["metadata"]["properties"]


def test_renderer_for_knows_cyclonedx():
    assert isinstance(renderer_for(OutputFormat("cyclonedx")), CycloneDxRenderer)


@pytest.mark.parametrize("name", ["gated", "gguf-quant", "open-science", "relabelled", "no-weights"])
def test_fixture_audits_are_valid_cyclonedx(tmp_path, name):
    result, _ = audit_fixture(name, tmp_path)
    model = model_of(render(result))
    assert model["name"] == name and model["version"] == result.sha
