"""Where a census runs: worker processes and a Dask LocalCluster give the same records as the
in-process run, every target exactly once even when a worker dies mid-run; and the rate budget:
--max-rate, and one backoff for every worker sharing a token."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner
from faultproxy import Fault, FaultProxy

from auditor.batch.options import BatchOptions
from auditor.batch.processes import ProcessRunner
from auditor.cli import audit_model
from auditor.model import Target, TargetKind
from auditor.sources.budget import RateBudget
from auditor.sources.hub import HubSource, request_scope
from auditor.targets import parse_target

TARGETS = ["fixture-co/apache-7b", "fixture-lab/open-science-1b", "fixture-corp/research-13b", "fixture-student/ner-model",
           "fetch-lab/big-weights", "fixture-art/diffusion-v1", "fixture-lab/code-only", "fixture-corp/mystery-3b",
           "fetch-lab/gated-3b", "nobody/nothing"]


def census(tmp_path: Path, name: str, *options: str) -> list[str]:
    out = tmp_path / f"{name}.jsonl"
    result = CliRunner().invoke(audit_model, [*TARGETS, "--jobs", "4", "--format", "jsonl", "-o", str(out), "-q",
                                              "--cache-dir", str(tmp_path / f"{name}-cache"), *options])
    assert result.exit_code == 3, result.stderr  # nobody/nothing is not found
    return sorted(out.read_text(encoding="utf-8").splitlines(), key=lambda line: json.loads(line)["target"])


def test_worker_processes_give_the_in_process_records_line_for_line(fake_hub, tmp_path):
    assert census(tmp_path, "processes", "--processes", "2") == census(tmp_path, "threads", "--processes", "1")


def test_a_census_on_a_local_cluster_gives_the_in_process_records_line_for_line(fake_hub, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        on_cluster = census(tmp_path, "cluster", "--scheduler", cluster.scheduler_address)
    assert on_cluster == census(tmp_path, "local")
    assert len(on_cluster) == len(TARGETS)


def test_a_worker_killed_mid_run_loses_no_target_and_repeats_none(fake_hub, tmp_path):
    distributed = pytest.importorskip("distributed")
    from auditor.batch.cluster import ClusterRunner

    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
        options = BatchOptions(targets=tuple(TARGETS), jobs=4, scheduler=cluster.scheduler_address,
                               cache_dir=str(tmp_path / "cache"))
        records = []
        for record in ClusterRunner(options, parse_target).run(TARGETS):
            if not records:
                os.kill(pids[0], signal.SIGKILL)  # the first answer is in: the rest are queued or running
            records.append(record)
    assert sorted(r["target"] for r in records) == sorted(TARGETS)
    assert {r["target"] for r in records if r["status"] == "failed"} <= {"nobody/nothing"} | {
        r["target"] for r in records if (r.get("error") or {}).get("kind") == "WorkerLost"}


def test_a_worker_process_killed_mid_run_loses_no_target_and_repeats_none(fake_hub, tmp_path):
    options = BatchOptions(targets=tuple(TARGETS), jobs=4, cache_dir=str(tmp_path / "cache"))
    runner = ProcessRunner(options, parse_target, processes=2, give_up_after=None)
    records, held = [], set()
    for record in runner.run(TARGETS):
        if not records:
            victim = max(runner._workers, key=lambda w: len(w.holding))
            held = set(victim.holding)
            os.kill(victim.process.pid, signal.SIGKILL)
        records.append(record)
    assert held  # the worker killed was auditing targets: they are handed out again
    assert sorted(r["target"] for r in records) == sorted(TARGETS)
    audited = {r["target"] for r in records if r["status"] == "audited"}
    assert audited == set(TARGETS) - {"nobody/nothing"} or any(
        (r.get("error") or {}).get("kind") == "WorkerLost" for r in records)


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_max_rate_spaces_requests_evenly():
    time = FakeTime()
    budget = RateBudget(max_rate=4, clock=time.clock, sleep=time.sleep)
    waits = [budget.wait_turn() for _ in range(5)]
    assert waits == [0.0, 0.25, 0.25, 0.25, 0.25] and budget.waited == 1.0


def test_a_pause_holds_every_request_and_reaches_the_workers_sharing_the_token():
    time = FakeTime()
    told: list[float] = []
    mine = RateBudget(clock=time.clock, sleep=time.sleep, on_pause=told.append)
    theirs = RateBudget(clock=time.clock, sleep=time.sleep, heard=lambda: max(told, default=0.0))
    mine.slow_down(30)
    assert told == [1030.0]
    assert theirs.wait_turn() == 30.0  # another worker's next request waits out the pause
    assert mine.wait_turn() == 0.0  # the pause is over for everyone
    mine.slow_down(5)
    mine.slow_down(2)  # an earlier end than the pause already running: nothing new to tell
    assert told == [1030.0, 1035.0]


def test_a_429_seen_by_one_worker_slows_the_other(fake_hub, monkeypatch):
    """Two Hub clients (two workers of a run) share the token's backoff: one is told 429 with
    Retry-After, and the other's next request waits for it, without either sleeping for real."""
    monkeypatch.setenv("AUDITOR_RETRY_AFTER_CAP", "60")
    import time

    now = time.time()  # the clock stands still: the second worker asks while the pause runs
    told: list[float] = []
    slept: list[float] = []
    with FaultProxy(fake_hub.endpoint, {"fixture-co/apache-7b": Fault("retry-after", times=1)}) as proxy:
        first, second = HubSource(endpoint=proxy.endpoint, token=False), HubSource(endpoint=proxy.endpoint, token=False)
        first.http.budget = RateBudget(on_pause=told.append, clock=lambda: now, sleep=slept.append)
        second.http.budget = RateBudget(heard=lambda: max(told, default=0.0), clock=lambda: now, sleep=slept.append)
        with request_scope(None) as scope:
            first.fetch(Target(TargetKind.HUB, repo_id="fixture-co/apache-7b"))
        assert scope.retries == 1 and scope.waited >= 59  # its own retry waited out the pause
        with request_scope(None) as scope:
            second.fetch(Target(TargetKind.HUB, repo_id="fixture-lab/open-science-1b"))
        assert scope.retries == 0 and scope.waited >= 59  # it heard of the pause: its requests waited too
        assert slept and all(s == pytest.approx(60, abs=1) for s in slept)  # on the fake clock, never for real
        first.close()
        second.close()


def test_max_rate_is_reported_in_the_census_summary(fake_hub, tmp_path):
    out, summary = tmp_path / "out.jsonl", tmp_path / "census.md"
    runner = CliRunner()
    args = [*TARGETS[:3], "--jobs", "3", "--max-rate", "50", "-q", "--no-cache"]
    assert runner.invoke(audit_model, [*args, "--format", "jsonl", "-o", str(out)]).exit_code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(isinstance(r.get("waited", 0), float | int) and r.get("waited", 0) >= 0 for r in records)
    assert runner.invoke(audit_model, [*args, "-o", str(summary)]).exit_code == 0
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# Census of 3 repositories")
