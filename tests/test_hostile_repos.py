"""Hostile local folders, audited through the CLI in a subprocess with a deadline and a memory cap:
parser bombs (YAML aliases, JSON and YAML nested 100,000 deep), files that are not regular
(FIFOs where a small file is read), symlinks out of the target or out of an HF cache's
`models--*` folder, oversized small files. Each ends with the stated exit code, no traceback,
the over-budget or refused file named in the report, and no content from outside the target."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hostile.limits import assert_clean, run_cli, tree_state
from hostile.opened import opened_under

MIT = (Path(__file__).parents[1] / "licences" / "texts" / "mit.txt").read_text(encoding="utf-8")
SECRET = "SECRET-OUTSIDE-THE-TARGET-7f3a"


def alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def repo(tmp_path: Path, card: str = "---\nlicense: mit\n---\n# a model\n", **files: str | bytes) -> Path:
    root = tmp_path / "target"
    root.mkdir()
    (root / "LICENSE").write_text(MIT, encoding="utf-8")
    (root / "README.md").write_text(card, encoding="utf-8")
    for name, content in files.items():
        path = root / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def audit_json(target: Path, *args: str, code: int = 0, unopened: Path | None = None) -> dict:
    """The JSON report of `target`, audited under the limits; nothing beside or in the target
    changed, and nothing under `unopened` opened."""
    before = tree_state(target.parent)
    with opened_under(*([unopened] if unopened else [])) as opened:
        outcome = run_cli(str(target), "--no-check-links", "--format", "json", *args)
    assert opened.paths == set(), f"the audit opened {sorted(opened.paths)}, outside its target"
    assert_clean(outcome, code, SECRET)
    assert tree_state(target.parent) == before, "the audit wrote in or beside its target"
    return json.loads(outcome.stdout)


def findings(report: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in report.get("findings", []):
        found.setdefault(item["code"], []).append(item["message"])
    return found


def test_a_yaml_alias_bomb_in_the_card_is_refused_unexpanded(tmp_path):
    report = audit_json(repo(tmp_path, "---\nlicense: mit\n" + alias_bomb() + "---\n# model\n"))
    assert any("aliases" in m for m in findings(report)["card-metadata-invalid"])


def test_front_matter_nested_100k_deep(tmp_path):
    report = audit_json(repo(tmp_path, "---\nlicense: mit\nx: " + "[" * 100_000 + "]" * 100_000 + "\n---\n# model\n"))
    assert any("nested" in m for m in findings(report)["card-metadata-invalid"])


@pytest.mark.parametrize("name", ["config.json", "adapter_config.json"])
def test_json_nested_100k_deep_is_unread_with_the_reason(tmp_path, name):
    report = audit_json(repo(tmp_path, **{name: '{"a":' * 100_000 + "1" + "}" * 100_000}))
    assert any(m.startswith(f"{name}: JSON nested more than") for m in findings(report)["file-unread"])


def test_a_mergekit_alias_bomb_names_no_parent(tmp_path):
    report = audit_json(repo(tmp_path, **{"mergekit_config.yml": "base_model: org/base\n" + alias_bomb()}))
    assert "org/base" not in json.dumps(report.get("lineage", {}))


@pytest.fixture
def secret(tmp_path) -> Path:
    """A folder beside the target holding what must never be read or printed."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "README.md").write_text(f"---\nlicense: apache-2.0\n---\n{SECRET}\n", encoding="utf-8")
    (folder / "LICENSE").write_text(SECRET, encoding="utf-8")
    (folder / "secret.txt").write_text(SECRET, encoding="utf-8")
    return folder


def test_symlinks_out_of_the_target_are_unread(tmp_path, secret):
    root = repo(tmp_path)
    (root / "NOTICE").symlink_to(secret / "secret.txt")
    (root / "docs").symlink_to(secret, target_is_directory=True)
    unread = audit_json(root, unopened=secret)["unread"]
    assert {"path": "NOTICE", "reason": "symlink outside the repository"} in unread
    assert {"path": "docs", "reason": "symlink outside the repository"} in unread


@pytest.mark.parametrize("where", ["README.md", "NOTICE", ".gitignore", ".git/HEAD", ".git/config",
                                   ".cache/huggingface/download/model.safetensors.metadata"])
def test_a_fifo_where_a_small_file_is_read_is_unread(tmp_path, where):
    root = repo(tmp_path)
    if where.startswith(".git/"):
        (root / ".git" / "refs" / "heads").mkdir(parents=True)
        (root / ".git" / "objects").mkdir()
        (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="ascii")
    path = root / where
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    os.mkfifo(path)
    before = tree_state(tmp_path)
    outcome = run_cli(str(root), "--no-check-links", "--format", "json")
    assert_clean(outcome, 0)
    assert tree_state(tmp_path) == before
    if "/" not in where:  # a file of the model: listed as unread, with the reason
        assert {"path": where, "reason": "not a regular file (a FIFO)"} in json.loads(outcome.stdout)["unread"]


