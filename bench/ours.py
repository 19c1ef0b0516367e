"""Our side of the scanner benchmarks: each sample audited with the CLI in its own model repo folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from auditor.cli import audit_model
from auditor.scan.release import SCAN_FINDINGS


def audit_ours(folders: dict[str, Path]) -> dict[str, dict]:
    """The CLI on each sample's repo folder: its weight-scan findings on that file."""
    results = {}
    runner = CliRunner()
    for name, folder in folders.items():
        start = time.perf_counter()
        run = runner.invoke(audit_model, [str(folder), "--no-check-links", "--format", "json"])
        seconds = time.perf_counter() - start
        report = json.loads(run.stdout)
        mine = [f for f in report["findings"] if f["code"] in SCAN_FINDINGS and name in f["evidence"]]
        scanned = name in (report["facts"].get("weight_scan") or {}).get("per_file", {})
        results[name] = {
            "error": any(f["severity"] == "error" for f in mine),
            "alarm": any(f["severity"] in ("error", "warning") for f in mine),
            "seconds": seconds,
            "detail": [f"{f['code']}: {f['message'][:70]}" for f in mine][:2] or ["clean" if scanned else "not scanned"],
        }
    return results
