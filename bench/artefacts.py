#!/usr/bin/env python3
"""Benchmark artefact scanning through the audit path against picklescan, fickling, modelaudit and modelscan.

The samples are tests/fixtures/artefacts/samples.py: files of every format models ship in,
malicious ones in the shapes of field reports and advisories (named per sample) and ordinary
ones as their libraries write them. Each sample is written alone into a model repo folder
(a card and the file) and audited with the CLI (`audit-model FOLDER --format json`, run
in-process, so Python's start-up is not counted), exactly as a user would: a sample counts
only if a real audit scans and flags it. The peers scan the same files, each in one worker
process of its own environment (bench/peers.py; create it with
`python -m venv /work/venv-peers && /work/venv-peers/bin/pip install picklescan fickling modelaudit modelscan`).

Usage:
    python bench/artefacts.py [--python-peers /work/venv-peers/bin/python] [--python-modelscan /work/venv-modelscan/bin/python] [--details]

modelscan's numpy scanner needs numpy 1.x and modelaudit needs numpy 2.x, so modelscan may
have an environment of its own (`pip install modelscan "numpy<2" h5py` there).

Scoring. A malicious sample is *caught* when the tool raises it at its error level (ours: an
`error` finding of the weight scan on that file; the peers' levels are in bench/peers.py). A
benign sample is a *false alarm* when the tool raises it at its error level; "any alarm"
counts lower levels too (ours: a warning). Times: ours is the whole audit of the folder (card,
licence, classification and scan); the peers' is their scan of the file alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from artefact_repos import repo_folder  # noqa: E402
from fixtures.artefacts.samples import SAMPLES  # noqa: E402
from ours import audit_ours  # noqa: E402
from peers import PEERS, print_outcomes, scan_peer  # noqa: E402


def main() -> int:
    """Write the sample repos, audit them, run every available peer, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python-peers", default="/work/venv-peers/bin/python", help="python of the environment holding the peers")
    parser.add_argument("--python-modelscan", default="/work/venv-modelscan/bin/python", help="python of modelscan's own environment, when it has one")
    parser.add_argument("--details", action="store_true", help="print every sample's outcome per tool")
    args = parser.parse_args()
    pythons = {peer: args.python_peers for peer in PEERS}
    if Path(args.python_modelscan).exists():
        pythons["modelscan"] = args.python_modelscan
    with tempfile.TemporaryDirectory() as scratch:
        folders = {s.name: repo_folder(Path(scratch) / f"repo{i}", s.name, s.build()) for i, s in enumerate(SAMPLES)}
        tools = {"ours (CLI)": audit_ours(folders)}
        for peer in PEERS:
            paths = {folders[name] / name: name for name in folders}
            found = scan_peer(pythons[peer], peer, list(paths), Path(scratch))
            if found is None:
                print(f"{peer}: NOT INSTALLED in {pythons[peer]} - skipped")
            else:
                tools[peer] = {paths[path]: row for path, row in found.items()}
    report(tools, args.details)
    return 0


def report(tools: dict[str, dict[str, dict]], details: bool) -> None:
    """The table (caught, alarms, false alarms, time), per-format catches, misses and false alarms."""
    malicious = [s for s in SAMPLES if s.kind == "malicious"]
    benign = [s for s in SAMPLES if s.kind == "benign"]
    print(f"\nsamples: {len(malicious)} malicious, {len(benign)} benign, through the audit path\n")
    print("| tool | caught (error) | any alarm | false alarms (error) | false alarms (any) | time s |")
    print("|---|---|---|---|---|---|")
    for tool, results in tools.items():
        caught = sum(results[s.name]["error"] for s in malicious)
        alarmed = sum(results[s.name]["alarm"] or results[s.name]["error"] for s in malicious)
        false_errors = sum(results[s.name]["error"] for s in benign)
        false_any = sum(results[s.name]["alarm"] or results[s.name]["error"] for s in benign)
        seconds = sum(r["seconds"] for r in results.values())
        print(f"| {tool} | {caught}/{len(malicious)} | {alarmed} | {false_errors}/{len(benign)} | {false_any} | {seconds:.2f} |")
    families = sorted({s.format for s in SAMPLES})
    print("\ncaught per format (malicious samples):\n")
    print("| tool | " + " | ".join(f"{f} ({sum(s.format == f for s in malicious)})" for f in families) + " |")
    print("|---|" + "---|" * len(families))
    for tool, results in tools.items():
        print(f"| {tool} | " + " | ".join(str(sum(results[s.name]["error"] for s in malicious if s.format == f)) for f in families) + " |")
    print_outcomes(tools, SAMPLES, lambda row: row["error"], details)

if __name__ == "__main__":
    sys.exit(main())