def _cache(tmp_path: Path, snapshot_target: Path | None = None) -> tuple[Path, Path]:
    models = tmp_path / "hub" / "models--org--cached"
    sha = "c" * 40
    (models / "refs").mkdir(parents=True)
    (models / "snapshots").mkdir()
    (models / "refs" / "main").write_text(sha, encoding="ascii")
    snapshot = models / "snapshots" / sha
    if snapshot_target is not None:
        snapshot.symlink_to(snapshot_target, target_is_directory=True)
    else:
        snapshot.mkdir()
        (snapshot / "README.md").write_text("---\nlicense: mit\n---\n", encoding="utf-8")
    return models, snapshot


@pytest.mark.parametrize("named", ["models folder", "snapshot folder"])
def test_a_cache_snapshot_that_leads_out_of_the_cache_is_refused(tmp_path, secret, named):
    models, snapshot = _cache(tmp_path, snapshot_target=secret)
    before = tree_state(tmp_path)
    with opened_under(secret) as opened:
        outcome = run_cli(str(models if named == "models folder" else snapshot), "--no-check-links")
    assert opened.paths == set(), "the audit opened files outside the cache"
    assert_clean(outcome, 5, SECRET)
    assert tree_state(tmp_path) == before
    assert "outside" in outcome.stderr


def test_a_cache_ref_that_links_out_of_the_cache_is_not_read(tmp_path, secret):
    models, _ = _cache(tmp_path)
    (models / "refs" / "main").unlink()
    (models / "refs" / "main").symlink_to(secret / "secret.txt")
    outcome = run_cli(str(models), "--no-check-links")
    assert_clean(outcome, 5, SECRET, SECRET[:12])


@pytest.mark.parametrize("where", ["refs/main", ".git/HEAD"])
def test_a_4_gib_small_file_costs_its_first_bytes(tmp_path, where):
    if where == "refs/main":
        models, _ = _cache(tmp_path)
        path, target, code = models / "refs" / "main", models, 3
    else:
        target = repo(tmp_path)
        (target / ".git").mkdir()
        path, code = target / ".git" / "HEAD", 0
    with open(path, "wb") as handle:  # sparse: no disk is spent
        handle.write(b"x" * 64)
        handle.truncate(4 << 30)
    outcome = run_cli(str(target), "--no-check-links")
    assert_clean(outcome, code)


def _loads_many(inner: bytes, calls: int) -> bytes:
    """A pickle calling pickle.loads(inner) `calls` times, `inner` and the import held once in the memo."""
    head = b"\x80\x04" + b"cpickle\nloads\nq\x01" + b"B" + len(inner).to_bytes(4, "little") + inner + b"q\x00"
    return head + b"h\x01h\x00\x85R0" * calls + b"N."


def test_nested_loads_of_the_same_bytes_end_out_of_budget(tmp_path):
    bomb = b"\x80\x04K\x01."
    for _ in range(3):  # 3000 ** 3 nested walks if nothing stopped them
        bomb = _loads_many(bomb, 3000)
    report = audit_json(repo(tmp_path, **{"model.pkl": bomb}), code=1)
    assert any("step budget" in m for m in findings(report)["pickle-unscannable"]), findings(report)


def test_a_small_zip_member_inflating_to_300_mb_of_opcodes_ends_out_of_budget(tmp_path):
    import zipfile

    root = repo(tmp_path)
    with zipfile.ZipFile(root / "pytorch_model.bin", "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("archive/data.pkl", "w", force_zip64=True) as member:
            member.write(b"\x80\x02")
            chunk = b"N0" * (1 << 20)
            for _ in range(150):
                member.write(chunk)
            member.write(b"N.")
    assert (root / "pytorch_model.bin").stat().st_size < 2 << 20
    report = audit_json(root, code=1)  # a file there and not checked is not safe to load either
    assert any("step budget" in m for m in findings(report)["pickle-unscannable"]), findings(report)
    [unsafe] = report["verdict"]["unsafe_to_load"]
    assert unsafe["path"] == "pytorch_model.bin" and unsafe["reason"].startswith("could not be scanned")


def test_a_card_naming_10000_base_models_costs_at_most_50_look_ups(tmp_path):
    from hostile.scriptedhub import ScriptedHub

    bases = "".join(f"  - base-org/model-{i}\n" for i in range(10_000))
    root = repo(tmp_path, "---\nlicense: mit\nbase_model:\n" + bases + "---\n# a merge of everything\n")
    with ScriptedHub() as hub:
        outcome = run_cli(str(root), "--format", "json", env={"HF_ENDPOINT": hub.endpoint, "AUDITOR_HTTP_RETRIES": "0"})
        looked_up = sum(count for path, count in hub.hits.items() if path.startswith("/api/models/"))
    assert_clean(outcome, outcome.code)
    assert outcome.code in (0, 1), outcome.stderr
    assert 0 < looked_up <= 50
    messages = findings(json.loads(outcome.stdout))["ancestor-unreadable"]
    assert any("9950 more base models named were not looked up" in m for m in messages), messages[:3]
