"""The policies the project ships: the Action's default, the example workflow's and the README's
example all refuse a fine-tune that drops its base model's licence (licence-incompatible-with-base),
the commonest relabelling on the Hub. The fixture's card says Apache-2.0 over a Llama 3 base."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from click.testing import CliRunner
from test_action import run_audit_step

from auditor.cli import audit_model
from fakehub.checkout import materialise

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "repos"
DROPS_ITS_BASE = "lineage-llama-relabelled"
RULE = "fail-on licence-incompatible-with-base"


def test_the_actions_default_policy_refuses_a_dropped_base_licence(tmp_path):
    process, summary, outputs = run_audit_step(tmp_path, DROPS_ITS_BASE)
    assert process.returncode == 1, process.stdout + process.stderr
    assert outputs["policy"] == "failed"
    assert f"::error title=audit-model policy::{RULE}: meta-llama/Meta-Llama-3-8B" in process.stdout
    assert "the action's default policy" in summary


def test_the_actions_default_policy_passes_a_clean_release_and_gives_way_to_any_rule(tmp_path):
    process, summary, outputs = run_audit_step(tmp_path / "clean", "open-science")
    assert process.returncode == 0 and outputs["policy"] == "passed", process.stdout
    process, _, outputs = run_audit_step(tmp_path / "own-rule", DROPS_ITS_BASE, fail_on="not-open")
    assert process.returncode == 0 and outputs["policy"] == "passed", process.stdout  # the input replaces the default


def test_the_example_workflows_policy_refuses_it(tmp_path):
    steps = yaml.safe_load((ROOT / "examples" / "workflows" / "audit-model.yml").read_text(encoding="utf-8"))["jobs"]["audit"]["steps"]
    inputs = next(step for step in steps if step.get("id") == "audit")["with"]
    assert "licence-incompatible-with-base" in inputs["fail-on"].split(",")
    process, _, outputs = run_audit_step(tmp_path, DROPS_ITS_BASE, fail_on=inputs["fail-on"])
    assert process.returncode == 1 and outputs["policy"] == "failed"
    assert f"::error title=audit-model policy::{RULE}" in process.stdout


def test_the_readme_policy_example_refuses_it(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Policy"):]
    example = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    assert "licence-incompatible-with-base" in example
    (tmp_path / "pyproject.toml").write_text(example, encoding="utf-8")
    folder = materialise(FIXTURES / DROPS_ITS_BASE, tmp_path / "checkout")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(audit_model, [str(folder), "--format", "json", "--no-check-links"])
    assert result.exit_code == 1, result.stderr
    assert RULE in result.stderr
