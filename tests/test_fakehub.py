"""The fake Hub itself: the wire format huggingface_hub relies on, its error codes, range
handling, failure injection, counters, generated content and local checkouts."""

from __future__ import annotations

import hashlib

import httpx2
import pytest
from conftest import fixture_case
from huggingface_hub import HfApi

from auditor.sources.lfs import parse_pointer
from fakehub import FakeHub, FixtureRepo, is_lfs, materialise, pattern_bytes

BIG = "fetch-lab/big-weights"
BIG_SHA = "da66d2a28ad6e077ce56800ac957b3439e8ff780"


@pytest.fixture
def http(fake_hub):
    with httpx2.Client(base_url=fake_hub.endpoint) as client:
        yield client


def test_model_info_as_huggingface_hub_parses_it(fake_hub):
    info = HfApi(endpoint=fake_hub.endpoint, token=False).model_info(BIG, files_metadata=True, securityStatus=True)
    assert (info.id, info.sha, info.private, info.gated, info.disabled) == (BIG, BIG_SHA, False, False, False)
    assert "license:apache-2.0" in info.tags and "base_model:fetch-lab/base-1b" in info.tags
    assert info.library_name == "transformers"
    assert info.card_data.to_dict()["license"] == "apache-2.0"
    siblings = {s.rfilename: s for s in info.siblings}
    assert siblings["model.safetensors"].lfs.size == 5_000_000_000 and siblings["model.safetensors"].lfs.pointer_size > 100
    readme = (fixture_case("fetch-big-weights") / "files" / "README.md").read_bytes()
    assert siblings["README.md"].blob_id == hashlib.sha1(b"blob %d\0" % len(readme) + readme).hexdigest()
    assert siblings["README.md"].lfs is None and siblings["README.md"].size == len(readme)
    assert info.security_repo_status == {"scansDone": True, "filesWithIssues": []}


def test_model_info_without_blobs_lists_names_only(http):
    body = http.get(f"/api/models/{BIG}").json()
    assert body["siblings"][0] == {"rfilename": "LICENSE"}
    assert "securityRepoStatus" not in body


def test_resolve_headers(http):
    head = http.head(f"/{BIG}/resolve/main/model.safetensors")
    assert head.status_code == 200
    assert head.headers["X-Repo-Commit"] == BIG_SHA
    assert head.headers["X-Linked-Size"] == head.headers["Content-Length"] == "5000000000"
    assert head.headers["X-Linked-Etag"] == head.headers["ETag"]
    small = http.head(f"/{BIG}/resolve/v1.0/config.json")
    assert small.headers["Content-Length"] == "100" and "X-Linked-Etag" not in small.headers


