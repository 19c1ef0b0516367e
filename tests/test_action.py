"""The GitHub Action: action.yml's shape, and its audit step run as a runner would run it."""

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from fakehub.checkout import materialise

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "repos"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS = {step["id"]: step for step in ACTION["runs"]["steps"]}
SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def test_action_is_composite_with_the_documented_interface():
    assert ACTION["runs"]["using"] == "composite"
    assert {"target", "revision", "format", "fail-on", "token"} <= set(ACTION["inputs"])
    assert {"verdict", "report-path", "sarif-path"} <= set(ACTION["outputs"])
    assert "GITHUB_ACTION_PATH" in STEPS["install"]["run"] and "pip install" in STEPS["install"]["run"]


def test_no_input_is_interpolated_into_shell_text():
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step["run"], step["id"]


def test_every_input_reaches_the_script_as_an_environment_variable():
    env = STEPS["audit"]["env"]
    source = (ROOT / "auditor" / "action.py").read_text(encoding="utf-8")
    for name in ACTION["inputs"]:
        if name == "python":
            continue  # used by the install step only
        variable = "INPUT_" + name.upper().replace("-", "_")
        assert env[variable] == "${{ inputs." + name + " }}"
        assert f'"{variable[len("INPUT_"):]}"' in source, variable


def test_install_step_is_valid_bash():
    checked = subprocess.run(["bash", "-n", "-c", STEPS["install"]["run"]], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


GITHUB_CONTEXT = {"github.token": "ghs_job_token"}  # what the runner evaluates `${{ github.token }}` to


def _evaluated(default) -> str:
    expression = re.fullmatch(r"\$\{\{\s*(.+?)\s*\}\}", str(default))
    return GITHUB_CONTEXT[expression.group(1)] if expression else str(default)


def run_audit_step(tmp_path, fixture, extra_env=None, **inputs):
    """The audit step's shell, with its `${{ }}` env evaluated as the runner would; fixture None
    leaves the workspace empty, as a workflow without actions/checkout does."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    workspace = tmp_path / "workspace"
    if fixture is None:
        workspace.mkdir(exist_ok=True)
    else:
        materialise(FIXTURES / fixture, workspace)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    values = {"steps.install.outputs.python": sys.executable}
    values.update({f"inputs.{name}": _evaluated(spec.get("default", "")) for name, spec in ACTION["inputs"].items()})
    values.update({f"inputs.{name.replace('_', '-')}": value for name, value in inputs.items()})
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output),
           "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(runner_temp), "GITHUB_ACTION_PATH": str(ROOT),
           "HF_HUB_OFFLINE": "1", "AUDITOR_GITHUB_API": "http://127.0.0.1:9", **(extra_env or {})}
    for name, expression in STEPS["audit"]["env"].items():
        env[name] = values[re.fullmatch(r"\$\{\{\s*(.+?)\s*\}\}", expression).group(1)]
    process = subprocess.run(["bash", "-e", "-c", STEPS["audit"]["run"]], cwd=workspace, env=env,
                             capture_output=True, text=True, timeout=120)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()) if output.exists() else {}
    return process, summary.read_text() if summary.exists() else "", outputs


def test_policy_failure_fails_the_step_after_summary_and_outputs(tmp_path):
    process, summary, outputs = run_audit_step(tmp_path, "relabelled", fail_on="licence-relabelled,not-open")
    assert process.returncode == 1, process.stderr
    assert outputs["verdict"] == "restricted-weights" and outputs["policy"] == "failed"
    assert summary.startswith("# Audit of") and "## Policy" in summary
    assert summary.rstrip().splitlines()[-1].startswith("- `fail-on licence-relabelled`")
    assert "::error title=audit-model policy::fail-on licence-relabelled" in process.stdout
    report = Path(outputs["report-path"])
    assert report.suffix == ".md" and report.read_text().startswith("# Audit of")
    log = json.loads(Path(outputs["sarif-path"]).read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    rules = [r["ruleId"] for r in log["runs"][0]["results"]]
    assert "licence-relabelled" in rules
    assert log["runs"][0]["properties"]["policy"]["passed"] is False


def test_passing_audit_with_json_report_and_no_sarif(tmp_path):
    process, summary, outputs = run_audit_step(tmp_path, "open-science", format="json", sarif="false", fail_on="not-open")
    assert process.returncode == 0, process.stderr
    assert outputs["policy"] == "passed" and outputs["sarif-path"] == ""
    data = json.loads(Path(outputs["report-path"]).read_text())
    assert data["schema"] == "auditor/1" and data["verdict"]["openness"] == outputs["verdict"]
    assert data["policy"]["passed"] is True
    assert "**Policy passed.**" in summary


def test_policy_from_the_repository_config(tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / ".auditor.toml").write_text('deny-licence = ["llama3.1"]\n')
    process, summary, outputs = run_audit_step(tmp_path, "relabelled")
    assert process.returncode == 1 and outputs["policy"] == "failed"
    assert ".auditor.toml" in summary


@pytest.mark.parametrize("inputs, fragment", [
    ({"fail_on": "closed"}, "unknown name 'closed'"),
    ({"format": "pdf"}, "'pdf' is not one of"),
    ({"scan_weights": "maybe"}, "input scan-weights: 'maybe' is neither true nor false"),
    ({"check_links": "perhaps"}, "input check-links: 'perhaps' is neither true nor false"),
    ({"deny_licence": "cc-by-nc-40"}, "did you mean 'cc-by-nc-4.0'"),
])
def test_bad_input_is_exit_2_with_a_summary_and_empty_outputs(tmp_path, inputs, fragment):
    process, summary, outputs = run_audit_step(tmp_path, "no-licence", **inputs)
    assert process.returncode == 2
    assert fragment in summary and fragment in process.stdout
    assert outputs == {"verdict": "", "policy": "", "report-path": "", "sarif-path": ""}


def test_sarif_paths_are_relative_to_the_repository_for_a_subdirectory_target(tmp_path):
    from auditor.action import _uri_prefix

    (tmp_path / "models" / "small").mkdir(parents=True)
    assert _uri_prefix(str(tmp_path / "models" / "small"), tmp_path) == "models/small"
    assert _uri_prefix(str(tmp_path), tmp_path) == ""
    assert _uri_prefix("org/name", tmp_path) == ""


def test_example_workflow_checks_out_without_lfs_and_uploads_the_sarif():
    workflow = yaml.safe_load((ROOT / "examples" / "workflows" / "audit-model.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["audit"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["lfs"] is False
    audit = next(s for s in steps if s.get("id") == "audit")
    assert set(audit["with"]) <= set(ACTION["inputs"])
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["sarif_file"] == "${{ steps.audit.outputs.sarif-path }}"
    assert workflow["permissions"]["security-events"] == "write"
    hub = yaml.safe_load((ROOT / "examples" / "workflows" / "audit-hub-model.yml").read_text(encoding="utf-8"))
    assert set(next(s for s in hub["jobs"]["audit"]["steps"] if s.get("id") == "audit")["with"]) <= set(ACTION["inputs"])


@pytest.mark.parametrize("name", ["audit-model.yml", "audit-hub-model.yml"])
def test_example_workflows_set_up_python_before_the_action(name):
    steps = yaml.safe_load((ROOT / "examples" / "workflows" / name).read_text(encoding="utf-8"))["jobs"]["audit"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    setup = next(i for i, use in enumerate(uses) if use.startswith("actions/setup-python"))
    assert setup < next(i for i, step in enumerate(steps) if step.get("id") == "audit")
    version = str(steps[setup]["with"]["python-version"])
    assert tuple(map(int, version.split(".")[:2])) >= (3, 11)


def test_an_empty_workspace_is_refused_with_a_hint(tmp_path):
    process, summary, outputs = run_audit_step(tmp_path, None)
    assert process.returncode == 3
    assert "did you forget actions/checkout?" in summary and "did you forget actions/checkout?" in process.stdout
    assert outputs["verdict"] == ""


def test_summary_is_titled_with_the_repository_and_sarif_leaves_info_out_unless_asked(tmp_path):
    process, summary, outputs = run_audit_step(tmp_path, "relabelled", extra_env={"GITHUB_REPOSITORY": "acme/chat-model"})
    assert process.returncode == 1, process.stderr  # the action's default policy refuses the relabelled card
    assert summary.startswith("# Audit of acme/chat-model")
    levels = {r["level"] for r in json.loads(Path(outputs["sarif-path"]).read_text())["runs"][0]["results"]}
    assert "note" not in levels and levels
    again = tmp_path / "again"
    again.mkdir()
    process, _, outputs = run_audit_step(again, "relabelled", sarif_info="true")
    levels = {r["level"] for r in json.loads(Path(outputs["sarif-path"]).read_text())["runs"][0]["results"]}
    assert "note" in levels


def test_the_job_token_reaches_the_github_look_ups(tmp_path):
    """A stand-in GitHub API records the Authorization header of the linked-code look-up."""
    import http.server
    import threading

    seen = []

    class Api(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # HF_HUB_OFFLINE=1 turns every look-up off, GitHub's too: here the Hub is a closed port instead
    api = {"AUDITOR_GITHUB_API": f"http://127.0.0.1:{server.server_port}", "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9"}
    try:
        process, _, _ = run_audit_step(tmp_path / "on", "open-science", extra_env=api)
        looked_up = list(seen)
        off, _, _ = run_audit_step(tmp_path / "off", "open-science", extra_env=api, check_links="false")
    finally:
        server.shutdown()
        server.server_close()
    assert process.returncode == 0 and off.returncode == 0, process.stderr + off.stderr
    assert looked_up and all(header and "ghs_job_token" in header for header in looked_up)
    assert seen == looked_up  # check-links: false looked nothing up
