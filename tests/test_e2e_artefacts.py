"""Every scanned format through the real audit path: the CLI on a local folder and over the fake Hub.

Each sample of tests/fixtures/artefacts (built at test time by our own code, in the shapes of
the advisories named there) sits alone in a model repo. A malicious sample must raise an
error finding and fail the `--fail-on unsafe-pickle` gate (`safetensors-header-invalid` for a
safetensors header, whose own gate it is); a benign one must raise no error and pass.
"""

from __future__ import annotations

import json

import pytest
from artefact_repos import hub_repo, repo_folder
from click.testing import CliRunner
from fixtures.artefacts.samples import SAMPLES, by_name

from auditor.cli import audit_model


def audit(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(audit_model, [*args, "--no-check-links", "--format", "json"])
    assert result.stdout.strip(), result.stderr
    return result.exit_code, json.loads(result.stdout)


def gate(name: str) -> str:
    return "safetensors-header-invalid" if name.endswith(".safetensors") else "unsafe-pickle"


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_each_sample_audited_from_a_local_folder(sample, tmp_path):
    root = repo_folder(tmp_path / "repo", sample.name, sample.build())
    code, report = audit(str(root), "--fail-on", gate(sample.name))
    found = errors(report)
    scanned = report["facts"]["weight_scan"]["per_file"]
    assert sample.name in scanned, f"{sample.name} was never scanned: {scanned}"
    if sample.kind == "malicious":
        assert found and all(sample.name in f["evidence"] for f in found), report["findings"]
        assert code == 1
    else:
        assert not found, found
        assert code == 0, report["policy"]


# One malicious and one benign sample per scanner, audited on the Hub by byte ranges.
HUB_PAIRS = [
    ("payload.npy", "embeddings.npy"), ("payload-compressed.npz", "weights.npz"), ("payload-after-array.joblib", "pipeline.joblib"),
    ("payload-gzip.joblib", "pipeline-xz.joblib"), ("payload.zip", "model.zip"), ("payload-7z.pt", "data.7z"), ("payload.tar", "model.tar"),
    ("payload.nemo", "model.nemo"), ("lambda.keras", "model.keras"), ("lambda.h5", "model.h5"),
    ("pyfunc/saved_model.pb", "saved_model.pb"), ("traversal.onnx", "external/model.onnx"),
    ("storage-overflow.pt", "state-dict.pt"), ("overflow.safetensors", "model.safetensors"), ("ssti-cycler.gguf", "tools.gguf"),
]


@pytest.mark.parametrize("malicious,benign", HUB_PAIRS, ids=[m for m, _ in HUB_PAIRS])
def test_each_scanner_over_the_hub_reads_byte_ranges(malicious, benign, fake_hub, tmp_path):
    for name in (malicious, benign):
        sample = by_name()[name]
        data = sample.build()
        repo_id = hub_repo(fake_hub, tmp_path / name.replace("/", "_"), f"artefacts/{name.replace('/', '-')}", name, data)
        code, report = audit(repo_id, "--scan-weights", "--fail-on", gate(name))
        per_file = report["facts"]["weight_scan"]["per_file"]
        assert name in per_file, per_file
        assert 0 < per_file[name]["bytes_read"] <= max(len(data), 1)  # each format says what it read
        assert fake_hub.stats.bytes_by_path, "nothing was read from the Hub"
        if sample.kind == "malicious":
            assert errors(report) and code == 1, report["findings"]
        else:
            assert not errors(report) and code == 0, report["findings"]


def test_a_large_onnx_model_is_read_by_its_structure_not_its_weights(fake_hub, tmp_path):
    from fixtures.artefacts import builders as ab

    data = ab.onnx_model([ab.onnx_tensor("w", raw=bytes(8 << 20)), ab.onnx_tensor("v", "/etc/passwd")])
    repo_id = hub_repo(fake_hub, tmp_path / "big", "artefacts/big-onnx", "model.onnx", data)
    code, report = audit(repo_id, "--scan-weights")
    scan = report["facts"]["weight_scan"]["per_file"]["model.onnx"]
    assert scan["bytes_read"] < 256 * 1024  # the 8 MB initializer is skipped, not fetched
    assert any("/etc/passwd" in f["message"] for f in errors(report))


@pytest.mark.parametrize("name", ["lambda.keras", "payload.npz", "traversal.onnx"])
def test_a_hub_repo_scans_its_code_running_files_by_default(name, fake_hub, tmp_path):
    repo_id = hub_repo(fake_hub, tmp_path / "repo", f"artefacts/default-{name}", name, by_name()[name].build())
    code, report = audit(repo_id, "--fail-on", "unsafe-pickle")
    assert name in report["facts"]["weight_scan"]["per_file"] and errors(report) and code == 1
