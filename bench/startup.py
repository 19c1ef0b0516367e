#!/usr/bin/env python3
"""Benchmark one audit of a licence file, start-up included, against peers doing the same job.

Every tool is given the same licence file (by default the Apache 2.0 text) and asked what
licence it is, from a cold process, as a user would run it:
  ours       `audit-model DIR --format json --no-check-links`, DIR holding only that file as
             LICENSE (the licence index in its disk cache; a cold-cache row beside it);
  askalono   `python -c "askalono.identify(text)"` from a peer environment with pyaskalono;
  scancode   `scancode --license --json OUT FILE` (scancode-toolkit-mini, its index built).
A peer that is not installed is said to be missing, and no ratio is printed for it. Make the
peer environment with:
    python -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install pyaskalono scancode-toolkit-mini==32.5.0 "pluggy<1.6"
Also printed: `audit-model --version` (our start-up alone; target under 0.15 s).

Usage: python bench/startup.py [--runs 10] [--file licences/texts/apache-2.0.txt] [--peer-venv DIR]
(--peer-venv defaults to $AUDITOR_BENCH_PEERS, else /tmp/bench-venv.)
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
ASKALONO = "import sys, askalono; print(askalono.identify(open(sys.argv[1], encoding='utf-8').read()).name)"


def timed(command: list[str], runs: int, env: dict | None = None, before: Callable[[], None] | None = None) -> tuple[list[float], str]:
    seconds, output = [], ""
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
        seconds.append(time.perf_counter() - started)
        output = proc.stdout
    return seconds, output


def _emptied(folder: Path) -> Callable[[], None]:
    def empty() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    return empty


def _our_answer(output: str) -> str:
    import json

    report = json.loads(output)
    return ", ".join(sorted({m["spdx"] or m["id"] for m in report["licences"] if not m["source"].startswith("card")})) or "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--file", type=Path, default=ROOT / "licences" / "texts" / "apache-2.0.txt")
    parser.add_argument("--peer-venv", type=Path, default=Path(os.environ.get("AUDITOR_BENCH_PEERS", "/tmp/bench-venv")))
    args = parser.parse_args()
    rows: dict[str, tuple[list[float], str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        work = Path(scratch)
        target = work / "release"
        target.mkdir()
        shutil.copyfile(args.file, target / "LICENSE")
        cache = work / "cache"
        cache.mkdir()
        # look-ups refused at once, as offline: the figure is the auditor's own cost
        env = dict(os.environ, AUDITOR_CACHE_DIR=str(cache), HF_ENDPOINT="http://127.0.0.1:9", AUDITOR_GITHUB_API="http://127.0.0.1:9")
        ours = [sys.executable, "-m", "auditor"]
        audit = [*ours, str(target), "--format", "json", "--no-check-links"]
        seconds, out = timed(audit, max(3, args.runs // 3), env, before=_emptied(cache))
        rows["audit-model, cold cache"] = (seconds, _our_answer(out))
        seconds, out = timed(audit, args.runs, env)
        rows["audit-model"] = (seconds, _our_answer(out))
        rows["audit-model --version"] = (timed([*ours, "--version"], args.runs, env)[0], "")
        python = args.peer_venv / "bin" / "python"
        missing = []
        if python.exists() and subprocess.run([python, "-c", "import askalono"], capture_output=True).returncode == 0:
            seconds, out = timed([str(python), "-c", ASKALONO, str(args.file)], args.runs)
            rows["askalono (pyaskalono)"] = (seconds, out.strip())
        else:
            missing.append(f"askalono (no pyaskalono in {args.peer_venv})")
        scancode = args.peer_venv / "bin" / "scancode"
        if scancode.exists():
            seconds, _ = timed([str(scancode), "--license", "--quiet", "--json", str(work / "scancode.json"), str(args.file)],
                               max(3, args.runs // 3))
            rows["scancode --license"] = (seconds, "(see its JSON)")
        else:
            missing.append(f"scancode (not in {args.peer_venv})")
    print(f"one audit of {args.file.name}, from a cold process, {args.runs} runs; {os.cpu_count()} cores shared with other work\n")
    print(f"{'tool':32} {'median s':>9} {'min s':>7} {'max s':>7}  answer")
    for name, (seconds, answer) in rows.items():
        print(f"{name:32} {statistics.median(seconds):9.3f} {min(seconds):7.3f} {max(seconds):7.3f}  {answer}")
    ours_median = statistics.median(rows["audit-model"][0])
    for peer in ("askalono (pyaskalono)", "scancode --license"):
        if peer in rows:
            print(f"\n{peer} / audit-model: {statistics.median(rows[peer][0]) / ours_median:.2f}x the time of ours (median)")
    for peer in missing:
        print(f"\npeer not measured: {peer}")
    version = statistics.median(rows["audit-model --version"][0])
    print(f"\naudit-model --version: {version:.3f} s (target 0.15 s: {'met' if version < 0.15 else 'MISSED'})")


if __name__ == "__main__":
    main()
