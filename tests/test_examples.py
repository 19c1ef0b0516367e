"""The shipped examples' reports are what the auditor says of them today (golden files, read by eye).

After a deliberate change to the reports: AUDITOR_REGEN=1 python -m pytest tests/test_examples.py,
then review the diff of examples/reports/ before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import audit_model

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.name for p in (ROOT / "examples" / "repos").iterdir() if p.is_dir())


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("fmt", ["md", "json"])
def test_example_report_is_current(name, fmt, monkeypatch):
    monkeypatch.chdir(ROOT)  # reports name the example by its path relative to the project
    result = CliRunner().invoke(audit_model, [f"examples/repos/{name}", "--format", {"md": "markdown", "json": "json"}[fmt]])
    assert result.exit_code == 0, result.stderr
    golden = ROOT / "examples" / "reports" / f"{name}.{fmt}"
    if os.environ.get("AUDITOR_REGEN"):
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")


def test_the_history_example_is_the_fixture_and_the_readme_shows_its_timeline(tmp_path, monkeypatch):
    import subprocess

    from fakehub.history import HistoryRepo

    bundle = ROOT / "examples" / "history" / "aurora-1b.bundle"
    subprocess.run(["git", "clone", "-q", str(bundle), str(tmp_path / "aurora-1b")], check=True)
    log = subprocess.run(["git", "-C", str(tmp_path / "aurora-1b"), "log", "--format=%s"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    fixture = HistoryRepo.load_history(ROOT / "tests" / "fixtures" / "histories" / "relicensed")
    assert log == [c.title for c in reversed(fixture.commits)]  # scripts/history_example.py after a fixture change
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(audit_model, ["aurora-1b", "--history", "--no-check-links"])
    assert result.exit_code == 0, result.stderr
    start = result.stdout.index("## Licence history\n")
    section = result.stdout[start:result.stdout.index("\n## ", start + 1)].strip().split("\n", 1)[1].strip()
    quoted = "\n".join("> " + line if line else ">" for line in section.splitlines())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert quoted in readme
    assert "git clone -q examples/history/aurora-1b.bundle aurora-1b && audit-model aurora-1b --history" in readme