def test_range_requests(http, fake_hub):
    part = http.get(f"/{BIG}/resolve/{BIG_SHA}/model.safetensors", headers={"Range": "bytes=1000-1009"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == "bytes 1000-1009/5000000000"
    assert part.content == pattern_bytes(1000, 10)
    suffix = http.get(f"/{BIG}/resolve/main/model.safetensors", headers={"Range": "bytes=-3"})
    assert suffix.content == pattern_bytes(4_999_999_997, 3)
    beyond = http.get(f"/{BIG}/resolve/main/model.safetensors", headers={"Range": "bytes=6000000000-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == "bytes */5000000000"
    assert fake_hub.stats.bytes_by_path["model.safetensors"] == 13
    assert fake_hub.stats.requests == {"get": 3}


@pytest.mark.parametrize("url, status, code", [
    ("/api/models/fetch-lab/nothing", 404, "RepoNotFound"),
    ("/api/models/fetch-lab/private-1b", 401, "RepoNotFound"),
    (f"/api/models/{BIG}/revision/v9", 404, "RevisionNotFound"),
    (f"/{BIG}/resolve/main/missing.txt", 404, "EntryNotFound"),
    (f"/{BIG}/resolve/nope/README.md", 404, "RevisionNotFound"),
    ("/fetch-lab/gated-3b/resolve/main/LICENSE", 401, "GatedRepo"),
    ("/fetch-lab/private-1b/resolve/main/README.md", 401, "RepoNotFound"),
])
def test_errors_carry_the_hub_error_codes(http, url, status, code):
    response = http.get(url)
    assert (response.status_code, response.headers.get("X-Error-Code")) == (status, code)
    assert response.json()["error"]


def test_tokens_open_gated_and_private_repos(http):
    granted = {"Authorization": "Bearer hf_fetch_granted"}
    assert http.get("/fetch-lab/gated-3b/resolve/main/LICENSE", headers=granted).status_code == 200
    other = http.get("/fetch-lab/gated-3b/resolve/main/LICENSE", headers={"Authorization": "Bearer hf_other"})
    assert (other.status_code, other.headers["X-Error-Code"]) == (403, "GatedRepo")
    assert http.get("/api/models/fetch-lab/gated-3b").status_code == 200  # model info stays public
    assert http.get("/api/models/fetch-lab/private-1b", headers={"Authorization": "Bearer hf_fetch_private"}).status_code == 200
    assert http.get("/api/models/fetch-lab/private-1b", headers={"Authorization": "Bearer hf_fetch_granted"}).status_code == 401


def test_injected_failures_run_out_and_reset(http, fake_hub):
    statuses = [http.get("/api/models/fetch-lab/flaky-api").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert http.head("/fetch-lab/flaky-api/resolve/main/README.md").status_code == 200  # only api requests fail
    fake_hub.reset()
    assert http.get("/api/models/fetch-lab/flaky-api").status_code == 503
    assert fake_hub.stats.requests == {"api": 1}


def test_generated_blobs_and_callables(tmp_path):
    case = tmp_path / "gen"
    (case / "files").mkdir(parents=True)
    (case / "files" / "training_args.bin").write_bytes(b"\x80\x04pickle")
    (case / "repo.yaml").write_text(
        "id: gen/repo\nsha: " + "1" * 40 + "\ngated: false\nprivate: false\n"
        "siblings:\n- {path: a.bin, size: 300}\n- {path: b.bin, size: 20}\n- {path: training_args.bin, size: 9}\n"
        "blobs:\n  a.bin: gen:pattern\n  b.bin: fakehub.blobs:PatternBlob\n"
    )
    repo = FixtureRepo.load(case)
    assert repo.siblings["a.bin"].blob.read(250, 100) == pattern_bytes(250, 50)
    assert repo.siblings["b.bin"].blob.read(0, 100) == pattern_bytes(0, 20)
    assert repo.siblings["training_args.bin"].sha256 == hashlib.sha256(b"\x80\x04pickle").hexdigest()
    smudged = materialise(repo, tmp_path / "full", lfs_content=True)
    assert (smudged / "training_args.bin").read_bytes() == b"\x80\x04pickle"
    assert parse_pointer((smudged / "a.bin").read_bytes()).size == 300  # generated content stays a pointer


def test_checkout_pointers_match_the_listing(tmp_path):
    repo = FixtureRepo.load(fixture_case("fetch-big-weights"))
    root = materialise(repo, tmp_path / "co")
    pointer = parse_pointer((root / "model.safetensors").read_bytes())
    assert (pointer.sha256, pointer.size) == (repo.siblings["model.safetensors"].sha256, 5_000_000_000)
    assert (root / "LICENSE").read_bytes() == (fixture_case("fetch-big-weights") / "files" / "LICENSE").read_bytes()
    assert (root / ".git" / "HEAD").read_text().strip() == BIG_SHA


@pytest.mark.parametrize("path, size, lfs", [
    ("model.safetensors", 10, True),
    ("saved_model/variables/variables.index", 10, True),
    ("tokenizer.json", 9_999_999, False),
    ("tokenizer.json", 10_000_000, True),
    ("README.md", 200, False),
])
def test_which_files_are_lfs(path, size, lfs):
    assert is_lfs(path, size) is lfs


def test_duplicate_repo_ids_are_refused(tmp_path):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "repo.yaml").write_text("id: dup/repo\nsha: " + "2" * 40 + "\nsiblings: []\n")
    with pytest.raises(ValueError, match="already served"):
        FakeHub([tmp_path])


def test_a_misspelt_fail_rule_is_refused(tmp_path):
    (tmp_path / "repo.yaml").write_text("id: x/y\nsha: " + "3" * 40 + "\nsiblings: []\nfail: {status: 503, on: [api]}\n")
    with pytest.raises(ValueError, match="bad fail rule"):
        FixtureRepo.load(tmp_path)


def test_scopes_count_apart_so_no_test_sees_another_tests_requests(fake_hub_server):
    first, second = fake_hub_server.scoped("iso-a"), fake_hub_server.scoped("iso-b")
    first.reset(), second.reset()  # in case this test runs twice in one session
    with httpx2.Client() as client:
        assert client.get(f"{first.endpoint}/{BIG}/resolve/main/model.safetensors", headers={"Range": "bytes=0-9"}).status_code == 206
        assert client.get(f"{second.endpoint}/api/models/fetch-lab/flaky-api").status_code == 503
        assert client.get(f"{first.endpoint}/api/models/fetch-lab/flaky-api").status_code == 503  # failures are per scope too
    assert first.stats.bytes_by_path["model.safetensors"] == 10 and first.stats.requests == {"get": 1, "api": 1}
    assert second.stats.bytes_sent == 0 and second.stats.requests == {"api": 1}
    assert [r.path for r in first.stats.log] == ["model.safetensors", "/api/models/fetch-lab/flaky-api"]
    first.reset()
    assert first.stats.requests == {} and second.stats.requests == {"api": 1}
