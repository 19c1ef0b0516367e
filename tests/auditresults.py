"""AuditResult objects built by hand, for the renderer and policy tests.

They are shaped like real audits (a Hub model with sharded safetensors, a card, a licence
file, findings with file and card evidence) but need no fetcher and no licence engine.
"""

from __future__ import annotations

from dataclasses import replace

from auditor.findings import finding
from auditor.model import (
    Artefact,
    AuditResult,
    Category,
    Component,
    ComponentName,
    LicenceKind,
    LicenceMatch,
    LicenceSummary,
    MatchMethod,
    ModelCard,
    MofClass,
    Openness,
    OsaidStatus,
    ReleaseEvidence,
    Target,
    TargetKind,
    Verdict,
    WeightSet,
)

SHA = "10024ecb8d6303ac2ca413289a31d26ad7915321"


def licence(id_: str, spdx: str | None, source: str, name: str | None = None, kind: LicenceKind = LicenceKind.LICENCE,
            span: tuple[int, int] | None = None) -> LicenceMatch:
    method = MatchMethod.METADATA if source.startswith("card:") else MatchMethod.EXACT
    return LicenceMatch(id=id_, name=name or id_, spdx=spdx, kind=kind, source=source, confidence=1.0, method=method, span=span)


def hub_result(**changes) -> AuditResult:
    """An open-weights Hub model under Apache-2.0, with two findings."""
    artefacts = (
        Artefact("README.md", Category.DOCUMENTATION, "markdown", 2048, "model card"),
        Artefact("LICENSE", Category.LICENCE, None, 11357, "name matches LICENSE*"),
        Artefact("config.json", Category.CONFIG, "json", 700, "config.json"),
        Artefact("model-00001-of-00002.safetensors", Category.WEIGHTS, "safetensors", 4_000_000_000, "*.safetensors", lfs=True),
        Artefact("model-00002-of-00002.safetensors", Category.WEIGHTS, "safetensors", 1_000_000_000, "*.safetensors", lfs=True),
        Artefact("model.safetensors.index.json", Category.WEIGHTS, "json", 20000, "index"),
        Artefact("pytorch_model.bin", Category.WEIGHTS, "pickle", 5_000_000_000, "*.bin", lfs=True),
    )
    weights = WeightSet(
        name="model", format="safetensors", total_size=5_000_000_000, index="model.safetensors.index.json",
        files=("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"), parameters=1_200_000_000,
    )
    pickled = WeightSet(name="pytorch_model", format="pickle", files=("pytorch_model.bin",), total_size=5_000_000_000)
    card = ModelCard(
        path="README.md",
        metadata={
            "license": "apache-2.0",
            "pipeline_tag": "text-generation",
            "library_name": "transformers",
            "datasets": ["fixture-lab/pretraining-mix", "fixture-lab/instruct-mix"],
            "base_model": "fixture-lab/base-1b",
            "model-index": [{
                "name": "Fixture 1B",
                "results": [{
                    "task": {"type": "text-generation"},
                    "dataset": {"name": "ARC", "type": "ai2_arc"},
                    "metrics": [{"type": "accuracy", "value": 61.2}],
                }],
            }],
        },
        body="# Fixture 1B\n\nA small model.\n",
    )
    result = AuditResult(
        target=Target(TargetKind.HUB, repo_id="fixture-lab/fixture-1b"),
        sha=SHA,
        artefacts=artefacts,
        weight_sets=(weights, pickled),
        components={
            ComponentName.WEIGHTS: Component(ComponentName.WEIGHTS, True, weights.files, "Apache-2.0", True),
            ComponentName.CODE: Component(ComponentName.CODE, False),
            ComponentName.TRAINING_DATA: Component(ComponentName.TRAINING_DATA, True, (), None, None, ("named in the card",)),
            ComponentName.DOCUMENTATION: Component(ComponentName.DOCUMENTATION, True, ("README.md",)),
        },
        licences=(licence("apache-2.0", "Apache-2.0", "card:license", "Apache License 2.0"),
                  licence("apache-2.0", "Apache-2.0", "LICENSE", "Apache License 2.0", span=(1, 202))),
        verdict=Verdict(Openness.OPEN_WEIGHTS, MofClass.CLASS_III, OsaidStatus.FAILS, False,
                        reasons=("weights under Apache-2.0",), improvements=("publish the training code",)),
        findings=(
            finding("pickle-weights", "1 weight set(s) in a pickle-based format: pytorch_model", ["pytorch_model.bin"]),
            finding("training-code-missing", "neither the repository nor the card's links hold training code"),
            finding("base-model-licence", "derived from fixture-lab/base-1b", ["card:base_model=fixture-lab/base-1b"]),
        ),
        card=card,
        evidence=ReleaseEvidence(datasets=("fixture-lab/pretraining-mix", "fixture-lab/instruct-mix"),
                                 base_models=("fixture-lab/base-1b",), evaluation_results=True),
        licence_summaries=(LicenceSummary("apache-2.0", "Apache License 2.0", "Apache-2.0", "permissive", True,
                                          url="https://www.apache.org/licenses/LICENSE-2.0"),),
    )
    return replace(result, **changes)


