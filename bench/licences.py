#!/usr/bin/env python3
"""Benchmark licence identification: our matcher, ScanCode and askalono on one labelled corpus.

Usage:
    python bench/licences.py [CORPUS_DIR] [--python-other /tmp/bench-venv/bin/python] [--details]

CORPUS_DIR (default ../shared/corpus/licences next to the repository) holds `files/` and
`labels.yaml`, whose header explains the labels. Each tool runs in its own worker process
(this same script with --worker), so start-up cost and peak memory are its own: ours with
this interpreter, ScanCode (scancode-toolkit-mini, its licensedcode index via scancode.api)
and askalono (pyaskalono) with the interpreter of a separate environment where they are
installed, e.g.:
    python -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install scancode-toolkit-mini==32.5.0 "pluggy<1.6" pyaskalono PyYAML
A tool that cannot start is reported as unavailable, the others still run.

Scoring follows the labels: a file is right when every expected licence (any of its
acceptable ids) is found; "~a+b" accepts any id or name containing both a and b; `none`
means no licence is granted there (references to a licence kept elsewhere are fine), and
`also_ok` alternatives are accepted as well. A wrong version is a file where the tool named
another version of the expected licence; a miss, a file where it found nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "licences"
DEFAULT_OTHER_PYTHON = "/tmp/bench-venv/bin/python"
# ScanCode's names for "something licence-like is here" that grant nothing identifiable.
_NOT_A_LICENCE = re.compile(r"^(unknown|free-unknown|warranty-disclaimer|proprietary-license|other-)")
_FILLER = {"license", "licenseref", "scancode", "use", "policy", "community", "agreement", "the", "open", "acceptable", "terms", "of"}


# ---------------------------------------------------------------- workers (one per tool)

def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_ours(files: list[Path]) -> dict:
    started = time.perf_counter()
    sys.path.insert(0, str(REPO))
    from auditor.identify import identify_text, load_knowledge_base
    from auditor.identify.index import index_for

    kb = load_knowledge_base()
    index_for(kb)
    identify_text("MIT License", "warm-up", kb)
    startup = time.perf_counter() - started
    results = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        begin = time.perf_counter()
        matches = identify_text(text, path.name, kb)
        seconds = time.perf_counter() - begin
        found = [{"id": m.id, "spdx": m.spdx or "", "name": m.name, "reference": m.kind.value == "reference"} for m in matches]
        results.append({"file": path.name, "seconds": seconds, "found": found})
    return {"startup": startup, "results": results, "peak_mb": _peak_mb()}


def worker_scancode(files: list[Path]) -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    from licensedcode.cache import get_licenses_db
    from scancode.api import get_licenses

    get_licenses(str(files[0]))  # loads the licence index once
    names = get_licenses_db()
    startup = time.perf_counter() - started
    results = []
    for path in files:
        begin = time.perf_counter()
        detected = get_licenses(str(path))
        seconds = time.perf_counter() - begin
        keys = []
        for detection in detected.get("license_detections", []):
            for match in detection.get("matches", []):
                keys.extend(re.findall(r"[\w.+-]+", match.get("license_expression", "")))
        found = []
        for key in dict.fromkeys(k for k in keys if k not in ("AND", "OR", "WITH", "and", "or", "with")):
            licence = names.get(key)
            spdx = licence.spdx_license_key if licence is not None and licence.spdx_license_key else ""
            name = licence.name if licence is not None else key
            found.append({"id": f"LicenseRef-scancode-{key}", "spdx": spdx, "name": f"{key} {name}", "reference": bool(_NOT_A_LICENCE.match(key))})
        results.append({"file": path.name, "seconds": seconds, "found": found})
    return {"startup": startup, "results": results, "peak_mb": _peak_mb()}


def worker_askalono(files: list[Path]) -> dict:
    started = time.perf_counter()
    import askalono

    askalono.identify("MIT License")  # loads its store once
    startup = time.perf_counter() - started
    results = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        begin = time.perf_counter()
        try:
            answer = askalono.identify(text)
        except Exception:  # noqa: BLE001 - askalono raises on texts it cannot score
            answer = None
        seconds = time.perf_counter() - begin
        found = []
        # askalono's own threshold for a confident answer is 0.8
        if answer is not None and answer.score >= 0.8:
            found.append({"id": answer.name, "spdx": answer.name, "name": answer.name, "reference": False})
        results.append({"file": path.name, "seconds": seconds, "found": found})
    return {"startup": startup, "results": results, "peak_mb": _peak_mb()}


WORKERS = {"ours": worker_ours, "scancode": worker_scancode, "askalono": worker_askalono}


# ---------------------------------------------------------------- scoring

def _accepts(alternative: str, item: dict) -> bool:
    if alternative.startswith("~"):
        haystack = f"{item['id']} {item['name']} {item['spdx']}".lower()
        return all(part.lower() in haystack for part in alternative[1:].split("+"))
    return alternative.lower() in (item["id"].lower(), item["spdx"].lower())


def _stem(text: str) -> set[str]:
    return {w for w in re.sub(r"[^a-z]+", " ", text.lower()).split() if w not in _FILLER and len(w) > 1}


def score_file(label: dict, found: list[dict]) -> str:
    """'right', 'wrong-version', 'wrong' or 'miss' for one file."""
    grants = [item for item in found if not item["reference"]]
    also_ok = label.get("also_ok") or []
    expected = label["expected"]
    if expected == "none":
        if all(any(_accepts(a, item) for a in also_ok) for item in grants):
            return "right"
        return "wrong"
    groups = expected if isinstance(expected[0], list) else [expected]
    groups = [group + also_ok for group in groups]
    if all(any(_accepts(a, item) for item in found for a in group) for group in groups):
        return "right"
    if not grants:
        return "miss"
    for group in groups:
        if any(_accepts(a, item) for item in found for a in group):
            continue
        family = set().union(*(_stem(a.lstrip("~").replace("+", " ")) for a in group))
        if any(_stem(f"{item['id']} {item['name']}") & family for item in grants):
            return "wrong-version"
    return "wrong"


def run_worker(tool: str, python: str, corpus: Path) -> dict | None:
    command = [python, str(Path(__file__).resolve()), str(corpus), "--worker", tool]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        print(f"{tool}: unavailable ({done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode})", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--python-other", default=DEFAULT_OTHER_PYTHON, help="interpreter with scancode-toolkit-mini and pyaskalono")
    parser.add_argument("--tools", default="ours,scancode,askalono")
    parser.add_argument("--details", action="store_true", help="print every file's verdict per tool")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    corpus = Path(args.corpus)
    import yaml

    labels = yaml.safe_load((corpus / "labels.yaml").read_text(encoding="utf-8"))
    files = [corpus / "files" / label["file"] for label in labels]
    if args.worker:
        print(json.dumps(WORKERS[args.worker](files)))
        return 0

    rows, details = [], {}
    for tool in args.tools.split(","):
        python = sys.executable if tool == "ours" else args.python_other
        outcome = run_worker(tool, python, corpus)
        if outcome is None:
            continue
        verdicts = {r["file"]: score_file(label, r["found"]) for label, r in zip(labels, outcome["results"], strict=True)}
        details[tool] = (verdicts, {r["file"]: r["found"] for r in outcome["results"]})
        times = [r["seconds"] for r in outcome["results"]]
        rows.append((tool, sum(v == "right" for v in verdicts.values()), len(labels),
                     sum(v == "wrong-version" for v in verdicts.values()), sum(v == "miss" for v in verdicts.values()),
                     statistics.median(times), _percentile(times, 0.95), outcome["startup"], outcome["peak_mb"]))
    print(f"corpus: {corpus} ({len(labels)} files)")
    print(f"{'tool':10s} {'accuracy':>9s} {'wrong-ver':>9s} {'misses':>6s} {'median s':>10s} {'p95 s':>10s} {'start-up s':>10s} {'peak MB':>8s}")
    for tool, right, total, wrong_version, misses, median, p95, startup, peak in rows:
        print(f"{tool:10s} {right:>4d}/{total:<4d} {wrong_version:>9d} {misses:>6d} {median:>10.4f} {p95:>10.4f} {startup:>10.2f} {peak:>8.0f}")
    ours = next((r for r in rows if r[0] == "ours"), None)
    for other in rows:
        if ours and other[0] != "ours" and ours[5] > 0:
            print(f"median speed-up of ours over {other[0]}: {other[5] / ours[5]:.0f}x")
    if args.details:
        for tool, (verdicts, found) in details.items():
            print(f"\n{tool}:")
            for name, verdict in verdicts.items():
                ids = ", ".join(("ref:" if f["reference"] else "") + f["id"] for f in found[name]) or "-"
                print(f"  {verdict:13s} {name:32s} {ids}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
