"""The CLI as a user in a terminal or a pipeline meets it: where output goes, which policy applies,
how targets may be spelt, what errors say, and how much is printed on stderr.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import audit_model
from auditor.errors import UsageError
from auditor.findings import declared
from auditor.targets import parse_target
from fakehub.checkout import materialise

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
APACHE, APACHE_SHA = "fixture-co/apache-7b", "f4dc253eacf76e3734d48ec0c046a264424ba705"


@pytest.fixture
def checkout(tmp_path):
    return lambda case: materialise(FIXTURES / case, tmp_path / "checkouts" / case)


def cli(*args: str):
    return CliRunner().invoke(audit_model, [*args])


# -- one output rule ---------------------------------------------------------------------------

def test_stdout_is_markdown_unless_format_says_otherwise(checkout):
    repo = str(checkout("open-science"))
    assert cli(repo, "--no-check-links").stdout.startswith("# Audit of")
    assert cli(repo, "--no-check-links", "--format", "md").stdout.startswith("# Audit of")
    assert json.loads(cli(repo, "--no-check-links", "--format", "json").stdout)["schema"] == "auditor/1"


@pytest.mark.parametrize("name, check", [
    ("r.md", lambda text: text.startswith("# Audit of")),
    ("r.json", lambda text: json.loads(text)["schema"] == "auditor/1"),
    ("r.sarif", lambda text: json.loads(text)["version"] == "2.1.0"),
    ("r.sarif.json", lambda text: json.loads(text)["version"] == "2.1.0"),
    ("r.cdx.json", lambda text: json.loads(text)["bomFormat"] == "CycloneDX"),
    ("bom.json", lambda text: json.loads(text)["bomFormat"] == "CycloneDX"),
])
def test_output_file_suffix_chooses_the_format(checkout, tmp_path, name, check):
    out = tmp_path / name
    result = cli(str(checkout("open-science")), "--no-check-links", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert check(out.read_text(encoding="utf-8")) and result.stdout == ""


def test_unknown_suffix_is_refused_before_auditing_unless_format_is_given(checkout, tmp_path):
    repo = str(checkout("open-science"))
    refused = cli(repo, "-o", str(tmp_path / "report.txt"))
    assert refused.exit_code == 2 and "--format" in refused.stderr and "auditing" not in refused.stderr
    table = cli(repo, "--no-check-links", "-o", str(tmp_path / "table.csv"))
    assert table.exit_code == 0 and (tmp_path / "table.csv").read_text().startswith("id,sha,verdict,")
    chosen = cli(repo, "--no-check-links", "-o", str(tmp_path / "report.txt"), "--format", "json")
    assert chosen.exit_code == 0 and json.loads((tmp_path / "report.txt").read_text())["schema"] == "auditor/1"


def test_dash_is_stdout(checkout, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli(str(checkout("open-science")), "--no-check-links", "-o", "-", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["schema"] == "auditor/1"
    assert not (tmp_path / "-").exists()


def test_output_into_a_missing_directory_is_exit_2_before_auditing(checkout, tmp_path):
    result = cli(str(checkout("open-science")), "-o", str(tmp_path / "no" / "such" / "report.md"))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert "auditing" not in result.stderr and not (tmp_path / "no").exists()


# -- policy: names checked, files chosen by the caller -------------------------------------------

def test_misspelt_licence_is_exit_2_with_a_suggestion_before_auditing(checkout):
    result = cli(str(checkout("cc-by-nc")), "--deny-licence", "cc-by-nc-40")
    assert result.exit_code == 2, result.output
    assert "unknown licence 'cc-by-nc-40'" in result.stderr and "did you mean 'cc-by-nc-4.0'" in result.stderr
    assert "auditing" not in result.stderr


def test_fail_on_reads_underscores_and_suggests(checkout):
    assert cli(str(checkout("open-science")), "--no-check-links", "--fail-on", "unsafe_pickle").exit_code == 0
    misspelt = cli(str(checkout("open-science")), "--fail-on", "unsafe-pickel")
    assert misspelt.exit_code == 2 and "did you mean 'unsafe-pickle'" in misspelt.output


@pytest.mark.parametrize("name", ["cc-by-nc-*", "cc-by-nc", "CC-BY-NC-4.0", "Creative Commons Attribution-NonCommercial 4.0"])
def test_families_patterns_spdx_ids_and_names_match(checkout, name):
    result = cli(str(checkout("cc-by-nc")), "--no-check-links", "--deny-licence", name, "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["policy"]["failures"][0]["rule"] == f"deny-licence {name}"


def test_the_targets_own_policy_applies_only_when_asked(checkout, tmp_path, monkeypatch):
    repo = checkout("cc-by-nc")
    (repo / ".auditor.toml").write_text('deny-licence = ["cc-by-nc-4.0"]\n')
    monkeypatch.chdir(tmp_path)
    ignored = cli(str(repo), "--no-check-links")
    assert ignored.exit_code == 0 and "policy from" not in ignored.stderr
    asked = cli(str(repo), "--no-check-links", "--config-from-target")
    assert asked.exit_code == 1 and f"policy from {repo / '.auditor.toml'}" in asked.stderr


def test_policy_from_config_file_else_the_current_directory_named_on_stderr(checkout, tmp_path, monkeypatch):
    repo = checkout("cc-by-nc")
    here = tmp_path / "here"
    here.mkdir()
    (here / "pyproject.toml").write_text('[tool.auditor]\nfail-on = ["non-commercial"]\n')
    chosen = tmp_path / "gate.toml"
    chosen.write_text('allow-licence = ["apache-2.0"]\n')
    monkeypatch.chdir(here)
    from_cwd = cli(str(repo), "--no-check-links", "--format", "json")
    assert from_cwd.exit_code == 1 and f"policy from {here / 'pyproject.toml'}" in from_cwd.stderr
    # every policy keeps the gate on files unsafe to load, and lists it among its rules
    assert json.loads(from_cwd.stdout)["policy"]["rules"] == ["fail-on non-commercial", "fail-on unsafe-to-load"]
    from_file = cli(str(repo), "--no-check-links", "--format", "json", "--config", str(chosen))
    assert from_file.exit_code == 1 and f"policy from {chosen}" in from_file.stderr
    assert json.loads(from_file.stdout)["policy"]["rules"] == ["fail-on unsafe-to-load", "allow-licence apache-2.0"]
    chosen.write_text('deny-licence = ["cc-by-nc-40"]\n')
    bad = cli(str(repo), "--config", str(chosen))
    assert bad.exit_code == 2 and "did you mean" in bad.stderr and "auditing" not in bad.stderr
    (here / "pyproject.toml").write_text('[tool.auditor]\nfail-on = ["non_comercial"]\n')
    bad_here = cli(str(repo), str(repo))
    assert bad_here.exit_code == 2 and "did you mean 'non-commercial'" in bad_here.stderr and "auditing" not in bad_here.stderr


# -- targets -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, repo, revision", [
    ("org/name/", "org/name", None),
    ("hf.co/org/name", "org/name", None),
    ("huggingface.co/org/name", "org/name", None),
    ("https://huggingface.co/org/name/tree/v1.0", "org/name", "v1.0"),
    ("org/name@v1.0", "org/name", "v1.0"),
    ("org/name@f4dc253", "org/name", "f4dc253"),
])
def test_target_spellings(text, repo, revision):
    target = parse_target(text)
    assert (target.repo_id, target.revision) == (repo, revision)


def test_two_different_revisions_are_a_usage_error():
    with pytest.raises(UsageError):
        parse_target("org/name@v1", "v2")


@pytest.mark.parametrize("spelling", [f"{APACHE}/", f"hf.co/{APACHE}", f"huggingface.co/{APACHE}", f"{APACHE}@main",
                                      f"{APACHE}@{APACHE_SHA}", f"{APACHE}@{APACHE_SHA[:7]}", f"https://hf.co/{APACHE}/tree/{APACHE_SHA[:10]}"])
def test_hub_target_spellings_audit_the_repo(fake_hub, spelling):
    result = cli(spelling, "--no-check-links", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["target"]["repo_id"] == APACHE and report["sha"] == APACHE_SHA


def test_neither_a_directory_nor_on_the_hub_says_both_and_hints_at_a_token(fake_hub):
    result = cli("nobody/nothing-here")
    assert result.exit_code == 3
    line = next(line for line in result.stderr.splitlines() if line.startswith("error:"))
    assert "no directory nobody/nothing-here" in line and "not found" in line and "--token" in line


# -- stderr: quiet, verbose; help ------------------------------------------------------------------

def test_quiet_prints_nothing_but_the_report(checkout):
    result = cli(str(checkout("open-science")), "--no-check-links", "-q")
    assert result.exit_code == 0 and result.stderr == "" and result.stdout.startswith("# Audit of")


def test_verbose_logs_every_file_read_and_every_request(checkout, fake_hub):
    local = cli(str(checkout("open-science")), "--no-check-links", "-v")
    assert local.exit_code == 0
    assert "read README.md" in local.stderr and "read LICENSE" in local.stderr
    hub = cli(APACHE, "--no-check-links", "-v")
    assert hub.exit_code == 0
    requests = [line for line in hub.stderr.splitlines() if line.startswith("HTTP Request:")]
    assert any(f"/api/models/{APACHE}" in line for line in requests)
    assert any("/resolve/" in line and "README.md" in line for line in requests)


def test_help_lists_exit_codes_and_examples():
    text = cli("--help").stdout
    assert "Exit codes:" in text and "Examples:" in text
    for code in ("0", "1", "2", "3", "4", "5", "70", "130"):
        assert any(line.strip().startswith(code + " ") for line in text.splitlines()), code
    assert "--list-findings" in text and "--config-from-target" in text


def test_list_findings_prints_every_code_with_its_meaning():
    result = cli("--list-findings")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(declared())
    assert any(line.split()[0] == "unsafe-pickle" and declared()["unsafe-pickle"]["title"] in line for line in lines)


# -- Ctrl-C ------------------------------------------------------------------------------------------

def test_ctrl_c_exits_130_and_keeps_the_reports_of_finished_targets(tmp_path):
    """The second target is a Hub repo on a server that accepts the connection and never answers:
    once it has connected, SIGINT arrives mid-audit, deterministically."""
    repo = materialise(FIXTURES / "open-science", tmp_path / "open-science")
    out = tmp_path / "batch.json"
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        env = {**os.environ, "HF_ENDPOINT": f"http://127.0.0.1:{server.getsockname()[1]}", "HF_HUB_DISABLE_TELEMETRY": "1",
               "HF_HOME": str(tmp_path / "hf"), "AUDITOR_GITHUB_API": "http://127.0.0.1:9"}
        # a shell runs a background job with SIGINT ignored, and a child keeps that: as from a terminal, it is heeded
        process = subprocess.Popen([sys.executable, "-m", "auditor", str(repo), "org/hangs", "--no-check-links", "-o", str(out)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        connection, _ = server.accept()  # the Hub request of the second target is in flight
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        connection.close()
    assert process.returncode == 130, stderr
    assert b"interrupted" in stderr and b"Traceback" not in stderr
    report = json.loads(out.read_text())
    assert report["schema"] == "auditor/1" and report["target"]["path"] == str(repo)


def test_a_repo_not_found_with_a_token_says_the_token_may_lack_access(fake_hub):
    result = cli("nobody/nothing-here", "--token", "hf_some_token")
    assert result.exit_code == 3
    assert "the token given has no access to it" in result.stderr


def test_a_sarif_batch_names_the_target_in_every_location(checkout, tmp_path):
    first, second = checkout("relabelled"), checkout("no-licence")
    out = tmp_path / "batch.sarif"
    result = cli(str(first), str(second), "--no-check-links", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    runs = json.loads(out.read_text())["runs"]
    assert [run["properties"]["target"] for run in runs] == [str(first), str(second)]
    assert [run["originalUriBaseIds"]["TARGETROOT"]["uri"] for run in runs] == [p.resolve().as_uri() + "/" for p in (first, second)]
    for run in runs:
        locations = [loc for item in run["results"] for loc in item["locations"]]
        assert locations and all(loc["properties"]["target"] == run["properties"]["target"] for loc in locations)
        assert all(loc["physicalLocation"]["artifactLocation"]["uriBaseId"] == "TARGETROOT" for loc in locations)
        assert all(item["level"] != "note" for item in run["results"])  # info findings left out by default


def test_a_reader_that_goes_away_is_not_an_error(tmp_path):
    """`audit-model X | head`: the pipe has no reader by the time the report is written."""
    repo = materialise(FIXTURES / "open-science", tmp_path / "open-science")
    read_end, write_end = os.pipe()
    os.close(read_end)  # closed before the child starts: its write is certain to meet a broken pipe
    try:
        process = subprocess.run([sys.executable, "-m", "auditor", str(repo), "--no-check-links"], stdout=write_end,
                                 stderr=subprocess.PIPE, timeout=120,
                                 env={**os.environ, "AUDITOR_GITHUB_API": "http://127.0.0.1:9", "HF_ENDPOINT": "http://127.0.0.1:9"})
    finally:
        os.close(write_end)
    assert process.returncode == 0, process.stderr
    assert b"internal error" not in process.stderr and b"Traceback" not in process.stderr


def test_a_missing_id_from_a_list_is_not_said_to_be_a_missing_folder(fake_hub, tmp_path):
    """An id read from --targets-from names a Hub repo, never a folder: its error says the Hub
    did not find it (and that it may be private), not that no folder of that name is here."""
    listing = tmp_path / "ids.txt"
    listing.write_text("nobody/missing-model\n", encoding="utf-8")
    out = tmp_path / "census.jsonl"
    for args in (["--targets-from", str(listing)], ["--targets-from", str(listing), "-o", str(out)]):
        result = cli(*args)
        assert result.exit_code == 3, result.stderr
        error = result.stderr if "-o" not in args else json.loads(out.read_text().splitlines()[0])["error"]["message"]
        assert "nobody/missing-model" in error and "if it is private" in error and "no directory" not in error, error
    assert "no directory nobody/missing-model here" in cli("nobody/missing-model").stderr  # an argument might have meant one
