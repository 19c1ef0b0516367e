"""Header parsing done once per distinct weights file: a census scans a weights blob that two repos
share once (no range request for the second, in this run or the next, from the cache), and reports
for it what a scan of its own gives."""

from __future__ import annotations

import hashlib
import json
import pickle
import struct
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.batch.scan_memo import ScanMemo
from auditor.cli import audit_model
from auditor.errors import SourceError
from auditor.findings import finding
from auditor.model import Artefact, Category, FileEntry, RepoSnapshot
from auditor.scan.base import WeightScan
from auditor.scan.memo import scan_key
from auditor.scan.release import scan_release
from auditor.targets import parse_target
from fakehub import FakeHub

# a safetensors file: its header's length, the JSON header, then the tensor's bytes
_HEADER = json.dumps({"weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}, "__metadata__": {"format": "pt"}}).encode()
SAFETENSORS = struct.pack("<Q", len(_HEADER)) + _HEADER + bytes(16)
# a training-arguments pickle (runs code when loaded, so a Hub census scans it by default); plain data only
TRAINING_ARGS = pickle.dumps({"learning_rate": 2e-5, "epochs": 3}, protocol=4)
REPOS = ["memo-org/first-copy", "memo-org/second-copy", "memo-org/third-copy"]


def write_repo(root: Path, repo_id: str) -> None:
    folder = root / repo_id.replace("/", "__")
    (folder / "files").mkdir(parents=True)
    files = {"README.md": f"---\nlicense: mit\n---\n# {repo_id}\n\nThe same weights as its siblings.\n".encode(),
             "model.safetensors": SAFETENSORS, "training_args.bin": TRAINING_ARGS}
    for name, data in files.items():
        (folder / "files" / name).write_bytes(data)
    meta = {"id": repo_id, "sha": hashlib.sha1(repo_id.encode()).hexdigest(), "gated": False, "private": False,
            "siblings": [{"path": name, "size": len(data)} for name, data in files.items()]}
    (folder / "repo.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")


@pytest.fixture
def shared_weights_hub(tmp_path, monkeypatch):
    for repo_id in REPOS:
        write_repo(tmp_path / "repos", repo_id)
    with FakeHub([tmp_path / "repos"]) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        yield hub


def census(tmp_path: Path, name: str, targets: list[str], *extra: str) -> dict[str, dict]:
    out = tmp_path / f"{name}.jsonl"
    result = CliRunner().invoke(audit_model, [*targets, "--jobs", "1", "--scan-weights", "--no-check-links", "--format", "jsonl",
                                              "-o", str(out), "-q", *extra])
    assert result.exit_code in (0, 1), result.stderr
    return {r["target"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}


def range_reads(hub: FakeHub) -> int:
    return sum(1 for r in hub.stats.log if r.kind == "get" and r.range is not None)


def test_the_fixture_repos_list_one_lfs_blob_per_weights_file(shared_weights_hub):
    digests = {(path, shared_weights_hub.repos[repo_id].siblings[path].sha256) for repo_id in REPOS
               for path in ("model.safetensors", "training_args.bin")}
    assert len(digests) == 2 and all(sha for _, sha in digests)


def test_a_weights_blob_two_repos_share_is_scanned_once_and_not_again_from_the_cache(shared_weights_hub, tmp_path):
    hub = shared_weights_hub
    alone = {}
    for repo_id in REPOS:  # each on its own, nothing remembered: what each repo's scan gives
        hub.reset()
        alone[repo_id] = census(tmp_path, f"alone-{repo_id.split('/')[1]}", [repo_id], "--no-cache")[repo_id]
        one_repo = range_reads(hub)
    assert one_repo > 0  # the safetensors header and the pickle are read by range

    hub.reset()
    both = census(tmp_path, "both", REPOS[:2], "--cache-dir", str(tmp_path / "cache"))
    assert range_reads(hub) == one_repo  # the second copy's weights were not read again
    assert {t: r["report"] for t, r in both.items()} == {t: alone[t]["report"] for t in REPOS[:2]}
    assert both[REPOS[1]]["report"]["facts"]["weight_scan"]["files"] == 2

    hub.reset()
    later = census(tmp_path, "later", REPOS[2:], "--cache-dir", str(tmp_path / "cache"))  # a new run, the same cache
    assert range_reads(hub) == 0
    assert later[REPOS[2]]["report"] == alone[REPOS[2]]["report"]


class _FailingSource:
    """A source whose every range read fails, as a Hub that went away would."""

    def read_range(self, snapshot: RepoSnapshot, path: str, start: int, length: int) -> bytes:
        raise SourceError("the Hub went away")


def test_a_scan_whose_reads_failed_is_not_remembered(tmp_path):
    memo = ScanMemo(tmp_path)
    entry = FileEntry("training_args.bin", 4600, lfs=True, sha256="ab" * 32)
    snapshot = RepoSnapshot(target=parse_target("memo-org/first-copy"), sha="0" * 40, files=(entry,))
    artefact = Artefact(path=entry.path, category=Category.WEIGHTS, format="pickle", size=entry.size, reason="", lfs=True)
    scan = scan_release(_FailingSource(), snapshot, [artefact], [], memo=memo)
    assert [f.code for f in scan.findings] == ["pickle-unscanned"]
    assert memo.hits == 0 and memo.misses == 1 and not any(tmp_path.rglob("*.json"))


def test_the_memo_gives_back_from_the_disk_what_it_kept_and_misses_a_damaged_entry(tmp_path):
    key = scan_key("cd" * 32, "model.safetensors", 96, "safetensors", 1 << 20)
    scan = WeightScan("model.safetensors", "safetensors", {"tensors": 1, "dtypes": ["F32"]},
                      (finding("safetensors-header-invalid", "model.safetensors: a finding's words", ["model.safetensors"]),), 96, 1 << 20)
    ScanMemo(tmp_path).keep(key, scan)
    assert ScanMemo(tmp_path).recall(key) == (scan,)  # a new run reads it from the disk
    assert ScanMemo(tmp_path).recall(scan_key("cd" * 32, "other.safetensors", 96, "safetensors", 1 << 20)) is None
    (entry,) = tmp_path.rglob("*.json")
    entry.write_text('{"scan": {"path": 1}}')
    assert ScanMemo(tmp_path).recall(key) is None
