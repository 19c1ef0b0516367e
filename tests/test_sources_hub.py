"""HubSource against the fake Hub, through the real huggingface_hub client: what it lists, what
it reads, what it costs, and how each Hub failure reaches the auditor."""

from __future__ import annotations

import pytest

from auditor.errors import AccessDenied, NotFound, SourceUnavailable, UsageError
from auditor.model import FileEntry, RepoSnapshot, SkipKind, Skipped, Target, TargetKind
from auditor.sources.hub import HubSource
from fakehub import pattern_bytes

BIG = "fetch-lab/big-weights"
BIG_SHA = "da66d2a28ad6e077ce56800ac957b3439e8ff780"
BIG_V1 = "6b46f4d273f0301c2b9311867a8a98b19beef1de"
GATED = "fetch-lab/gated-3b"
PRIVATE = "fetch-lab/private-1b"


def hub_target(repo_id: str, revision: str | None = None) -> Target:
    return Target(TargetKind.HUB, repo_id=repo_id, revision=revision)


@pytest.fixture
def source(fake_hub):
    return HubSource(endpoint=fake_hub.endpoint, token=None, retry_wait=0)


def test_model_info_and_small_files(source, fake_hub):
    snapshot = source.fetch(hub_target(BIG))
    assert snapshot.sha == BIG_SHA
    assert snapshot.files == (
        FileEntry("LICENSE", 243),
        FileEntry("README.md", 211),
        FileEntry("config.json", 100),
        FileEntry("model.safetensors", 5_000_000_000, lfs=True, sha256=snapshot.file("model.safetensors").sha256),
        FileEntry("requirements.txt", 30),
    )
    assert len(snapshot.file("model.safetensors").sha256) == 64
    assert list(snapshot.texts) == ["README.md", "LICENSE", "config.json", "requirements.txt"]
    assert snapshot.texts["LICENSE"].startswith("Copyright 2025 Fetch Lab\n\nLicensed under the Apache License")
    assert snapshot.texts["requirements.txt"] == "torch>=2.1\ntransformers>=4.40\n"
    assert snapshot.unread == ()
    assert (snapshot.gated, snapshot.private) == (False, False)
    assert snapshot.hub_card_data["license"] == "apache-2.0"
    assert snapshot.hub_card_data["base_model"] == "fetch-lab/base-1b"
    assert snapshot.security == {"scansDone": True, "filesWithIssues": []}


def test_a_5gb_weights_file_costs_nothing(source, fake_hub):
    snapshot = source.fetch(hub_target(BIG))
    stats = fake_hub.stats
    assert stats.bytes_by_path["model.safetensors"] == 0
    assert stats.bytes_sent == sum(len(t.encode()) for t in snapshot.texts.values())
    assert stats.requests["api"] == 1
    assert stats.requests["head"] + stats.requests["get"] <= 2 * len(snapshot.texts)
    assert {r.path for r in stats.log if r.kind != "api"} == set(snapshot.texts)


def test_reads_are_pinned_to_the_commit_model_info_returned(source, fake_hub):
    snapshot = source.fetch(hub_target(BIG, revision="v1.0"))
    assert snapshot.sha == BIG_V1
    assert snapshot.target.revision == "v1.0"
    downloads = [r for r in fake_hub.stats.log if r.kind in ("head", "get")]
    assert downloads and {r.revision for r in downloads} == {BIG_V1}


def test_a_full_sha_is_a_revision_too(source):
    assert source.fetch(hub_target(BIG, revision=BIG_V1)).sha == BIG_V1


def test_range_reads_transfer_exactly_the_bytes_asked(source, fake_hub):
    snapshot = source.fetch(hub_target(BIG))
    fake_hub.reset()
    tail = source.read_range(snapshot, "model.safetensors", 5_000_000_000 - 100, 100)
    head = source.read_range(snapshot, "model.safetensors", 0, 8)
    assert tail == pattern_bytes(5_000_000_000 - 100, 100)
    assert head == pattern_bytes(0, 8)
    assert fake_hub.stats.bytes_by_path["model.safetensors"] == 108
    assert fake_hub.stats.requests["get"] == 2
    assert source.bytes_read() == 108
    assert [r.range for r in fake_hub.stats.log] == ["bytes=4999999900-4999999999", "bytes=0-7"]


