"""A census on a Dask LocalCluster, for what only a cluster has: a target stuck on a worker is
given up by the client in the local run's time, and the records the cluster returns are kept
in the client's own result cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from faultproxy import Fault, FaultProxy

from auditor.batch.cluster import ClusterRunner
from auditor.batch.options import BatchOptions
from auditor.batch.work import TargetWork
from auditor.cli import audit_model
from auditor.sources.hub import HubSource
from auditor.targets import parse_target

distributed = pytest.importorskip("distributed")

STUCK = "fixture-corp/mystery-3b"
OTHERS = ["fixture-co/apache-7b", "fixture-lab/open-science-1b", "fixture-corp/research-13b", "fixture-student/ner-model",
          "fixture-art/diffusion-v1", "fixture-lab/code-only"]


def local_cluster() -> distributed.LocalCluster:
    """Two worker processes of one thread each; they read HF_ENDPOINT and the cache directory from
    the environment they are started in."""
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)


def test_a_target_stuck_on_a_worker_is_given_up_once_and_the_census_goes_on(fake_hub, monkeypatch, tmp_path):
    """The Hub never answers one repo's model info while the test holds it: the worker's own
    deadline is far off (10 minutes), so only the client's can end it. It is one failure line
    naming why; every other target is audited; the worker's answer, once let through, is not a
    second line."""
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "worker-cache"))
    with FaultProxy(fake_hub.endpoint, {STUCK: Fault("hold", on="api", times=1)}, max_hold=120) as proxy:
        monkeypatch.setenv("HF_ENDPOINT", proxy.endpoint)
        options = BatchOptions(targets=(STUCK, *OTHERS), jobs=2, target_timeout=600, cache=False)
        records = []
        with local_cluster() as cluster:
            options = replace_scheduler(options, cluster.scheduler_address)
            # a first run warms the workers (imports, knowledge base), so no healthy target of the
            # next comes near the client's deadline on a loaded machine
            warm = list(ClusterRunner(options, parse_target).run(OTHERS[:2]))
            assert [r["status"] for r in warm] == ["audited", "audited"]
            runner = ClusterRunner(options, parse_target, give_up_after=6)
            for record in runner.run([STUCK, *OTHERS]):
                records.append(record)
                if record["target"] == STUCK:
                    proxy.release.set()  # the stuck audit may now finish: its answer comes too late
        assert proxy.served[(STUCK, "hold")] == 1
    assert sorted(r["target"] for r in records) == sorted([STUCK, *OTHERS])  # each exactly once
    stuck = next(r for r in records if r["target"] == STUCK)
    assert stuck["status"] == "failed" and stuck["exit_code"] == 5
    assert stuck["error"]["kind"] == "DeadlineExceeded"
    assert "no answer from the cluster" in stuck["error"]["message"] and "given up" in stuck["error"]["message"]
    assert all(r["status"] == "audited" for r in records if r["target"] != STUCK)


def replace_scheduler(options: BatchOptions, address: str) -> BatchOptions:
    from dataclasses import replace

    return replace(options, scheduler=address)


def test_the_client_deadline_is_the_local_runs(fake_hub, monkeypatch, tmp_path):
    """`--scheduler` gives the cluster runner the same give-up time as the local runners: the
    target's timeout x 1.5 + 5 s, so a census means the same wherever it runs."""
    from auditor.batch import _runner

    options = BatchOptions(targets=tuple(OTHERS), scheduler="tcp://127.0.0.1:1", target_timeout=8,
                           cache_dir=str(tmp_path / "cache"))
    hub = HubSource(endpoint=fake_hub.endpoint, token=False)
    work = TargetWork(options, hub, parse_target)
    runner = _runner(options, parse_target, work, len(OTHERS), 8 * 1.5 + 5, lambda: None)
    assert isinstance(runner, ClusterRunner)
    assert runner.give_up_after == 17
    assert runner.cache is work.cache and runner.cache is not None
    hub.close()


def census(tmp_path: Path, name: str, targets: list[str], *options: str) -> list[dict]:
    out = tmp_path / f"{name}.jsonl"
    result = CliRunner().invoke(audit_model, [*targets, "--jobs", "2", "--format", "jsonl", "-o", str(out), "-q", *options])
    assert result.exit_code in (0, 1), result.stderr
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_records_from_the_cluster_are_cached_by_the_client(fake_hub, monkeypatch, tmp_path):
    """The workers cache in their own directory; the client keeps every record they return in
    its --cache-dir, so a warm re-run here, in-process, costs one request per repo (its model
    info), whichever worker audited it."""
    client_cache, worker_cache = tmp_path / "client-cache", tmp_path / "worker-cache"
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(worker_cache))  # what the workers are started with
    with local_cluster() as cluster:
        cold = census(tmp_path, "cold", OTHERS, "--scheduler", cluster.scheduler_address, "--cache-dir", str(client_cache))
    assert [r["status"] for r in cold] == ["audited"] * len(OTHERS)
    assert not any(r["cached"] for r in cold)
    assert list(worker_cache.glob("results/*/*.json"))  # the workers kept theirs apart
    fake_hub.reset()
    warm = census(tmp_path, "warm", OTHERS, "--cache-dir", str(client_cache))
    assert fake_hub.stats.total_requests == len(OTHERS)  # 1.0 request per repo
    assert fake_hub.stats.requests["api"] == len(OTHERS)
    assert all(r["cached"] for r in warm)
    by_target = {r["target"]: r for r in cold}
    assert all(r["summary"] == by_target[r["target"]]["summary"] for r in warm)  # the cluster's own answers
