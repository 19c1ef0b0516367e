"""Runs many CLI cases in one process, each through the real entry point (`auditor.cli.main`, as
`python -m auditor` does) with its own deadline; started by `hostile.grouped` under the memory cap.

argv: CASES RESULTS DEADLINE. CASES is a JSON list of {"name", "args"}; for each case one JSON
line is appended to RESULTS, as soon as it ends: its exit code, and what it wrote to file
descriptors 1 and 2 (captured below Python, so nothing printed escapes). A case past its deadline
is interrupted by SIGALRM; one that cannot be interrupted ends this process (the parent then
fails that case and runs the rest in a new process)."""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any


class PastDeadline(BaseException):
    """Raised into a case by its alarm: a BaseException, so no `except Exception` of the CLI keeps it."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise PastDeadline


def _captured(run: Callable[[], int]) -> tuple[int, str, str, str | None]:
    """`run()`'s exit code and what went to fds 1 and 2 meanwhile; an escaped BaseException is named."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        escaped = None
        try:
            code = run()
        except BaseException as error:  # noqa: BLE001 - reported to the parent, which fails the case
            code, escaped = -1, f"{type(error).__name__}: {error}"
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        out.seek(0)
        err.seek(0)
        return code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), escaped


def _cli(args: list[str]) -> Callable[[], int]:
    def run() -> int:
        from auditor.cli import main

        sys.argv = ["audit-model", *args]
        try:
            main()
        except SystemExit as done:
            return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        return 0

    return run


def main() -> None:
    cases_file, results_file, deadline = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with open(cases_file, encoding="utf-8") as handle:
        cases = json.load(handle)
    signal.signal(signal.SIGALRM, _on_alarm)
    with open(results_file, "a", encoding="utf-8") as results:
        for case in cases:
            def hard_stop(name: str = case["name"]) -> None:  # the alarm did not end the case: end the process
                results.write(json.dumps({"name": name, "past_deadline": True, "hard": True}) + "\n")
                results.flush()
                os._exit(99)

            watchdog = threading.Timer(deadline + 15, hard_stop)
            watchdog.daemon = True
            watchdog.start()
            started = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, deadline)
            try:
                code, stdout, stderr, escaped = _captured(_cli(case["args"]))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                watchdog.cancel()
            past = escaped == "PastDeadline: " or time.monotonic() - started > deadline
            results.write(json.dumps({"name": case["name"], "code": code, "stdout": stdout, "stderr": stderr,
                                      "escaped": escaped, "past_deadline": past}) + "\n")
            results.flush()


if __name__ == "__main__":
    main()
