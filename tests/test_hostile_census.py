"""Census state that cannot be corrupted, through the CLI: --resume on another tool's file or on
one written under another policy, a second census on a locked file, cut-short cache entries, a
full disk, and one repo spelt four ways."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pytest
from hostile.limits import assert_clean, run_cli
from hostile.scriptedhub import ScriptedHub
from test_hostile_hub import FAST, REPO, model_info, serve


@pytest.fixture
def hub():
    with ScriptedHub() as scripted:
        serve(scripted, model_info())
        yield scripted


def census(hub: ScriptedHub, out: Path, *args: str, targets: tuple[str, ...] = (REPO,), cache: Path | None = None):
    env = {"HF_ENDPOINT": hub.endpoint, **FAST, **({"AUDITOR_CACHE_DIR": str(cache)} if cache else {})}
    return run_cli(*targets, "--format", "jsonl", "-o", str(out), "--no-check-links", *args, env=env)


def lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_resume_refuses_another_tools_file_and_leaves_it_whole(hub, tmp_path):
    out = tmp_path / "theirs.jsonl"
    theirs = b'{"id": 1, "target": "org/x", "exit_code": 0}\n{"event": "x"}\n{"cut": '
    out.write_bytes(theirs)
    outcome = census(hub, out, "--resume")
    assert_clean(outcome, 2)
    assert "not a census file of this auditor" in outcome.stderr
    assert out.read_bytes() == theirs


def test_resume_refuses_a_file_written_under_another_policy(hub, tmp_path):
    out = tmp_path / "census.jsonl"
    first = census(hub, out)
    assert_clean(first, first.code)
    written = out.read_bytes()
    assert lines(out)[0]["run"]
    second = census(hub, out, "--resume", "--deny-licence", "mit", targets=(REPO, "other-org/model"))
    assert_clean(second, 2)
    assert "other options or another policy" in second.stderr
    assert out.read_bytes() == written
    same = census(hub, out, "--resume", targets=(REPO, "other-org/model"))  # the same options: continued
    assert_clean(same, 3)
    assert [r["target"] for r in lines(out)] == [REPO, "other-org/model"]


def test_a_second_census_on_a_locked_file_stops(hub, tmp_path):
    out = tmp_path / "census.jsonl"
    out.write_text("", encoding="utf-8")
    with open(out, "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        outcome = census(hub, out, "--resume")
    assert_clean(outcome, 2)
    assert "locked" in outcome.stderr
    assert out.read_bytes() == b""


def test_cut_short_and_foreign_cache_entries_are_misses_and_rewritten(hub, tmp_path):
    cache = tmp_path / "cache"
    first = census(hub, tmp_path / "one.jsonl", cache=cache)
    entries = list((cache / "results").rglob("*.json"))
    assert len(entries) == 1 and not lines(tmp_path / "one.jsonl")[0]["cached"]
    for damage in (lambda b: b[: len(b) // 2], lambda b: b'{"schema": "auditor/1", "status": "audited"}',
                   lambda b: b.replace(b'"version"', b'"versioN"')):
        entries[0].write_bytes(damage(entries[0].read_bytes()))
        again = census(hub, tmp_path / "two.jsonl", cache=cache)
        assert_clean(again, first.code)
        assert not lines(tmp_path / "two.jsonl")[0]["cached"]
        json.loads(entries[0].read_text(encoding="utf-8"))  # rewritten whole by the fresh audit
    warm = census(hub, tmp_path / "three.jsonl", cache=cache)
    assert_clean(warm, first.code)
    assert lines(tmp_path / "three.jsonl")[0]["cached"]


def test_a_full_disk_names_the_output_and_is_exit_5(hub):
    outcome = census(hub, Path("/dev/full"))
    assert_clean(outcome, 5)
    assert "/dev/full" in outcome.stderr and "No space left" in outcome.stderr


@pytest.mark.parametrize("table_format", ["csv", "markdown", "json"])
def test_a_full_disk_under_a_table_format_names_the_output_and_is_exit_5(hub, table_format):
    outcome = census(hub, Path("/dev/full"), "--format", table_format)
    assert_clean(outcome, 5)
    assert "/dev/full" in outcome.stderr and "No space left" in outcome.stderr


@pytest.mark.parametrize("table_format", ["csv", "markdown", "json"])
def test_a_table_output_path_that_cannot_be_a_file_is_exit_2(hub, tmp_path, table_format):
    folder = tmp_path / "a-folder.out"
    folder.mkdir()
    outcome = census(hub, folder, "--format", table_format)
    assert_clean(outcome, 2)
    assert "a-folder.out" in outcome.stderr


def test_an_output_path_that_cannot_be_a_file_is_exit_2(hub, tmp_path):
    outcome = census(hub, tmp_path / "missing-folder" / "census.jsonl")
    assert_clean(outcome, 2)
    assert "missing-folder" in outcome.stderr


def test_one_repo_spelt_four_ways_is_audited_once(hub, tmp_path):
    out = tmp_path / "census.jsonl"
    spellings = (REPO, REPO + "/", f"hf.co/{REPO}", f"https://huggingface.co/{REPO}")
    outcome = census(hub, out, targets=spellings)
    assert_clean(outcome, outcome.code)
    assert [r["target"] for r in lines(out)] == [REPO]
    assert hub.hits[f"/api/models/{REPO}"] == 1
