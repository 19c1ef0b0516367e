#!/usr/bin/env python3
"""Benchmark CLI start-up and one local audit, against ScanCode's CLI in the same run.

`audit-model --version` must start in under 0.5 s: the CLI imports nothing heavy until a
target is audited. The peer is `scancode --version` from a separate environment
(scancode-toolkit-mini 32.5.0, see bench/licences.py for how to make it).

Usage: python bench/startup.py [--runs 10] [--scancode /tmp/bench-venv/bin/scancode]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "repos" / "llama-3.1-finetune"


def timed(command: list[str], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--scancode", default="/tmp/bench-venv/bin/scancode")
    args = parser.parse_args()
    ours = [sys.executable, "-m", "auditor"]
    rows = {
        "audit-model --version": timed([*ours, "--version"], args.runs),
        "audit-model <local example>": timed([*ours, str(EXAMPLE), "--format", "json"], args.runs),
    }
    scancode = shutil.which(args.scancode) or (args.scancode if Path(args.scancode).exists() else None)
    if scancode:
        rows["scancode --version"] = timed([scancode, "--version"], max(3, args.runs // 3))
    print(f"{'command':32} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, seconds in rows.items():
        print(f"{name:32} {statistics.median(seconds):9.3f} {min(seconds):7.3f} {max(seconds):7.3f}")
    if scancode:
        ratio = statistics.median(rows["scancode --version"]) / statistics.median(rows["audit-model --version"])
        print(f"\nstart-up: audit-model is {ratio:.0f}x faster than scancode")
    else:
        print("\nscancode not found: peer not measured")


if __name__ == "__main__":
    main()
