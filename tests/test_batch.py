"""Census runs end to end against the fake Hub: listing, sharding, the stream and --resume
(also after SIGKILL and SIGTERM), the cache, CSV and the census summary, shared look-ups."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from faultproxy import Fault, FaultProxy

from auditor.batch.targets import in_shard, parse_shard
from auditor.cli import audit_model
from auditor.errors import UsageError
from auditor.sources.hub import HubSource

STEADY = ["fetch-lab/big-weights", "fetch-lab/gated-3b", "fetch-lab/odd-files", "fixture-co/apache-7b", "fixture-lab/open-science-1b"]
SOME = ["fixture-co/apache-7b", "fixture-lab/open-science-1b", "fixture-corp/research-13b", "fixture-student/ner-model",
        "fetch-lab/big-weights", "fixture-art/diffusion-v1", "fixture-lab/code-only", "fixture-corp/mystery-3b"]


def run(*args: str, env: dict | None = None):
    result = CliRunner().invoke(audit_model, [*args, "-q"], env={"AUDITOR_HTTP_RETRY_WAIT": "0", **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def at_once(count: int, ask) -> list:
    """`ask()` from `count` threads released together; their answers."""
    start = threading.Barrier(count)
    answers = []

    def one():
        start.wait()
        answers.append(ask())

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_author_and_limit_list_targets_through_the_model_listing(fake_hub, tmp_path):
    out = tmp_path / "out.jsonl"
    code, _, stderr = run("--author", "fetch-lab", "--search", "FLAKY", "--format", "jsonl", "-o", str(out))
    assert code == 0, stderr
    assert sorted(r["target"] for r in lines(out)) == ["fetch-lab/flaky-api", "fetch-lab/flaky-files"]
    code, _, stderr = run("--author", "fetch-lab", "--limit", "1", "--format", "jsonl", "-o", str(out))
    assert [r["target"] for r in lines(out)] == ["fetch-lab/big-weights"]


def test_filter_selects_by_tag(fake_hub, tmp_path):
    out = tmp_path / "out.jsonl"
    code, _, stderr = run("--filter", "base_model:fetch-lab/base-1b", "--format", "jsonl", "-o", str(out))
    assert code == 0, stderr
    assert [r["target"] for r in lines(out)] == ["fetch-lab/big-weights"]
    assert lines(out)[0]["summary"]["derivative"] is True


def test_shards_split_a_list_without_overlap_or_gaps():
    names = [f"org/model-{i}" for i in range(200)]
    shards = [{n for n in names if in_shard(n, (i, 3))} for i in (1, 2, 3)]
    assert set().union(*shards) == set(names)
    assert sum(len(s) for s in shards) == len(names)
    assert all(shards)
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "x", "1/0"):
        with pytest.raises(UsageError):
            parse_shard(bad)


def test_shard_option_audits_only_its_share(fake_hub, tmp_path):
    seen = []
    for index in (1, 2):
        out = tmp_path / f"shard{index}.jsonl"
        code, _, stderr = run(*SOME, "--shard", f"{index}/2", "--format", "jsonl", "-o", str(out))
        assert code == 0, stderr
        seen += [r["target"] for r in lines(out)]
    assert sorted(seen) == sorted(SOME)


def test_each_target_once_and_failures_are_lines(fake_hub, tmp_path):
    out = tmp_path / "out.jsonl"
    code, _, _ = run("fetch-lab/big-weights", "nobody/nothing", "fetch-lab/big-weights", "not a repo", "--jobs", "2",
                     "--format", "jsonl", "-o", str(out))
    records = {r["target"]: r for r in lines(out)}
    assert len(lines(out)) == 3
    assert records["nobody/nothing"]["exit_code"] == 3 and records["nobody/nothing"]["error"]["kind"] == "NotFound"
    assert records["not a repo"]["exit_code"] == 2
    assert records["fetch-lab/big-weights"]["status"] == "audited"
    assert code == 3


def test_a_warm_run_costs_one_request_per_repo(fake_hub, tmp_path):
    out = tmp_path / "out.jsonl"
    assert run(*STEADY, "--format", "jsonl", "-o", str(out))[0] == 0
    cold = lines(out)
    fake_hub.reset()
    assert run(*STEADY, "--format", "jsonl", "-o", str(out))[0] == 0
    warm = lines(out)
    assert fake_hub.stats.requests["api"] == len(STEADY) and fake_hub.stats.total_requests == len(STEADY)
    assert all(r["cached"] for r in warm) and not any(r["cached"] for r in cold)
    assert {r["target"]: r["report"] for r in warm} == {r["target"]: r["report"] for r in cold}
    fake_hub.reset()
    assert run(*STEADY, "--no-cache", "--format", "jsonl", "-o", str(out))[0] == 0
    assert fake_hub.stats.requests["get"] > 0


def test_cache_dir_option_and_default(fake_hub, tmp_path, monkeypatch):
    out, cache = tmp_path / "out.jsonl", tmp_path / "my-cache"
    assert run("fetch-lab/big-weights", "--cache-dir", str(cache), "--format", "jsonl", "-o", str(out))[0] == 0
    assert list(cache.rglob("*.json"))
    from auditor.batch.cache import default_cache_dir

    monkeypatch.delenv("AUDITOR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "audit-model"


def test_csv_has_one_row_per_repo(fake_hub, tmp_path):
    code, stdout, _ = run("fetch-lab/big-weights", "fetch-lab/gated-3b", "nobody/nothing", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert code == 3
    assert [r["id"] for r in sorted(rows, key=lambda r: r["id"])] == ["fetch-lab/big-weights", "fetch-lab/gated-3b", "nobody/nothing"]
    big = next(r for r in rows if r["id"] == "fetch-lab/big-weights")
    # its card names a base model the Hub does not have: Apache-2.0 binds, but the verdict cannot be settled
    assert (big["verdict"], big["provisional"], big["governing_licences"], big["commercial_use"], big["errors"]) == (
        "unknown", "yes", "Apache-2.0", "yes", "0")
    assert big["sha"] == "da66d2a28ad6e077ce56800ac957b3439e8ff780"
    missing = next(r for r in rows if r["id"] == "nobody/nothing")
    assert (missing["status"], missing["exit_code"]) == ("failed", "3")


def test_the_schema_doc_lists_the_csv_columns_in_order():
    from auditor.report.csv_report import COLUMNS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "json-schema.md").read_text(encoding="utf-8")
    listed = doc.split("`--format csv` has one row per line: `", 1)[1].split("`", 1)[0]
    assert tuple(c.strip() for c in listed.split(",")) == COLUMNS


def test_markdown_census_summary_puts_errors_first(fake_hub, tmp_path):
    out = tmp_path / "census.md"
    code, _, _ = run("fetch-lab/big-weights", "fetch-lab/gated-3b", "nobody/nothing", "--jobs", "2", "-o", str(out))
    text = out.read_text(encoding="utf-8")
    assert code == 3
    assert text.startswith("# Census of 3 repositories\n\n2 audited, 1 could not be audited")
    assert text.index("## Verdicts") < text.index("## Repositories with errors") < text.index("## Repositories\n")
    assert "| nobody/nothing | 3 |" in text
    assert "## Derivatives\n\n0 of 1 derivatives" in text


def test_base_models_shared_by_many_targets_are_looked_up_once(fake_hub):
    source = HubSource(endpoint=fake_hub.endpoint, token=False)
    answers = at_once(8, lambda: source.ancestor("fetch-lab/big-weights").card.get("license"))
    assert answers == ["apache-2.0"] * 8
    assert fake_hub.stats.requests["api"] == 1


def test_resume_needs_a_jsonl_file():
    code, _, stderr = run("org/name", "--resume", "--format", "csv")
    assert code == 2 and "--resume continues a JSONL file" in stderr


def _start_batch(endpoint: str, out: Path, tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "HF_ENDPOINT": endpoint, "AUDITOR_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "auditor", *SOME, "--jobs", "1", "--format", "jsonl", "-o", str(out), "-q"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_killed_batch_resumes_with_no_loss_and_no_duplicates(how, fake_hub, tmp_path):
    out = tmp_path / "out.jsonl"
    held = SOME[4]  # the proxy holds this target's model info until the batch has been killed
    with FaultProxy(fake_hub.endpoint, {held: Fault("hold")}) as proxy:
        batch = _start_batch(proxy.endpoint, out, tmp_path)
        try:
            assert proxy.held.wait(60), "the batch never reached the held target"
            batch.send_signal(getattr(signal, how))
            code = batch.wait(60)
        finally:
            batch.kill()
    finished = lines(out)  # a valid file: every line parses
    assert 0 < len(finished) < len(SOME)
    assert held not in {r["target"] for r in finished}
    if how == "SIGTERM":
        assert code == 128 + signal.SIGTERM
    code, _, stderr = run(*SOME, "--jobs", "3", "--resume", "--format", "jsonl", "-o", str(out))
    assert code == 0, stderr
    targets = [r["target"] for r in lines(out)]
    assert sorted(targets) == sorted(SOME)  # no loss, no duplicates
    assert targets[: len(finished)] == [r["target"] for r in finished]  # the finished ones were kept, not redone


def test_resume_drops_a_line_cut_short(fake_hub, tmp_path):
    out = tmp_path / "out.jsonl"
    assert run("fetch-lab/big-weights", "--format", "jsonl", "-o", str(out))[0] == 0
    whole = out.read_text(encoding="utf-8")
    out.write_text(whole + whole[:40], encoding="utf-8")  # a second line cut off by a kill
    assert run("fetch-lab/big-weights", "fetch-lab/flaky-api", "--resume", "--format", "jsonl", "-o", str(out))[0] == 0
    assert [r["target"] for r in lines(out)] == ["fetch-lab/big-weights", "fetch-lab/flaky-api"]


def test_progress_lines_on_stderr_unless_quiet(fake_hub, tmp_path):
    result = CliRunner().invoke(audit_model, ["fetch-lab/big-weights", "nobody/nothing", "--format", "jsonl", "-o", str(tmp_path / "o.jsonl")])
    assert "2/2 targets done (1 failed" in result.stderr
    assert "failed: nobody/nothing:" in result.stderr
    quiet = CliRunner().invoke(audit_model, ["fetch-lab/big-weights", "--format", "jsonl", "-o", str(tmp_path / "q.jsonl"), "-q"])
    assert quiet.stderr == ""


class _CountingCodeHost:
    def __init__(self):
        self.asked = 0

    def licence_of(self, url: str) -> str:
        self.asked += 1
        return "MIT"


def test_linked_code_shared_by_many_targets_is_looked_up_once():
    from auditor.batch.work import SharedLinks

    host = _CountingCodeHost()
    links = SharedLinks(host, slots=2)
    answers = at_once(8, lambda: links.licence_of("https://github.com/org/code"))
    assert answers == ["MIT"] * 8 and host.asked == 1


def test_a_bug_in_one_target_is_its_failure_line_with_exit_70(fake_hub):
    from auditor.batch import BatchOptions
    from auditor.batch.work import TargetWork

    def broken_parser(text, revision):
        raise RuntimeError("boom \x00 in a parser")

    work = TargetWork(BatchOptions(check_links=False, cache=False), HubSource(endpoint=fake_hub.endpoint, token=False), broken_parser)
    record = work("org/name")
    assert (record["status"], record["exit_code"], record["error"]["kind"]) == ("failed", 70, "InternalError")
    assert record["error"]["message"] == "internal error: RuntimeError: boom \\x00 in a parser"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_silent_when_quiet():
    from auditor.batch.progress import Progress

    screen = _Terminal()
    bar = Progress(2, retries=lambda: 3, stream=screen)
    bar.finished({"status": "audited"})
    bar.finished({"status": "failed", "target": "org/x", "error": {"message": "gone"}})
    bar.close()
    assert "failed: org/x: gone" in screen.getvalue() and "retries=3" in screen.getvalue()
    assert "2/2 targets done (1 failed, 3 retries)" in screen.getvalue()
    silent = _Terminal()
    quiet = Progress(1, quiet=True, stream=silent)
    quiet.finished({"status": "failed", "target": "org/x", "error": {"message": "gone"}})
    quiet.close()
    assert silent.getvalue() == ""


def test_a_census_as_one_json_document(fake_hub, tmp_path):
    out = tmp_path / "census.json"
    code, _, _ = run("fetch-lab/big-weights", "nobody/nothing", "--jobs", "2", "-o", str(out))
    document = json.loads(out.read_text(encoding="utf-8"))
    assert code == 3
    assert [r["target"]["repo_id"] for r in document["results"]] == ["fetch-lab/big-weights"]
    assert document["failures"][0]["target"] == "nobody/nothing" and document["failures"][0]["exit_code"] == 3


def test_census_cells_and_csv_cells_are_defused():
    from auditor.report.census import cell
    from auditor.report.csv_report import row_of

    assert cell("a | b\n<script>`x`") == "a \\| b &lt;script&gt;\\`x\\`"
    assert cell("\x1b[31mred") == r"\\x1b\[31mred"  # shown as the characters it is: no escape sequence reaches stdout
    assert row_of({"target": "=HYPERLINK(\"x\")", "summary": {"commercial_use": "+1"}})[:6] == ["'=HYPERLINK(\"x\")", "", "", "", "", "'+1"]


def test_a_resumed_run_answers_for_the_whole_file(fake_hub, tmp_path):
    out = tmp_path / "out.jsonl"
    assert run("nobody/nothing", "--format", "jsonl", "-o", str(out))[0] == 3
    fake_hub.reset()
    code, _, _ = run("nobody/nothing", "fetch-lab/big-weights", "--resume", "--format", "jsonl", "-o", str(out))
    assert code == 3 and [r["target"] for r in lines(out)] == ["nobody/nothing", "fetch-lab/big-weights"]
    assert not [r for r in fake_hub.stats.log if "nobody/nothing" in r.path]  # not asked again


def test_limit_without_a_listing_is_a_usage_error():
    code, _, stderr = run("org/name", "--limit", "3", "--format", "jsonl")
    assert code == 2 and "--limit goes with" in stderr


def test_a_census_without_link_checks_looks_up_no_base_model(fake_hub, tmp_path):
    out = tmp_path / "out.jsonl"
    assert run("fetch-lab/big-weights", "--jobs", "2", "--no-check-links", "-o", str(out))[0] == 0
    assert not [r for r in fake_hub.stats.log if "base-1b" in r.path]  # its card's base model is not asked for
    record = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert record["summary"]["provisional"] is True  # and the verdict says it rests on what was not checked


def test_an_offline_census_looks_up_nothing(fake_hub, tmp_path):
    # offline, a Hub id is read from the Hugging Face cache or not at all (tests/test_bad_input.py caches one)
    out = tmp_path / "out.jsonl"
    assert run("fetch-lab/big-weights", "--jobs", "2", "-o", str(out), env={"HF_HUB_OFFLINE": "1"})[0] == 5
    assert fake_hub.stats.total_requests == 0
    [record] = lines(out)
    assert record["exit_code"] == 5 and "offline (HF_HUB_OFFLINE=1) and not in the cache" in record["error"]["message"]