def test_range_reads_stop_at_the_end_of_the_file(source, fake_hub):
    snapshot = source.fetch(hub_target(BIG))
    fake_hub.reset()
    assert source.read_range(snapshot, "model.safetensors", 5_000_000_000 - 4, 100) == pattern_bytes(5_000_000_000 - 4, 4)
    assert source.read_range(snapshot, "model.safetensors", 5_000_000_000, 10) == b""
    assert fake_hub.stats.requests["get"] == 1  # past the end: no request at all


def test_gated_without_token_lists_files_and_names_the_unread(source, fake_hub):
    snapshot = source.fetch(hub_target(GATED))
    assert snapshot.gated == "manual"
    assert snapshot.texts == {}
    assert [s.path for s in snapshot.unread] == ["LICENSE", "README.md", "config.json"]
    assert all(s.reason.startswith(f"gated: request access at {fake_hub.endpoint}/{GATED}") for s in snapshot.unread)
    assert all(s.kind is SkipKind.GATED for s in snapshot.unread)
    assert "--token" in snapshot.unread[0].reason
    assert snapshot.file("model.safetensors").size == 6_000_000_000
    assert snapshot.hub_card_data["license_name"] == "fetch-community"  # model info stays public
    # the card is asked for first; refused as gated, the other files would be too, and are not asked for
    assert [r.path for r in fake_hub.stats.log if r.kind == "get"] == ["README.md"]


def test_gated_with_a_granted_token_reads_everything(fake_hub):
    snapshot = HubSource(endpoint=fake_hub.endpoint, token="hf_fetch_granted").fetch(hub_target(GATED))
    assert snapshot.unread == ()
    assert snapshot.texts["LICENSE"].startswith("FETCH COMMUNITY LICENCE")
    assert sorted(r.path for r in fake_hub.stats.log if r.kind == "get") == ["LICENSE", "README.md", "config.json"]


def test_gated_with_a_token_not_granted_says_so(fake_hub):
    snapshot = HubSource(endpoint=fake_hub.endpoint, token="hf_someone_else").fetch(hub_target(GATED))
    assert snapshot.texts == {}
    assert all("has not been granted access" in s.reason for s in snapshot.unread)


def test_gated_range_read_is_denied(source):
    snapshot = source.fetch(hub_target(GATED))
    with pytest.raises(AccessDenied, match="gated"):
        source.read_range(snapshot, "model.safetensors", 0, 8)


