"""The CLI run as a subprocess with a deadline and an address-space cap, for hostile cases.

The deadline is a safety net (a hang fails the case instead of the suite), never a timing
assertion; the memory cap turns an unbounded parse into a failure of the case."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DEADLINE = 120.0  # seconds: far above any case's real cost, so only a hang reaches it
MEMORY_CAP = 2 << 30  # bytes of address space: a YAML bomb or a whole 1 GiB file would pass it


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, deadline: float = DEADLINE) -> Outcome:
    """`python -m auditor ARGS` under the limits; a case past the deadline fails with what it printed."""
    environment = {**os.environ, "HF_HUB_DISABLE_TELEMETRY": "1", **(env or {})}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "auditor", *args], capture_output=True, text=True, env=environment, cwd=cwd,
            timeout=deadline, preexec_fn=_limits, check=False,
        )
    except subprocess.TimeoutExpired as expired:
        raise AssertionError(f"past the {deadline:g} s safety deadline: {args}\n{expired.stderr!r}") from None
    return Outcome(done.returncode, done.stdout, done.stderr)


def tree_state(*roots: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry under `roots` (links not followed) with its type, size and modification time."""
    state: dict[str, tuple[int, int, int]] = {}
    for root in roots:
        for base, dirs, names in os.walk(root):
            for name in (*dirs, *names):
                info = os.lstat(os.path.join(base, name))
                state[os.path.join(base, name)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return state


def assert_clean(outcome: Outcome, code: int, *secrets: str) -> None:
    """The stated exit code, no traceback, no internal error, no secret anywhere in what was printed."""
    printed = outcome.stdout + outcome.stderr
    assert outcome.code == code, f"exit {outcome.code}, expected {code}\n{outcome.stderr[-2000:]}"
    assert "Traceback" not in printed and "internal error" not in printed.lower(), printed[-2000:]
    for secret in secrets:
        assert secret not in printed, f"{secret!r} was printed"
