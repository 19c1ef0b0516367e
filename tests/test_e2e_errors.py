"""Bad input: each gives its documented exit code and one line on stderr, or a finding, never a traceback.

These run the installed CLI as a subprocess, the way a user or CI meets it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def audit(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}, cwd=cwd,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int, words: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and words in errors[0].lower(), proc.stderr
    assert proc.stdout == ""


def test_unknown_repo_exits_3_and_may_be_private(fake_hub):
    proc = audit("nobody/nothing-here")
    assert_one_line_error(proc, 3, "not found")
    assert_one_line_error(proc, 3, "if it is private, pass --token")


def test_bad_revision_exits_3(fake_hub):
    assert_one_line_error(audit("fixture-co/apache-7b", "--revision", "no-such-branch"), 3, "revision")


def test_private_repo_without_token_exits_4_and_says_how(fake_hub):
    proc = audit("fetch-lab/private-1b")
    assert_one_line_error(proc, 4, "token")


def test_private_repo_with_a_rejected_token_exits_4(fake_hub):
    assert_one_line_error(audit("fetch-lab/private-1b", "--token", "hf_wrong"), 4, "refused the token")


def test_hub_down_exits_5(fake_hub):
    assert_one_line_error(audit("fetch-lab/down"), 5, "503")


def test_unreachable_endpoint_exits_5():
    proc = audit("org/name", env={"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_DISABLE_TELEMETRY": "1"})
    assert_one_line_error(proc, 5, "127.0.0.1:9")


def test_nonexistent_path_exits_3(tmp_path):
    assert_one_line_error(audit(str(tmp_path / "missing")), 3, "no such directory")


def test_a_file_instead_of_a_directory_exits_3(tmp_path):
    file = tmp_path / "model.safetensors"
    file.write_bytes(b"x")
    assert_one_line_error(audit(str(file)), 3, "not a model repository directory")


def test_malformed_target_is_a_usage_error():
    assert_one_line_error(audit("not a repo id"), 2, "neither a local directory nor a hub repo id")


def test_unknown_option_is_a_usage_error():
    proc = audit("--no-such-option", "x")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"README.md": "---\nlicense: mit\ntags: [a\n---\n# x\n"}, "card-metadata-invalid"),
        ({"LICENSE": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8}, "file-unread"),
    ],
)
def test_broken_files_become_findings(tmp_path, files, code):
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 16)
    proc = audit(str(tmp_path), "--format", "json")
    assert proc.returncode == 1, proc.stderr  # the 16 zero bytes are no safetensors header: not safe to load
    report = json.loads(proc.stdout)
    assert code in {f["code"] for f in report["findings"]}


def test_a_50_mb_readme_is_not_read(tmp_path):
    (tmp_path / "README.md").write_bytes(b"---\nlicense: mit\n---\n" + b"a" * (50 * 1024 * 1024))
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 16)
    proc = audit(str(tmp_path), "--format", "json")
    assert proc.returncode == 1, proc.stderr  # the 16 zero bytes are no safetensors header: not safe to load
    report = json.loads(proc.stdout)
    unread = {u["path"]: u["reason"] for u in report["unread"]}
    assert "README.md" in unread
    assert "card-missing" in {f["code"] for f in report["findings"]} or report["unread"]


def test_version_is_fast_and_clean():
    proc = audit("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("audit-model, version")
