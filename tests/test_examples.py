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
