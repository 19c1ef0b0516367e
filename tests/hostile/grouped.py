"""Many CLI cases run in one capped process, each with its own deadline, each judged on its own.

Starting the auditor costs more than a small hostile case does, so a group of cases shares one
`python` process (hostile.group_child) under the same address-space cap as `limits.run_cli`;
there each case runs through the real entry point with a per-case deadline, and its exit code,
stdout and stderr come back here. A case that ends its process (a crash, a hang the alarm could
not stop) fails alone: the cases after it run in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hostile.limits import DEADLINE, Outcome, _limits

CHILD = Path(__file__).with_name("group_child.py")


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]


class Group:
    """Each case's outcome, or why it has none (past its deadline, its process died)."""

    def __init__(self, outcomes: dict[str, Outcome], failures: dict[str, str]):
        self._outcomes = outcomes
        self._failures = failures

    def outcome(self, name: str) -> Outcome:
        """The case's outcome; a case that did not end by itself within its deadline fails here."""
        if name in self._failures:
            raise AssertionError(f"case {name}: {self._failures[name]}")
        if name not in self._outcomes:
            raise AssertionError(f"case {name} was not run")
        return self._outcomes[name]


def run_group(cases: Sequence[Case], env: dict[str, str] | None = None, cwd: Path | None = None,
              deadline: float = DEADLINE) -> Group:
    """Every case's `audit-model ARGS` in capped processes, one after another, each within `deadline`."""
    environment = {**os.environ, "HF_HUB_DISABLE_TELEMETRY": "1", **(env or {})}
    outcomes: dict[str, Outcome] = {}
    failures: dict[str, str] = {}
    remaining = list(cases)
    with tempfile.TemporaryDirectory(prefix="hostile-group-") as scratch:
        while remaining:
            cases_file, results_file = Path(scratch) / "cases.json", Path(scratch) / "results.jsonl"
            cases_file.write_text(json.dumps([{"name": c.name, "args": list(c.args)} for c in remaining]), encoding="utf-8")
            results_file.write_text("", encoding="utf-8")
            try:
                child = subprocess.run(
                    [sys.executable, str(CHILD), str(cases_file), str(results_file), str(deadline)],
                    capture_output=True, text=True, env=environment, cwd=cwd, stdin=subprocess.DEVNULL,
                    timeout=(deadline + 30) * len(remaining) + 60, preexec_fn=_limits, check=False,
                )
                died = f"its process ended with exit {child.returncode}: {child.stderr[-2000:]!r}"
            except subprocess.TimeoutExpired as expired:
                died = f"its process was past every deadline: {expired.stderr!r}"
            hard_stop = False
            for line in results_file.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:  # the last line, cut short as its process died
                    continue
                hard_stop = bool(record.get("hard"))
                if record.get("past_deadline"):
                    failures[record["name"]] = f"past the {deadline:g} s deadline"
                elif record.get("escaped"):
                    failures[record["name"]] = f"raised out of the CLI: {record['escaped']}\n{record['stderr'][-2000:]}"
                else:
                    outcomes[record["name"]] = Outcome(record["code"], record["stdout"], record["stderr"])
            remaining = [case for case in remaining if case.name not in outcomes and case.name not in failures]
            if remaining and not hard_stop:  # the process ended during the first case not reported
                failures[remaining.pop(0).name] = died
    return Group(outcomes, failures)