def relabelled_result() -> AuditResult:
    """The card says Apache-2.0 but the LICENSE file is Llama 3.1's: restricted, with an error finding."""
    base = hub_result()
    return replace(
        base,
        target=Target(TargetKind.LOCAL, path="/tmp/checkout"),
        sha=None,
        licences=(licence("apache-2.0", "Apache-2.0", "card:license", "Apache License 2.0"),
                  licence("llama3.1", "LicenseRef-llama3.1", "LICENSE", "Llama 3.1 Community License", span=(3, 80)),
                  licence("llama3.1-aup", None, "USE_POLICY.md", "Llama 3.1 Acceptable Use Policy", kind=LicenceKind.POLICY)),
        verdict=Verdict(Openness.RESTRICTED_WEIGHTS, None, OsaidStatus.FAILS, False, reasons=("Llama 3.1 licence",)),
        findings=(
            finding("licence-relabelled", "the card declares apache-2.0 but the licence text in LICENSE is Llama 3.1",
                    ["card:license", "LICENSE"]),
            finding("use-policy", "Llama 3.1 Acceptable Use Policy applies (USE_POLICY.md)", ["USE_POLICY.md"]),
        ),
        licence_summaries=(LicenceSummary("llama3.1", "Llama 3.1 Community License", "LicenseRef-llama3.1", "custom-community", False),),
    )


def unlicensed_result() -> AuditResult:
    """No card, no licence, no weights: every finding is about the release as a whole."""
    base = hub_result()
    return replace(
        base,
        artefacts=(Artefact("inference.py", Category.CODE, "python", 300, "*.py"),),
        weight_sets=(),
        licences=(),
        components={name: replace(component, licence=None, open=False) for name, component in base.components.items()},
        terms={},
        card=None,
        evidence=ReleaseEvidence(),
        licence_summaries=(),
        verdict=Verdict(Openness.NOT_OPEN, None, OsaidStatus.FAILS, False),
        findings=(
            finding("no-licence", "neither the card nor any file names a licence"),
            finding("card-missing", "the repository has no README.md model card"),
            finding("weights-missing", "no weight files in the repository"),
        ),
    )


FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures" / "repos"


def fixture_names() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if (p / "repo.yaml").exists())


def audit_fixture(name: str, dest) -> tuple[AuditResult, object]:
    """A real audit of a fixture repo materialised as a local checkout under `dest`: (result, checkout)."""
    from auditor.cli import audit_targets
    from fakehub.checkout import materialise

    checkout = materialise(FIXTURES / name, dest / name)
    batch = audit_targets([str(checkout)])
    assert batch.results, batch.failures
    return batch.results[0], checkout
