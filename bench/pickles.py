#!/usr/bin/env python3
"""Benchmark the pickle scanner against picklescan, fickling and modelaudit on one sample set.

The samples are tests/fixtures/pickles/samples.py: the peers' own test samples rebuilt as our
opcodes, and our realistic checkpoints (README.md there gives provenance). They are written
to a scratch directory; every tool scans every file in the same run, and nothing is loaded.

Usage:
    python bench/pickles.py [--python-peers /work/venv-peers/bin/python] [--details]

Peers run in their own environment (never this project's), one worker process per tool
(`python -c WORKER tool files...`), e.g.:
    python -m venv /work/venv-peers
    /work/venv-peers/bin/pip install picklescan fickling modelaudit
A peer that is not installed is reported as such; the others still run.

Scoring. A malicious sample is *caught* when the tool raises it at its error level: ours an
`error` finding; picklescan a dangerous global or a scan error; fickling a severity of
LIKELY_UNSAFE or above; modelaudit a CRITICAL issue. The "any alarm" column counts lower
levels too (ours: a warning; picklescan: suspicious; fickling: above LIKELY_SAFE;
modelaudit: WARNING). A benign sample is a *false alarm* when the tool raises anything above
its info level (ours: warning or error; peers: their "any alarm"). Times are the sum of
per-file scan times inside each worker, start-up excluded; ratios are against ours.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures.pickles.samples import SAMPLES  # noqa: E402

from auditor.model import Severity  # noqa: E402
from auditor.scan import scan_weight_file  # noqa: E402

# Run in the peers' environment: scans each file with one tool, prints one JSON line per file.
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
for path in files:
    start = time.perf_counter()
    try:
        error, alarm, detail = scan(path)
    except Exception as exc:  # a crash is reported, not counted as a detection
        error, alarm, detail = False, False, [f"crashed: {type(exc).__name__}: {str(exc)[:60]}"]
    print(json.dumps({"file": os.path.basename(path), "error": bool(error), "alarm": bool(alarm), "seconds": time.perf_counter() - start, "detail": detail}), flush=True)
"""
PEERS = ("picklescan", "fickling", "modelaudit")
PEER_MODULES = {"picklescan": "picklescan", "fickling": "fickling", "modelaudit": "modelaudit"}


def scan_ours(directory: Path) -> dict[str, dict]:
    """Our scanner on every file, through the same Reader the Hub and local sources use."""
    results = {}
    for sample in SAMPLES:
        data = (directory / sample.name).read_bytes()
        start = time.perf_counter()
        scan = scan_weight_file(sample.name, len(data), lambda at, size, data=data: data[at:at + size])
        seconds = time.perf_counter() - start
        findings = scan.findings if scan else ()
        error = any(f.severity is Severity.ERROR for f in findings)
        alarm = any(f.severity in (Severity.ERROR, Severity.WARNING) for f in findings)
        detail = [f.message.split(": ", 1)[-1][:70] for f in findings][:2] or ["not a pickle" if scan is None else "clean"]
        results[sample.name] = {"error": error, "alarm": alarm, "seconds": seconds, "detail": detail}
    return results


def peer_installed(python: str, tool: str) -> bool:
    """Whether the peers' python can import the tool."""
    probe = subprocess.run([python, "-c", f"import {PEER_MODULES[tool]}"], capture_output=True, env=_peer_env())
    return probe.returncode == 0


def _peer_env() -> dict[str, str]:
    # No telemetry from the peers during a benchmark.
    return {**os.environ, "PROMPTFOO_DISABLE_TELEMETRY": "1", "NO_ANALYTICS": "1", "DO_NOT_TRACK": "1"}


def scan_peer(python: str, tool: str, directory: Path) -> dict[str, dict] | None:
    """One worker process scanning every sample with one peer; None when the peer is not installed."""
    if not Path(python).exists() or not peer_installed(python, tool):
        return None
    files = [str(directory / sample.name) for sample in SAMPLES]
    run = subprocess.run([python, "-c", WORKER, tool, *files], capture_output=True, text=True, env=_peer_env(), cwd=directory)
    results = {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            results[row["file"]] = row
    for sample in SAMPLES:  # a worker that died part-way leaves the rest unscanned, not clean
        results.setdefault(sample.name, {"error": False, "alarm": False, "seconds": 0.0, "detail": ["not scanned: the worker stopped"]})
    return results


def main() -> int:
    """Write the samples, run every available tool on them, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python-peers", default="/work/venv-peers/bin/python", help="python of the environment holding the peers")
    parser.add_argument("--details", action="store_true", help="print every sample's outcome per tool")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        for sample in SAMPLES:
            (directory / sample.name).write_bytes(sample.build())
        tools = {"ours": scan_ours(directory)}
        for peer in PEERS:
            found = scan_peer(args.python_peers, peer, directory)
            if found is None:
                print(f"{peer}: NOT INSTALLED in {args.python_peers} - skipped")
            else:
                tools[peer] = found
    report(tools, args.details)
    return 0


def report(tools: dict[str, dict[str, dict]], details: bool) -> None:
    """The table (caught, alarms, false alarms, time), each tool's misses and false alarms, and optional details."""
    kinds = {kind: [s for s in SAMPLES if s.kind == kind] for kind in ("malicious", "benign", "inert")}
    print(f"\nsamples: {len(kinds['malicious'])} malicious, {len(kinds['benign'])} benign, {len(kinds['inert'])} inert (not counted)\n")
    ours_time = sum(r["seconds"] for r in tools["ours"].values()) or 1e-9
    print(f"{'tool':12} {'caught (error)':>15} {'any alarm':>10} {'false alarms':>13} {'(as errors)':>12} {'inert flagged':>14} {'time s':>8} {'x ours':>7}")
    for tool, results in tools.items():
        caught = sum(results[s.name]["error"] for s in kinds["malicious"])
        alarmed = sum(results[s.name]["alarm"] or results[s.name]["error"] for s in kinds["malicious"])
        false = sum(results[s.name]["alarm"] or results[s.name]["error"] for s in kinds["benign"])
        false_errors = sum(results[s.name]["error"] for s in kinds["benign"])
        inert = sum(results[s.name]["alarm"] or results[s.name]["error"] for s in kinds["inert"])
        seconds = sum(r["seconds"] for r in results.values())
        print(f"{tool:12} {caught:>15} {alarmed:>10} {false:>13} {false_errors:>12} {inert:>14} {seconds:>8.3f} {seconds / ours_time:>7.1f}")
    for tool, results in tools.items():
        missed = [s.name for s in kinds["malicious"] if not results[s.name]["error"]]
        false = [s.name for s in kinds["benign"] if results[s.name]["alarm"] or results[s.name]["error"]]
        print(f"\n{tool}: missed {len(missed)}: {', '.join(missed) or '-'}")
        print(f"{tool}: false alarms {len(false)}: {', '.join(false) or '-'}")
    if details:
        for sample in SAMPLES:
            print(f"\n{sample.name} [{sample.kind}] {sample.what}")
            for tool, results in tools.items():
                row = results[sample.name]
                print(f"  {tool:11} {'ERROR' if row['error'] else 'alarm' if row['alarm'] else 'quiet':6} {'; '.join(map(str, row['detail']))}")


if __name__ == "__main__":
    sys.exit(main())
