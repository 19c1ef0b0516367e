"""The GitHub Action's entry point (`python -m auditor.action`), run by action.yml.

Every input arrives as an environment variable (INPUT_TARGET, INPUT_REVISION, INPUT_FORMAT,
INPUT_FAIL_ON, INPUT_ALLOW_LICENCE, INPUT_DENY_LICENCE, INPUT_TOKEN, INPUT_SARIF), never as
shell text, so no input can inject a command. One audit feeds everything: the markdown
report goes to $GITHUB_STEP_SUMMARY, the report in the chosen format and the SARIF log go
under $RUNNER_TEMP/audit-model/, and `verdict`, `policy`, `report-path` and `sarif-path`
go to $GITHUB_OUTPUT. Only then does the step exit, with the CLI's exit code, so a failed
policy (1) fails the step while its summary and outputs are already there.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Mapping

from auditor.cli import EXIT_INTERNAL, Batch, audit_targets
from auditor.errors import AuditorError, UsageError
from auditor.judge.policy import Policy, check_fail_on, split_names

FORMATS = {"markdown": "md", "json": "json", "sarif": "sarif", "cyclonedx": "cdx.json"}
# GitHub refuses step summaries over 1 MiB; keep well below it.
SUMMARY_LIMIT = 900_000


def _input(env: Mapping[str, str], name: str) -> str:
    return (env.get(f"INPUT_{name}") or "").strip()


def _escape(text: str) -> str:
    """Workflow-command data: '%', CR and LF would otherwise end or corrupt the command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def write_outputs(path: str | None, outputs: Mapping[str, str]) -> None:
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
    if not path:
        sys.stdout.write(text)
        return
    if len(text.encode("utf-8")) > SUMMARY_LIMIT:
        text = text.encode("utf-8")[:SUMMARY_LIMIT].decode("utf-8", "ignore") + "\n\n*(summary truncated; see the report file)*\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text.rstrip("\n") + "\n")


def _uri_prefix(target: str, workspace: Path) -> str:
    """Where a local target sits in the checked-out repository, so SARIF paths resolve there."""
    path = Path(target)
    if not path.is_dir():
        return ""
    try:
        relative = path.resolve().relative_to(workspace.resolve())
    except ValueError:
        return ""
    return relative.as_posix() if str(relative) != "." else ""


def _flags(env: Mapping[str, str]) -> Policy | None:
    fail_on = check_fail_on(_input(env, "FAIL_ON"), where="input fail-on")
    allow, deny = split_names(_input(env, "ALLOW_LICENCE")), split_names(_input(env, "DENY_LICENCE"))
    return Policy(fail_on=fail_on, allow=allow, deny=deny) if (fail_on or allow or deny) else None


def _write_reports(batch: Batch, output_format: str, out_dir: Path, want_sarif: bool, prefix: str) -> dict[str, str]:
    from auditor.report.sarif import SarifRenderer

    outputs = {"report-path": "", "sarif-path": ""}
    sarif = SarifRenderer(uri_prefix=prefix)
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
    workspace = Path(env.get("GITHUB_WORKSPACE") or ".")
    target = _input(env, "TARGET") or str(workspace)
    out_dir = Path(env.get("RUNNER_TEMP") or tempfile.gettempdir()) / "audit-model"
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {"verdict": "", "policy": "", "report-path": "", "sarif-path": ""}
    try:
        output_format = _input(env, "FORMAT").lower() or "markdown"
        if output_format not in FORMATS:
            raise UsageError(f"input format: '{output_format}' is not one of {', '.join(FORMATS)}")
        flags = _flags(env)
        scan = {"true": True, "yes": True, "false": False, "no": False}.get(_input(env, "SCAN_WEIGHTS").lower())
        batch = audit_targets([target], _input(env, "REVISION") or None, _input(env, "TOKEN") or None, "builtin", flags, scan)
        if batch.results:
            result, outcome = batch.results[0], batch.outcomes[0]
            outputs["verdict"] = result.verdict.openness.value
            outputs["policy"] = "" if outcome is None else ("passed" if outcome.passed else "failed")
            write_summary(env.get("GITHUB_STEP_SUMMARY"), batch.render("markdown"))
            want_sarif = _input(env, "SARIF").lower() not in ("false", "no", "0", "off")
            outputs.update(_write_reports(batch, output_format, out_dir, want_sarif, _uri_prefix(target, workspace)))
            for failure in (outcome.failures if outcome else ()):
                print(f"::error title=audit-model policy::{_escape(f'{failure.rule}: {failure.message}')}")
            print(f"audit-model: {result.target.label}: {outputs['verdict']}; report at {outputs['report-path']}")
        else:
            target_label, message = batch.failures[0]
            write_summary(env.get("GITHUB_STEP_SUMMARY"), f"# Audit of {target_label}\n\nNot audited: {message}\n")
            print(f"::error title=audit-model::{_escape(f'{target_label}: {message}')}")
        code = batch.exit_code
    except AuditorError as error:
        write_summary(env.get("GITHUB_STEP_SUMMARY"), f"# Audit of {target}\n\nNot audited: {error}\n")
        print(f"::error title=audit-model::{_escape(str(error))}")
        code = error.exit_code
    except Exception as error:  # noqa: BLE001 - a bug still leaves a summary and outputs behind
        if env.get("AUDITOR_DEBUG"):
            raise
        write_summary(env.get("GITHUB_STEP_SUMMARY"), f"# Audit of {target}\n\nInternal error: {type(error).__name__}: {error}\n")
        print(f"::error title=audit-model::{_escape(f'internal error: {type(error).__name__}: {error}')}")
        code = EXIT_INTERNAL
    write_outputs(env.get("GITHUB_OUTPUT"), outputs)
    return code


def main() -> None:
    sys.exit(run(os.environ))


if __name__ == "__main__":
    main()
