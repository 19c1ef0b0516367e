"""Census runs under injected faults: a proxy in front of the fake Hub breaks one repo's
requests, alone and inside a batch of 5. Every run ends (timeouts are tiny and set through
the environment), every target has exactly one line (audited, or failed with the exit code
of its cause), and nothing is written outside the output file and the cache."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from faultproxy import HOSTILE_NAMES, Fault, FaultProxy

from auditor.cli import audit_model

FAST = {
    "AUDITOR_HTTP_CONNECT_TIMEOUT": "2",
    "AUDITOR_HTTP_READ_TIMEOUT": "0.5",
    "AUDITOR_HTTP_REQUEST_TIMEOUT": "1",
    "AUDITOR_HTTP_RETRIES": "1",
    "AUDITOR_HTTP_RETRY_WAIT": "0.01",
    "AUDITOR_RETRY_AFTER_CAP": "0.05",
}
FAULTY = "fixture-co/apache-7b"
HEALTHY = ("fixture-lab/open-science-1b", "fetch-lab/big-weights", "fixture-corp/research-13b", "fixture-student/ner-model")

# fault -> (exit code of the faulty target, words its failure message holds; None: audited)
FAULTS = {
    "truncated-json": (Fault("truncated-json"), 5, "not valid json"),
    "html": (Fault("html"), 5, "not valid json"),
    "wrong-shape": (Fault("wrong-shape"), 5, "not valid json"),
    "hostile-names": (Fault("hostile-names"), 0, None),
    "trickle": (Fault("trickle"), 5, "no complete answer"),
    "retry-after-3600": (Fault("retry-after"), 5, "retry after 3600 s"),
    "stalled-file": (Fault("stall", on="file"), 5, "readtimeout"),
    "503-once-on-a-file": (Fault("status", on="file", times=1, status=503), 0, None),
    "reset-once-on-a-file": (Fault("reset", on="file", times=1), 0, None),
    "readme-served-huge": (Fault("huge", on="readme"), 0, None),
    "403-on-files": (Fault("status", on="file", status=403), 4, "refused fixture-co/apache-7b/"),
    "plain-404": (Fault("status", on="any", status=404), 3, "not found"),
}


def census(endpoint: str, targets, out: Path, *options: str, env: dict | None = None):
    """Run the CLI in-process; returns (exit code, records by target, stderr)."""
    result = CliRunner().invoke(
        audit_model, [*targets, "--format", "jsonl", "-o", str(out), "--jobs", "3", "-q", *options],
        env={"HF_ENDPOINT": endpoint, **FAST, **(env or {})},
    )
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    records = {}
    for record in lines:
        assert record["target"] not in records, f"{record['target']} twice"
        records[record["target"]] = record
    return result.exit_code, records, result.stderr


def files_under(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working directory and temporary directory; the cache sits in its own directory beside them."""
    work, temporary = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    monkeypatch.chdir(work)
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "cache"))
    return work


@pytest.mark.parametrize("batch", [False, True], ids=["alone", "in-a-batch-of-5"])
@pytest.mark.parametrize("name", list(FAULTS))
def test_a_fault_fails_only_its_target_with_the_right_code(name, batch, fake_hub, workdir):
    fault, code, words = FAULTS[name]
    targets = (FAULTY, *HEALTHY) if batch else (FAULTY,)
    hf_home = Path(os.environ["HF_HOME"])
    with FaultProxy(fake_hub.endpoint, {FAULTY: fault}) as proxy:
        exit_code, records, stderr = census(proxy.endpoint, targets, workdir / "out.jsonl", "--target-timeout", "20")
        assert proxy.served, "the fault was never injected"
    assert set(records) == set(targets), stderr
    faulty = records[FAULTY]
    assert faulty["exit_code"] == code, faulty
    if words is None:
        assert faulty["status"] == "audited"
    else:
        assert faulty["status"] == "failed" and words in faulty["error"]["message"].lower(), faulty["error"]
    for target in targets[1:]:
        assert (records[target]["status"], records[target]["exit_code"]) == ("audited", 0), records[target]
    assert exit_code == code
    assert "Traceback" not in stderr
    # nothing written outside the output file and the cache: no temporary download, no HF cache
    assert files_under(workdir) == {"out.jsonl"}
    assert not files_under(hf_home)
    assert not files_under(Path(tempfile.gettempdir()))


