"""One backoff across real worker processes: a census with `--processes 2` where the Hub answers
one repo's request 429 with Retry-After. Read from the fake Hub's own request log (its clock,
not ours): while the pause runs no request of either worker process reaches the Hub, the census
goes on after it, and the records and the summary say how long requests waited."""

from __future__ import annotations

import json

from click.testing import CliRunner
from faultproxy import Fault, FaultProxy

from auditor.cli import audit_model
from auditor.report.census import render_census

LIMITED = "fixture-lab/open-science-1b"
TARGETS = ["fixture-co/apache-7b", LIMITED, "fixture-corp/research-13b", "fixture-student/ner-model",
           "fixture-art/diffusion-v1", "fixture-lab/code-only", "fixture-corp/mystery-3b", "fetch-lab/big-weights"]
PAUSE = 5.0  # seconds: the proxy asks for an hour, the run caps its waits at this
# A request already past its turn when the 429 came (sent, or about to be, by a thread that had
# not yet heard of the pause) may still arrive just after it: only what arrives later than this
# counts, a margin far beyond any scheduling delay.
ALREADY_ON_ITS_WAY = 1.5


def test_a_429_in_one_worker_process_pauses_both(fake_hub, monkeypatch, tmp_path):
    monkeypatch.setenv("AUDITOR_RETRY_AFTER_CAP", str(PAUSE))  # the worker processes inherit it
    out = tmp_path / "census.jsonl"
    with FaultProxy(fake_hub.endpoint, {LIMITED: Fault("retry-after", on="api", times=1)}) as proxy:
        monkeypatch.setenv("HF_ENDPOINT", proxy.endpoint)
        result = CliRunner().invoke(audit_model, [*TARGETS, "--processes", "2", "--jobs", "4", "--no-cache",
                                                  "--format", "jsonl", "-o", str(out), "-q"])
        served = list(proxy.served_at)
    assert result.exit_code in (0, 1), result.stderr
    assert [(repo, kind) for _, repo, kind in served] == [(LIMITED, "retry-after")]
    limited_at = served[0][0]
    log = sorted(fake_hub.stats.log, key=lambda request: request.at)
    during = [r for r in log if limited_at + ALREADY_ON_ITS_WAY <= r.at < limited_at + PAUSE]
    assert during == [], [(round(r.at - limited_at, 2), r.path) for r in during]  # seconds into the pause, what
    after = [r for r in log if r.at >= limited_at + PAUSE]
    assert after, "the census went on after the pause"
    assert any(LIMITED not in r.path for r in after)  # other targets were still to do: they waited too

    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["target"] for r in records) == sorted(TARGETS)
    assert all(r["status"] == "audited" for r in records)
    limited = next(r for r in records if r["target"] == LIMITED)
    assert limited["retries"] == 1 and limited["waited"] >= PAUSE / 2  # its own retry waited out the pause
    waited = sum(r.get("waited", 0) for r in records)
    assert waited > limited["waited"]  # targets of the other requests waited too, in both processes or one
    summary = "".join(render_census(lambda: iter(records)))
    assert f"Requests waited {waited:.1f} s in all on rate limits" in summary
