"""The peer scanners, each run in its own environment (never this project's) on files we wrote.

`scan_peer(python, tool, paths)` starts one worker process per tool (`python -c WORKER tool
paths...`), which scans each file and prints one JSON line: whether the tool raised it at its
error level, at any alarm level, the seconds its own scan took (start-up excluded), and a
short detail. Levels: picklescan a dangerous global or a scan error (alarm: suspicious too);
fickling LIKELY_UNSAFE or above (alarm: above LIKELY_SAFE); modelaudit a CRITICAL issue
(alarm: WARNING); modelscan a CRITICAL, HIGH or MEDIUM issue (its Keras Lambda level; alarm:
any issue). Each tool may have a python of its own (modelscan's numpy scanner needs numpy 1.x,
modelaudit numpy 2.x). A peer that is not
installed gives None; a worker that dies leaves its remaining files "not scanned", never clean.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

PEERS = ("picklescan", "fickling", "modelaudit", "modelscan")

WORKER = r"""
import json, os, sys, time, logging
logging.disable(logging.CRITICAL)
tool, files = sys.argv[1], sys.argv[2:]
if tool == "picklescan":
    from picklescan.scanner import scan_file_path
    def scan(path):
        r = scan_file_path(path)
        return r.infected_files > 0 or r.scan_err, r.infected_files > 0 or r.scan_err or r.suspicious_count > 0, [f"{g.module}.{g.name}" for g in r.globals][:4]
elif tool == "fickling":
    import fickling
    from fickling.analysis import Severity
    def scan(path):
        r = fickling.scan_file(path, graceful=True)
        level = r.severity.value[0] if hasattr(r.severity, "value") else 0
        errors = len(r.errors) if isinstance(r.errors, (list, tuple)) else int(r.errors or 0)
        return level >= Severity.LIKELY_UNSAFE.value[0], level > 0 or errors > 0, [str(r.severity)]
elif tool == "modelaudit":
    from modelaudit.core import scan_model_directory_or_file
    def scan(path):
        r = scan_model_directory_or_file(path)
        levels = [str(getattr(i.severity, "value", i.severity)).lower() for i in r.issues]
        return "critical" in levels, "critical" in levels or "warning" in levels, [i.message[:60] for i in r.issues if str(getattr(i.severity, "value", "")).lower() in ("critical", "warning")][:2]
elif tool == "modelscan":
    from modelscan.modelscan import ModelScan
    def scan(path):
        r = ModelScan().scan(path)
        levels = [str(i.get("severity", "")).upper() for i in r.get("issues", [])]
        return bool({"CRITICAL", "HIGH", "MEDIUM"} & set(levels)), bool(levels), [str(i.get("operator", i.get("description", "")))[:60] for i in r.get("issues", [])][:2] or [str(e)[:60] for e in r.get("errors", [])][:1]
for path in files:
    start = time.perf_counter()
    try:
        error, alarm, detail = scan(path)
    except BaseException as exc:  # a crash is reported, not counted as a detection
        error, alarm, detail = False, False, [f"crashed: {type(exc).__name__}: {str(exc)[:60]}"]
    print(json.dumps({"file": path, "error": bool(error), "alarm": bool(alarm), "seconds": time.perf_counter() - start, "detail": detail}), flush=True)
"""
_MODULES = {"picklescan": "picklescan", "fickling": "fickling", "modelaudit": "modelaudit", "modelscan": "modelscan"}


def peer_env() -> dict[str, str]:
    """The environment for peer processes: no telemetry during a benchmark."""
    return {**os.environ, "PROMPTFOO_DISABLE_TELEMETRY": "1", "NO_ANALYTICS": "1", "DO_NOT_TRACK": "1"}


def peer_installed(python: str, tool: str) -> bool:
    """Whether the peers' python can import the tool."""
    if not Path(python).exists():
        return False
    return subprocess.run([python, "-c", f"import {_MODULES[tool]}"], capture_output=True, env=peer_env()).returncode == 0


def scan_peer(python: str, tool: str, paths: list[Path], cwd: Path) -> dict[Path, dict] | None:
    """One worker scanning every path with one peer; results by path, None when the peer is not installed."""
    if not peer_installed(python, tool):
        return None
    run = subprocess.run([python, "-c", WORKER, tool, *map(str, paths)], capture_output=True, text=True, env=peer_env(), cwd=cwd)
    results = {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            results[Path(row["file"])] = row
    for path in paths:
        results.setdefault(path, {"error": False, "alarm": False, "seconds": 0.0, "detail": ["not scanned: the worker stopped"]})
    return results


def print_outcomes(tools: dict[str, dict[str, dict]], samples: Sequence[Any], false_alarm: Callable[[dict], bool], details: bool) -> None:
    """Each tool's missed malicious samples and its false alarms on benign ones; with `details`, every sample's outcome per tool."""
    for tool, results in tools.items():
        missed = [s.name for s in samples if s.kind == "malicious" and not results[s.name]["error"]]
        false = [s.name for s in samples if s.kind == "benign" and false_alarm(results[s.name])]
        print(f"\n{tool}: missed {len(missed)}: {', '.join(missed) or '-'}")
        print(f"{tool}: false alarms {len(false)}: {', '.join(false) or '-'}")
    if details:
        for sample in samples:
            print(f"\n{sample.name} [{sample.kind}] {sample.what} ({sample.source})")
            for tool, results in tools.items():
                row = results[sample.name]
                print(f"  {tool:11} {'ERROR' if row['error'] else 'alarm' if row['alarm'] else 'quiet':6} {'; '.join(map(str, row['detail']))}")