def test_hostile_file_names_are_listed_as_unread_and_escaped(fake_hub, workdir):
    with FaultProxy(fake_hub.endpoint, {FAULTY: Fault("hostile-names")}) as proxy:
        _, records, _ = census(proxy.endpoint, [FAULTY], workdir / "out.jsonl")
    unread = {u["path"]: u["reason"] for u in records[FAULTY]["report"]["unread"]}
    assert unread["../escape.txt"] == "not read: a file name with empty, . or .. parts"
    assert unread["/etc/passwd"] == "not read: an absolute file name"
    assert unread["dir\\LICENSE"] == "not read: a file name with backslashes"
    assert unread["nul\\x00name.md"] == "not read: a file name with a NUL byte"
    assert unread[f"{'x' * 120}... (5000 characters)"] == "not read: a file name of 5000 characters"
    assert len(HOSTILE_NAMES) == 5
    assert "file-unread" in records[FAULTY]["summary"]["codes"]


def test_a_huge_retry_after_is_capped_and_reported(fake_hub, workdir):
    with FaultProxy(fake_hub.endpoint, {FAULTY: Fault("retry-after", times=1)}) as proxy:
        _, records, _ = census(proxy.endpoint, [FAULTY], workdir / "out.jsonl")
    record = records[FAULTY]
    assert record["status"] == "audited" and record["retries"] == 1
    assert record["notes"] == [f"model info of {FAULTY}: the Hub asked to retry after 3600 s; waited 0.05 s (the cap)"]


def test_a_malformed_answer_once_is_asked_again(fake_hub, workdir):
    with FaultProxy(fake_hub.endpoint, {FAULTY: Fault("truncated-json", times=1)}) as proxy:
        _, records, _ = census(proxy.endpoint, [FAULTY], workdir / "out.jsonl")
    assert records[FAULTY]["status"] == "audited" and records[FAULTY]["retries"] == 1


def test_the_target_deadline_ends_a_trickle_that_beats_every_read_timeout(fake_hub, workdir):
    # each byte comes well inside the read timeout; only the target's deadline can end it
    slow = {"AUDITOR_HTTP_REQUEST_TIMEOUT": "600", "AUDITOR_HTTP_READ_TIMEOUT": "30"}
    with FaultProxy(fake_hub.endpoint, {FAULTY: Fault("trickle")}) as proxy:
        code, records, _ = census(proxy.endpoint, [FAULTY, HEALTHY[0]], workdir / "out.jsonl", "--target-timeout", "0.5", env=slow)
    assert code == 5
    assert records[FAULTY]["error"]["kind"] == "DeadlineExceeded"
    assert records[HEALTHY[0]]["status"] == "audited"


def test_repeated_connection_failures_stop_the_run_with_a_hint(workdir):
    targets = [f"nobody/model-{i}" for i in range(8)]
    code, records, stderr = census("http://127.0.0.1:9", targets, workdir / "out.jsonl", "--jobs", "1")
    assert code == 5
    assert len(records) == 5 and all(r["error"]["kind"] == "HubUnreachable" for r in records.values())
    assert "offline? is HF_ENDPOINT right?" in stderr and "3 not started" in stderr


@pytest.mark.parametrize("name", ["hostile-names", "truncated-json", "403-on-files", "plain-404", "503-once-on-a-file"])
def test_a_single_audit_meets_the_same_faults_with_the_same_codes(name, fake_hub, workdir):
    fault, code, words = FAULTS[name]
    with FaultProxy(fake_hub.endpoint, {FAULTY: fault}) as proxy:
        result = CliRunner().invoke(audit_model, [FAULTY, "--format", "json"], env={"HF_ENDPOINT": proxy.endpoint, **FAST})
    assert result.exit_code == code, result.stderr
    assert "Traceback" not in result.stderr
    if words is None:
        assert json.loads(result.stdout)["target"]["repo_id"] == FAULTY
    else:
        assert words in result.stderr.lower()
