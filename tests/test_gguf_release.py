"""A GGUF as a full source: every header key read (lineage from general.base_model.*, the
licence from general.license when nothing else names one), and a single .gguf file audited as
a release of one file, locally and as org/name/path.gguf on the Hub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures.weights.builders import ARRAY, F32, STRING, gguf

from auditor.audit import Auditor
from auditor.cli import audit_model
from auditor.errors import NotFound, UsageError
from auditor.identify import load_knowledge_base
from auditor.model import Target, TargetKind
from auditor.sources.local import LocalSource
from auditor.targets import parse_target

FILE = "tiny-chat.Q4_K_M.gguf"
REPO = "fixture-gguf/tiny-chat-gguf"
FIXTURE = Path(__file__).parent / "fixtures" / "repos" / "gguf-only"


def _audit(*args: str) -> dict:
    result = CliRunner().invoke(audit_model, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _check(report: dict) -> None:
    assert [(m["id"], m["source"], m["method"]) for m in report["licences"]] == [("apache-2.0", f"{FILE}:general.license", "metadata")]
    assert report["verdict"]["openness"] == "open-weights" and not report["verdict"]["provisional"]
    assert report["terms"]["commercial_use"]["value"] == "yes"
    base = {a["repo_id"]: a for a in report["lineage"]}["fixture-lineage/apache-base"]
    assert (base["relation"], base["signal"]) == ("quantized", "gguf:general.base_model")
    scanned = report["facts"]["weight_scan"]["per_file"][FILE]
    assert scanned["metadata_read"] == 9 and "metadata" not in scanned  # every key read; the strings are not reported


def test_a_single_gguf_file_is_audited_as_a_release_locally(fake_hub):
    report = _audit(str(FIXTURE / "files" / FILE))
    assert report["target"]["kind"] == "local" and report["target"]["path"].endswith(FILE)
    assert [a["path"] for a in report["artefacts"]] == [FILE]
    _check(report)


def test_a_gguf_only_folder_takes_its_licence_from_the_header(fake_hub, local_checkout):
    _check(_audit(str(local_checkout("gguf-only", lfs_content=True))))


def test_one_gguf_file_of_a_hub_repo_is_a_target(fake_hub):
    report = _audit(f"{REPO}/{FILE}")
    assert report["target"] == {"kind": "hub", "repo_id": REPO, "path": FILE, "revision": None}
    _check(report)


def test_one_file_of_a_hub_repo_keeps_the_repos_card_and_licence_files(fake_hub):
    report = _audit("fixture-lineage/community-gguf/community.Q4_K_M.gguf")
    assert sorted(a["path"] for a in report["artefacts"]) == ["LICENSE", "NOTICE", "README.md", "community.Q4_K_M.gguf"]


def test_one_gguf_file_of_a_hub_repo_is_a_target_from_a_list_too(fake_hub, tmp_path):
    listing = tmp_path / "ids.txt"
    listing.write_text(f"{REPO}/{FILE}\n", encoding="utf-8")
    result = CliRunner().invoke(audit_model, ["--targets-from", str(listing), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["target"] == {"kind": "hub", "repo_id": REPO, "path": FILE, "revision": None}
    _check(report)


def test_a_missing_file_of_a_hub_repo_is_a_clear_error(fake_hub):
    result = CliRunner().invoke(audit_model, [f"{REPO}/absent.gguf", "--format", "json"])
    assert result.exit_code not in (0, 1) and "has no file absent.gguf" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("text", "target"), [
    ("org/name/model.gguf", Target(TargetKind.HUB, repo_id="org/name", path="model.gguf")),
    ("org/name/quants/model-Q4_K_M.gguf", Target(TargetKind.HUB, repo_id="org/name", path="quants/model-Q4_K_M.gguf")),
    ("org/name", Target(TargetKind.HUB, repo_id="org/name")),
])
def test_a_hub_file_target_is_parsed(text, target):
    assert parse_target(text) == target
    assert parse_target(text).label == text


@pytest.mark.parametrize("text", ["org/name/model.bin", "org/name/README.md"])
def test_only_a_gguf_is_a_release_of_one_file(text):
    with pytest.raises((UsageError, NotFound)):
        parse_target(text)


def test_a_local_gguf_with_a_large_vocabulary_is_read_to_its_chat_template(tmp_path):
    vocabulary = [f"token{i}" for i in range(128_256)]  # Llama 3's vocabulary: about 2 MB of strings
    pairs = [("general.architecture", STRING, "llama"), ("tokenizer.ggml.tokens", ARRAY, (STRING, vocabulary)),
             ("tokenizer.ggml.scores", ARRAY, (F32, [0.0] * len(vocabulary))),
             ("tokenizer.chat_template", STRING, "{{ messages }}"), ("general.license", STRING, "mit")]
    (tmp_path / "big.gguf").write_bytes(gguf(pairs))
    result = Auditor(LocalSource(), load_knowledge_base()).run(Target(TargetKind.LOCAL, path=str(tmp_path)))
    scanned = result.weight_scan.per_file["big.gguf"]
    assert "unscanned" not in scanned and scanned["metadata_read"] == 5 and scanned["license"] == "mit"
    assert scanned["bytes_read"] > 1 << 20  # past the default budget of other formats