def test_the_token_comes_from_hf_token_when_none_is_given(fake_hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_fetch_granted")
    assert HubSource(endpoint=fake_hub.endpoint).fetch(hub_target(GATED)).unread == ()


def test_private_without_token_is_access_denied(source):
    with pytest.raises(AccessDenied, match=r"private or does not exist.*--token, HF_TOKEN or `hf auth login`"):
        source.fetch(hub_target(PRIVATE))


def test_private_with_a_rejected_token_is_access_denied(fake_hub):
    with pytest.raises(AccessDenied, match="refused the token"):
        HubSource(endpoint=fake_hub.endpoint, token="hf_wrong").fetch(hub_target(PRIVATE))


def test_private_with_its_token(fake_hub):
    snapshot = HubSource(endpoint=fake_hub.endpoint, token="hf_fetch_private").fetch(hub_target(PRIVATE))
    assert snapshot.private is True
    assert list(snapshot.texts) == ["README.md", "config.json"]


def test_unknown_repo_is_not_found(source, fake_hub):
    with pytest.raises(NotFound, match=f"repository fetch-lab/nothing not found on {fake_hub.endpoint}"):
        source.fetch(hub_target("fetch-lab/nothing"))
    assert fake_hub.stats.requests["api"] == 1  # a 404 is not retried


def test_unknown_revision_is_not_found(source):
    with pytest.raises(NotFound, match="revision v9 not found"):
        source.fetch(hub_target(BIG, revision="v9"))


def test_an_invalid_repo_id_is_a_usage_error(source):
    with pytest.raises(UsageError):
        source.fetch(hub_target("not/a/repo/id"))


def test_model_info_503s_are_retried(source, fake_hub):
    snapshot = source.fetch(hub_target("fetch-lab/flaky-api"))
    assert snapshot.texts["README.md"].startswith("---\nlicense: mit")
    assert fake_hub.stats.requests["api"] == 3


def test_a_file_5xx_is_retried(source, fake_hub):
    snapshot = source.fetch(hub_target("fetch-lab/flaky-files"))
    assert list(snapshot.texts) == ["README.md", "config.json"]
    assert [r.status for r in fake_hub.stats.log if r.kind == "get"].count(502) == 1
    assert fake_hub.stats.requests["head"] == 0  # one GET per file, no HEAD


def test_a_hub_that_stays_down_is_source_unavailable(source, fake_hub):
    with pytest.raises(SourceUnavailable, match="503"):
        source.fetch(hub_target("fetch-lab/down"))
    assert fake_hub.stats.requests["api"] == 3  # the call and two retries


def test_files_that_stay_down_are_source_unavailable(source, fake_hub):
    with pytest.raises(SourceUnavailable, match="answered 503 for fetch-lab/files-down/.*after 3 attempts"):
        source.fetch(hub_target("fetch-lab/files-down"))
    assert fake_hub.stats.requests["api"] == 1
    snapshot = RepoSnapshot(hub_target("fetch-lab/files-down"), None, (FileEntry("model.safetensors", 1000, lfs=True),))
    with pytest.raises(SourceUnavailable, match="503"):
        source.read_range(snapshot, "model.safetensors", 0, 10)


def test_nothing_listening_is_source_unavailable(fake_hub):
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SourceUnavailable, match="could not connect"):
        HubSource(endpoint=f"http://127.0.0.1:{port}", retries=0).fetch(hub_target(BIG))


def test_a_50mb_readme_and_a_binary_licence_are_skipped(source, fake_hub):
    snapshot = source.fetch(hub_target("fetch-lab/odd-files"))
    assert Skipped("README.md", "larger than 1 MiB", SkipKind.TOO_LARGE) in snapshot.unread
    assert Skipped("LICENSE", "binary", SkipKind.BINARY) in snapshot.unread
    assert fake_hub.stats.bytes_by_path["README.md"] == 0
    assert snapshot.file("README.md") == FileEntry("README.md", 50_000_000, lfs=True, sha256=snapshot.file("README.md").sha256)
    assert snapshot.texts["LICENSES/MIT.txt"] == "MIT License\n\nCopyright (c) 2025 Caf\ufffd Lab\n"
    assert snapshot.texts["NOTICE"].startswith("This product")  # the byte-order mark is gone
    assert "Responsible-Use-Guide.md" not in snapshot.texts  # the Hub source does not peek
    assert snapshot.hub_card_data is None  # a README of zeros has no front matter


def test_ancestors_are_looked_up_once_each_and_failures_are_unreadable(source, fake_hub):
    assert source.ancestor(BIG).card["license"] == "apache-2.0"
    gated = source.ancestor(GATED)
    assert gated.readable and gated.card["license_name"] == "fetch-community" and not gated.texts  # its files are gated
    assert source.ancestor(BIG).readable
    assert fake_hub.stats.requests["api"] == 2
    assert source.ancestor("fetch-lab/nothing").reason == "not found on the Hub"
    assert not source.ancestor(PRIVATE).readable
    assert not source.ancestor("https://example.com/not-a-repo").readable


def test_a_local_target_is_refused(source):
    with pytest.raises(UsageError):
        source.fetch(Target(TargetKind.LOCAL, path="."))


def test_a_look_up_that_cannot_connect_is_not_retried():
    # Base-model and dataset look-ups only enrich a report: offline, they must not wait on backoff.
    source = HubSource(endpoint="http://127.0.0.1:9", retries=3, retry_wait=30.0)
    assert source.dataset_licences("some-org/some-data") is None
    assert source.retries_total == 0
    assert not source.ancestor("some-org/some-model").readable
    assert source.retries_total == 0
