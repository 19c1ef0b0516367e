"""Work once per distinct file: a census reads each licence text's blob once (in this run and the
next), identifies each distinct text once, and gives the same records as a run without the memo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from auditor.batch.memo import IdentificationMemo
from auditor.cli import audit_model
from auditor.identify import identify_text, load_knowledge_base
from auditor.sources.blobs import BlobStore, git_blob_id

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
# four repos whose LICENSE is the same file (the Apache 2.0 text), hence the same blob
SAME_LICENCE = ["apache-weights-only", "lineage-card-terms", "lineage-cycle-a", "lineage-unreadable"]


def repo_id(case: str) -> str:
    return yaml.safe_load((FIXTURES / case / "repo.yaml").read_text())["id"]


def census(cache: Path, out: Path, *extra: str) -> dict[str, dict]:
    targets = [repo_id(case) for case in SAME_LICENCE]
    result = CliRunner().invoke(audit_model, [*targets, "--jobs", "4", "--no-check-links", "--cache-dir", str(cache),
                                              "--format", "jsonl", "-o", str(out), "-q", *extra])
    assert result.exit_code in (0, 1), result.stderr
    return {r["target"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}


def licence_reads(hub) -> int:
    return sum(1 for r in hub.stats.log if r.kind == "get" and r.path == "LICENSE")


def test_the_licence_fixtures_share_one_blob():
    texts = {(FIXTURES / case / "files" / "LICENSE").read_bytes() for case in SAME_LICENCE}
    assert len(texts) == 1


def test_a_shared_licence_text_is_read_once_per_run_and_not_again_from_the_cache(fake_hub, tmp_path):
    fake_hub.reset()
    without = census(tmp_path / "none", tmp_path / "none.jsonl", "--no-cache")
    assert licence_reads(fake_hub) == len(SAME_LICENCE)

    fake_hub.reset()
    cold = census(tmp_path / "cache", tmp_path / "cold.jsonl")
    assert licence_reads(fake_hub) == 1
    assert {t: r["report"] for t, r in cold.items()} == {t: r["report"] for t, r in without.items()}

    shutil.rmtree(tmp_path / "cache" / "results")  # no finished records: every repo is audited again
    fake_hub.reset()
    again = census(tmp_path / "cache", tmp_path / "again.jsonl")
    assert licence_reads(fake_hub) == 0
    assert not any(r["cached"] for r in again.values())
    assert {t: r["report"] for t, r in again.items()} == {t: r["report"] for t, r in without.items()}


def test_the_blob_store_keeps_only_bytes_that_match_their_id(tmp_path):
    store = BlobStore(tmp_path)
    data = b"Apache License\nVersion 2.0\n"
    blob = git_blob_id(data)
    store.put("0" * 40, data)  # a listing that lies about the blob
    store.put("../../etc/passwd", data)
    assert store.get("0" * 40) is None and not any(tmp_path.rglob("*"))
    store.put(blob, data)
    assert store.get(blob) == data
    (tmp_path / blob[:2] / blob).write_bytes(b"tampered")
    assert store.get(blob) is None


def test_git_blob_ids_are_gits():
    # `git hash-object` of a file holding "hello\n"
    assert git_blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_an_identification_is_computed_once_and_kept_under_the_knowledge_base(tmp_path):
    kb = load_knowledge_base()
    text = (FIXTURES / "apache-weights-only" / "files" / "LICENSE").read_text(encoding="utf-8")
    calls = []

    def counting(text: str, source: str, kb):
        calls.append(source)
        return identify_text(text, source, kb)

    first = IdentificationMemo(tmp_path).identifier(counting)
    direct = tuple(identify_text(text, "LICENSE", kb))
    assert tuple(first(text, "LICENSE", kb)) == direct and tuple(first(text, "LICENSE", kb)) == direct
    assert calls == ["LICENSE"]
    fresh = IdentificationMemo(tmp_path)  # the next run: from the cache directory
    assert tuple(fresh.identifier(counting)(text, "LICENSE", kb)) == direct and calls == ["LICENSE"] and fresh.hits == 1
    assert tuple(fresh.identifier(counting)(text, "LICENSE.txt", kb)) == tuple(identify_text(text, "LICENSE.txt", kb))
    assert calls == ["LICENSE", "LICENSE.txt"]  # where a text was found is part of its answer
    for entry in tmp_path.rglob("*.json"):
        entry.write_text("[{\"broken\": 1}]")
    assert tuple(IdentificationMemo(tmp_path).identifier(counting)(text, "LICENSE", kb)) == direct  # a damaged entry is a miss


def test_a_gated_repo_is_never_read_from_another_repos_copy_of_a_blob(fake_hub, tmp_path):
    # fetch-lab/big-weights and the gated fetch-lab/gated-3b list the same config.json blob
    assert (FIXTURES / "fetch-big-weights" / "files" / "config.json").read_bytes() == (
        FIXTURES / "fetch-gated" / "files" / "config.json").read_bytes()
    runner = CliRunner()
    reports = {}
    for name, extra in (("memo", []), ("none", ["--no-cache"])):
        out = tmp_path / f"{name}.jsonl"
        runner.invoke(audit_model, ["fetch-lab/big-weights", "fetch-lab/gated-3b", "--jobs", "1", "--format", "jsonl", "-o", str(out),
                                    "-q", "--cache-dir", str(tmp_path / "cache"), *extra])
        reports[name] = {r["target"]: r["report"] for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert reports["memo"] == reports["none"]
    assert "gated-files-unread" in {f["code"] for f in reports["memo"]["fetch-lab/gated-3b"]["findings"]}
