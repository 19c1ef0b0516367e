"""The GitHub Action's entry point (`python -m auditor.action`), run by action.yml.

Every input arrives as an environment variable (INPUT_TARGET, INPUT_REVISION, INPUT_FORMAT,
INPUT_FAIL_ON, INPUT_ALLOW_LICENCE, INPUT_DENY_LICENCE, INPUT_TOKEN, INPUT_SARIF,
INPUT_SARIF_INFO, INPUT_SCAN_WEIGHTS, INPUT_CHECK_LINKS, INPUT_GITHUB_TOKEN), never as shell
text, so no input can inject a command. One audit feeds everything: the markdown report goes
to $GITHUB_STEP_SUMMARY (titled with $GITHUB_REPOSITORY when the checked-out repository is
audited), the report in the chosen format and the SARIF log go under
$RUNNER_TEMP/audit-model/, and `verdict`, `policy`, `report-path` and `sarif-path` go to
$GITHUB_OUTPUT. Only then does the step exit, with the CLI's exit code, so a failed policy
(1) fails the step while its summary and outputs are already there. The policy may come from
the audited repository's own file: here the publisher audits their own repository.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import overload

from auditor.cli import EXIT_INTERNAL, Batch, PolicyFiles, RunSettings, audit_targets
from auditor.errors import AuditorError, NotFound, UsageError
from auditor.judge.policy import Policy, check_fail_on, flag_policy
from auditor.report import OutputFormat
from auditor.report.escape import markdown_text, terminal

# format name -> suffix of the report file, from the one format registry
FORMATS = {member.value: member.file_suffix for member in OutputFormat}
_BOOLEANS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
# The policy when neither the inputs nor the repository's policy file give one: a publisher's
# release must not relabel its licence, drop its base model's, or ship a file unsafe to load.
DEFAULT_POLICY = Policy(fail_on=("licence-relabelled", "licence-incompatible-with-base", "unsafe-to-load"),
                        origin="the action's default policy")
# GitHub refuses step summaries over 1 MiB; keep well below it.
SUMMARY_LIMIT = 900_000


def _input(env: Mapping[str, str], name: str) -> str:
    return (env.get(f"INPUT_{name}") or "").strip()


def _escape(text: str) -> str:
    """Workflow-command data: '%', CR and LF would otherwise end or corrupt the command, and
    escape sequences from a repository's file names would reach the log."""
    return terminal(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def write_outputs(path: str | None, outputs: Mapping[str, str]) -> None:
    """Append `outputs` to the GitHub Actions output file as name=value lines (nothing without a file)."""
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            if "\n" in value:  # multi-line values need the delimiter form
                delimiter = f"ghadelimiter_{uuid.uuid4()}"
                handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                handle.write(f"{name}={value}\n")


def write_summary(path: str | None, text: str) -> None:
    """Append the report to the job summary file (nothing without a file)."""
    if not path:
        sys.stdout.write(text)
        return
    if len(text.encode("utf-8")) > SUMMARY_LIMIT:
        text = text.encode("utf-8")[:SUMMARY_LIMIT].decode("utf-8", "ignore") + "\n\n*(summary truncated; see the report file)*\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text.rstrip("\n") + "\n")


def _in_workspace(target: str, workspace: Path) -> str | None:
    """Where a local target sits in the checked-out repository ("" at its root); None outside it."""
    path = Path(target)
    if not path.is_dir():
        return None
    try:
        relative = path.resolve().relative_to(workspace.resolve())
    except ValueError:
        return None
    return relative.as_posix() if str(relative) != "." else ""


def _uri_prefix(target: str, workspace: Path) -> str:
    """Where a local target sits in the checked-out repository, so SARIF paths resolve there."""
    return _in_workspace(target, workspace) or ""


@overload
def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool: ...
@overload
def _boolean(env: Mapping[str, str], name: str, default: None) -> bool | None: ...
def _boolean(env: Mapping[str, str], name: str, default: bool | None) -> bool | None:
    """A true/false input; empty gives `default`, anything else is a usage error."""
    value = _input(env, name).lower()
    if not value:
        return default
    if value not in _BOOLEANS:
        raise UsageError(f"input {name.lower().replace('_', '-')}: '{value}' is neither true nor false")
    return _BOOLEANS[value]


def _format(env: Mapping[str, str]) -> OutputFormat:
    try:
        return OutputFormat.named(_input(env, "FORMAT") or "markdown")
    except ValueError as error:
        raise UsageError(f"input format: {error}") from error


def _flags(env: Mapping[str, str]) -> Policy | None:
    fail_on = check_fail_on(_input(env, "FAIL_ON"), where="input fail-on")
    return flag_policy(fail_on, _input(env, "ALLOW_LICENCE"), _input(env, "DENY_LICENCE"), where="input {}")


def _workspace_target(env: Mapping[str, str], workspace: Path) -> str:
    """The target input, else the checked-out repository, which must hold something."""
    target = _input(env, "TARGET")
    if target:
        return target
    if not workspace.is_dir() or not any(workspace.iterdir()):
        raise NotFound(f"the workspace {workspace} is empty: did you forget actions/checkout?")
    return str(workspace)


def _titled(markdown: str, label: str, title: str | None) -> str:
    """The report headed with `title` (the repository's name) instead of the runner's path."""
    heading = f"# Audit of {markdown_text(label)}"
    if not title or not markdown.startswith(heading):
        return markdown
    return f"# Audit of {markdown_text(title)}" + markdown[len(heading):]


def _write_reports(batch: Batch, output_format: str, out_dir: Path, want_sarif: bool, prefix: str,
                   sarif_info: bool = False) -> dict[str, str]:
    from auditor.report.sarif import SarifRenderer

    outputs = {"report-path": "", "sarif-path": ""}
    sarif = SarifRenderer(uri_prefix=prefix, include_info=sarif_info)
    report_path = out_dir / f"report.{FORMATS[output_format]}"
    renderer = sarif if output_format == "sarif" else None
    report_path.write_text(batch.render(output_format, renderer), encoding="utf-8")
    outputs["report-path"] = str(report_path)
    if want_sarif:
        sarif_path = report_path if output_format == "sarif" else out_dir / "results.sarif"
        if sarif_path != report_path:
            sarif_path.write_text(batch.render("sarif", sarif), encoding="utf-8")
        outputs["sarif-path"] = str(sarif_path)
    return outputs


def run(env: Mapping[str, str]) -> int:
    """The whole step; returns the exit code after the summary and outputs are written."""
    from auditor import logs

    logs.configure()
    workspace = Path(env.get("GITHUB_WORKSPACE") or ".")
    target = _input(env, "TARGET") or str(workspace)
    out_dir = Path(env.get("RUNNER_TEMP") or tempfile.gettempdir()) / "audit-model"
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {"verdict": "", "policy": "", "report-path": "", "sarif-path": ""}
    try:
        output_format = _format(env).value
        scan, check_links = _boolean(env, "SCAN_WEIGHTS", None), _boolean(env, "CHECK_LINKS", True)
        want_sarif, sarif_info = _boolean(env, "SARIF", True), _boolean(env, "SARIF_INFO", False)
        flags = _flags(env)
        target = _workspace_target(env, workspace)
        if _input(env, "GITHUB_TOKEN"):  # the CLI's GitHub look-ups of linked code read it from the environment
            os.environ["GITHUB_TOKEN"] = _input(env, "GITHUB_TOKEN")
        batch = audit_targets([target], RunSettings(
            revision=_input(env, "REVISION") or None, token=_input(env, "TOKEN") or None, flags=flags, scan_weights=scan,
            check_links=check_links, config=PolicyFiles(from_target=True), default_policy=DEFAULT_POLICY))
        if batch.results:
            result, outcome = batch.results[0], batch.outcomes[0]
            outputs["verdict"] = result.verdict.openness.value
            outputs["policy"] = "" if outcome is None else ("passed" if outcome.passed else "failed")
            title = _repository_title(env, target, workspace)
            write_summary(env.get("GITHUB_STEP_SUMMARY"), _titled(batch.render("markdown"), result.target.label, title))
            outputs.update(_write_reports(batch, output_format, out_dir, want_sarif, _uri_prefix(target, workspace), sarif_info))
            for failure in (outcome.failures if outcome else ()):
                print(f"::error title=audit-model policy::{_escape(f'{failure.rule}: {failure.message}')}")
            print(f"audit-model: {result.target.label}: {outputs['verdict']}; report at {outputs['report-path']}")
        else:
            target_label, message = batch.failures[0]
            write_summary(env.get("GITHUB_STEP_SUMMARY"), f"# Audit of {markdown_text(target_label)}\n\nNot audited: {markdown_text(message)}\n")
            print(f"::error title=audit-model::{_escape(f'{target_label}: {message}')}")
        code = batch.exit_code
    except AuditorError as error:
        write_summary(env.get("GITHUB_STEP_SUMMARY"), f"# Audit of {markdown_text(target)}\n\nNot audited: {markdown_text(error)}\n")
        print(f"::error title=audit-model::{_escape(str(error))}")
        code = error.exit_code
    except Exception as error:  # noqa: BLE001 - a bug still leaves a summary and outputs behind
        if env.get("AUDITOR_DEBUG"):
            raise
        write_summary(env.get("GITHUB_STEP_SUMMARY"), f"# Audit of {markdown_text(target)}\n\nInternal error: {type(error).__name__}: {markdown_text(error)}\n")
        print(f"::error title=audit-model::{_escape(f'internal error: {type(error).__name__}: {error}')}")
        code = EXIT_INTERNAL
    write_outputs(env.get("GITHUB_OUTPUT"), outputs)
    return code


def _repository_title(env: Mapping[str, str], target: str, workspace: Path) -> str | None:
    """"org/repo" (or "org/repo/sub/dir") when the target is inside the checked-out repository."""
    repository = env.get("GITHUB_REPOSITORY")
    relative = _in_workspace(target, workspace)
    if not repository or relative is None:
        return None
    return f"{repository}/{relative}" if relative else repository


def main() -> None:
    """The Action's entry point: inputs from the environment, outputs and reports for the workflow."""
    sys.exit(run(os.environ))


if __name__ == "__main__":
    main()
