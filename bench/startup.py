#!/usr/bin/env python3
"""Benchmark CLI start-up and one local audit, against ScanCode's CLI in the same run.

Targets: `audit-model --version` under 0.15 s (the CLI imports nothing heavy until a target
is audited) and a local audit of a shipped example under 0.4 s with the licence index in its
disk cache; the audit with an empty cache (index built) is shown beside it. The peer is
`scancode --version` from a separate environment (scancode-toolkit-mini 32.5.0, see
bench/licences.py for how to make it).

Usage: python bench/startup.py [--runs 10] [--scancode /tmp/bench-venv/bin/scancode]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "repos" / "llama-3.1-finetune"


TARGETS = {"audit-model --version": 0.15, "audit-model <local example>": 0.4}


def timed(command: list[str], runs: int, env: dict | None = None, before: Callable[[], None] | None = None) -> list[float]:
    seconds = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        seconds.append(time.perf_counter() - started)
    return seconds


def _emptied(folder: Path) -> Callable[[], None]:
    def empty() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    return empty


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--scancode", default="/tmp/bench-venv/bin/scancode")
    args = parser.parse_args()
    ours = [sys.executable, "-m", "auditor"]
    audit = [*ours, str(EXAMPLE), "--format", "json"]
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        # look-ups of linked repos refused at once, as offline: the figure is the auditor's own cost
        env = dict(os.environ, AUDITOR_CACHE_DIR=cache, HF_ENDPOINT="http://127.0.0.1:9", AUDITOR_GITHUB_API="http://127.0.0.1:9")
        rows = {
            "audit-model --version": timed([*ours, "--version"], args.runs, env),
            "audit-model <local example>, cold cache": timed(audit, max(3, args.runs // 3), env, before=_emptied(Path(cache))),
        }
        timed(audit, 1, env)  # fills the cache
        rows["audit-model <local example>"] = timed(audit, args.runs, env)
        rows["audit-model <local example> --no-check-links"] = timed([*audit, "--no-check-links"], args.runs, env)
    scancode = shutil.which(args.scancode) or (args.scancode if Path(args.scancode).exists() else None)
    if scancode:
        rows["scancode --version"] = timed([scancode, "--version"], max(3, args.runs // 3))
    print(f"{'command':40} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, seconds in rows.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f"  target {target} s: {'met' if statistics.median(seconds) < target else 'MISSED'}"
        print(f"{name:40} {statistics.median(seconds):9.3f} {min(seconds):7.3f} {max(seconds):7.3f}{verdict}")
    if scancode:
        ratio = statistics.median(rows["scancode --version"]) / statistics.median(rows["audit-model --version"])
        print(f"\nstart-up: audit-model is {ratio:.0f}x faster than scancode")
    else:
        print("\nscancode not found: peer not measured")


if __name__ == "__main__":
    main()
