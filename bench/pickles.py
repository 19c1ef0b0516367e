#!/usr/bin/env python3
"""Benchmark pickle scanning through the audit path against picklescan, fickling, modelaudit and modelscan.

The samples are tests/fixtures/pickles/samples.py: the peers' own test samples rebuilt as our
opcodes, and our realistic checkpoints (README.md there gives provenance). Each is written
alone into a model repo folder and audited with the CLI (bench/ours.py), so a sample counts
only when a real audit scans it; every peer scans the same files in the same run, and
nothing is loaded.

Usage:
    python bench/pickles.py [--python-peers /work/venv-peers/bin/python] [--details]

Peers run in their own environment (never this project's), one worker process per tool
(`python -c WORKER tool files...`), e.g.:
    python -m venv /work/venv-peers
    /work/venv-peers/bin/pip install picklescan fickling modelaudit modelscan
A peer that is not installed is reported as such; the others still run.

Scoring. A malicious sample is *caught* when the tool raises it at its error level: ours an
`error` finding; picklescan a dangerous global or a scan error; fickling a severity of
LIKELY_UNSAFE or above; modelaudit a CRITICAL issue. The "any alarm" column counts lower
levels too (ours: a warning; picklescan: suspicious; fickling: above LIKELY_SAFE;
modelaudit: WARNING). A benign sample is a *false alarm* when the tool raises anything above
its info level (ours: warning or error; peers: their "any alarm"). Times are the sum of
per-file scan times inside each worker, start-up excluded (ours: each whole audit, run
in-process); ratios are against ours.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from artefact_repos import repo_folder  # noqa: E402
from fixtures.pickles.samples import SAMPLES  # noqa: E402
from ours import audit_ours  # noqa: E402
from peers import PEERS, print_outcomes, scan_peer  # noqa: E402


def scan_peer_samples(python: str, tool: str, folders: dict[str, Path], scratch: Path) -> dict[str, dict] | None:
    """One peer on every sample file, by sample name; None when the peer is not installed."""
    paths = {folders[name] / name: name for name in folders}
    found = scan_peer(python, tool, list(paths), scratch)
    return None if found is None else {paths[path]: row for path, row in found.items()}


def main() -> int:
    """Write the samples, run every available tool on them, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python-peers", default="/work/venv-peers/bin/python", help="python of the environment holding the peers")
    parser.add_argument("--details", action="store_true", help="print every sample's outcome per tool")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folders = {s.name: repo_folder(Path(scratch) / f"repo{i}", s.name, s.build()) for i, s in enumerate(SAMPLES)}
        tools = {"ours": audit_ours(folders)}
        for peer in PEERS:
            found = scan_peer_samples(args.python_peers, peer, folders, Path(scratch))
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
    print_outcomes(tools, SAMPLES, lambda row: row["alarm"] or row["error"], details)

if __name__ == "__main__":
    sys.exit(main())
