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
Also printed: `audit-model --version` (our start-up alone; target under 0.15 s). The tools run
in turns (ours, askalono, ScanCode, ours again...), so a change of load on a shared machine
falls on each alike; wall and CPU seconds are given, and the ratios of ours to each peer.

Usage: python bench/startup.py [--runs 10] [--file licences/texts/apache-2.0.txt] [--peer-venv DIR]
(--peer-venv defaults to $AUDITOR_BENCH_PEERS, else /tmp/bench-venv.)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASKALONO = "import sys, askalono; print(askalono.identify(open(sys.argv[1], encoding='utf-8').read()).name)"


@dataclass
class Tool:
    """One command timed: its wall-clock and CPU seconds per run (CPU: the child's user + system
    time, which other work on a shared machine disturbs far less), and its last answer."""

    name: str
    command: list[str]
    runs: int
    env: dict | None = None
    before: Callable[[], None] | None = None
    answer: Callable[[str], str] = str.strip
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    output: str = ""

    def run_once(self) -> None:
        if self.before is not None:
            self.before()
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(self.command, capture_output=True, text=True, check=True, env=self.env)
        self.wall.append(time.perf_counter() - started)
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu.append(now.ru_utime - used.ru_utime + now.ru_stime - used.ru_stime)
        self.output = proc.stdout


def run_interleaved(tools: list[Tool]) -> None:
    """Each tool's runs taken in turns with the others', so a change of load on the machine falls on every tool alike."""
    for round_ in range(max(tool.runs for tool in tools)):
        for tool in tools:
            if round_ < tool.runs:
                tool.run_once()


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
    tools: list[Tool] = []
    missing = []
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        work = Path(scratch)
        target = work / "release"
        target.mkdir()
        shutil.copyfile(args.file, target / "LICENSE")
        cache, cold = work / "cache", work / "cold-cache"
        cache.mkdir()
        # look-ups refused at once, as offline: the figure is the auditor's own cost
        env = dict(os.environ, AUDITOR_CACHE_DIR=str(cache), HF_ENDPOINT="http://127.0.0.1:9", AUDITOR_GITHUB_API="http://127.0.0.1:9")
        ours = [sys.executable, "-m", "auditor"]
        audit = [*ours, str(target), "--format", "json", "--no-check-links"]
        subprocess.run(audit, capture_output=True, env=env)  # the licence index built once, as after any first run
        tools.append(Tool("audit-model", audit, args.runs, env, answer=_our_answer))
        python = args.peer_venv / "bin" / "python"
        if python.exists() and subprocess.run([python, "-c", "import askalono"], capture_output=True).returncode == 0:
            tools.append(Tool("askalono (pyaskalono)", [str(python), "-c", ASKALONO, str(args.file)], args.runs))
        else:
            missing.append(f"askalono (no pyaskalono in {args.peer_venv})")
        scancode = args.peer_venv / "bin" / "scancode"
        if scancode.exists():
            tools.append(Tool("scancode --license", [str(scancode), "--license", "--quiet", "--json", str(work / "scancode.json"),
                                                     str(args.file)], max(3, args.runs // 3), answer=lambda _: "(see its JSON)"))
        else:
            missing.append(f"scancode (not in {args.peer_venv})")
        tools.append(Tool("audit-model, cold cache", audit, max(3, args.runs // 3), dict(env, AUDITOR_CACHE_DIR=str(cold)),
                          before=_emptied(cold), answer=_our_answer))
        tools.append(Tool("audit-model --version", [*ours, "--version"], args.runs, env, answer=lambda _: ""))
        run_interleaved(tools)
    print(f"one audit of {args.file.name}, from a cold process, {args.runs} runs taken in turns; "
          f"{os.cpu_count()} cores shared with other work\n")
    print(f"{'tool':26} {'wall median':>11} {'min':>6} {'max':>6} {'CPU median':>10} {'min':>6}  answer")
    for tool in tools:
        print(f"{tool.name:26} {statistics.median(tool.wall):11.3f} {min(tool.wall):6.3f} {max(tool.wall):6.3f} "
              f"{statistics.median(tool.cpu):10.3f} {min(tool.cpu):6.3f}  {tool.answer(tool.output)}")
    ours_tool = tools[0]
    print()
    for peer in tools[1:]:
        if peer.name.startswith("audit-model"):
            continue
        wall = statistics.median(ours_tool.wall) / statistics.median(peer.wall)
        cpu = statistics.median(ours_tool.cpu) / statistics.median(peer.cpu)
        print(f"audit-model / {peer.name}: {wall:.2f}x its wall time, {cpu:.2f}x its CPU time (medians)")
    for peer_name in missing:
        print(f"peer not measured: {peer_name}")
    version = statistics.median(tools[-1].wall)
    print(f"\naudit-model --version: {version:.3f} s (target 0.15 s: {'met' if version < 0.15 else 'MISSED'})")


if __name__ == "__main__":
    main()
