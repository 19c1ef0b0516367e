#!/usr/bin/env python3
"""Benchmark licence identification: our matcher, ScanCode and askalono on labelled licence files.

Usage:
    python bench/licences.py [CORPUS_DIR] [--sets corpus,references] [--python-other /tmp/bench-venv/bin/python] [--details]

Two sets run in one go: `corpus`, CORPUS_DIR (default ../shared/corpus/licences next to the
repository) with `files/` and `labels.yaml`, whose header explains the labels; and
`references`, every reference text of licences/texts/, each labelled with its own profile's
ids (our id, SPDX id, ScanCode key). Each tool runs in its own worker process
(this same script with --worker), so start-up cost and peak memory are its own: ours with
this interpreter, ScanCode (scancode-toolkit-mini, its licensedcode index via scancode.api)
and askalono (pyaskalono) with the interpreter of a separate environment where they are
installed, e.g.:
    python -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install scancode-toolkit-mini==32.5.0 "pluggy<1.6" pyaskalono PyYAML
A tool that cannot start is reported as unavailable, the others still run. Each file is
timed --repeat times (default 3) and the fastest kept, for every tool alike.

Scoring follows the labels: a file is right when every expected licence (any of its
acceptable ids) is found; "~a+b" accepts any id or name containing both a and b; `none`
means no licence is granted there (references to a licence kept elsewhere are fine), and
`also_ok` alternatives are accepted as well. A wrong version is a file where the tool named
another version of the expected licence; a false match, a file where it named a licence that
is not there at all (a licence the auditor only read from an unknown text, named by its title,
is a miss, not a false match); a miss, a file where it found nothing. Our tool runs twice:
with an empty disk cache (cold: the index is built) and with the cache it just wrote.
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
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "licences"
LICENCES = REPO / "licences"
DEFAULT_OTHER_PYTHON = "/tmp/bench-venv/bin/python"
# ScanCode's names for "something licence-like is here" that grant nothing identifiable.
_NOT_A_LICENCE = re.compile(r"^(unknown|free-unknown|warranty-disclaimer|proprietary-license|other-)")
_FILLER = {"license", "licenseref", "scancode", "use", "policy", "community", "agreement", "the", "open", "acceptable", "terms", "of"}


# ---------------------------------------------------------------- workers (one per tool)

def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    """(fastest of BENCH_REPEAT runs in seconds, the call's result): a busy machine's stalls are not the tool's."""
    best, result = float("inf"), None
    for _ in range(max(1, int(os.environ.get("BENCH_REPEAT", "1")))):
        begin = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - begin)
    return best, result


def worker_ours(files: list[Path]) -> dict:
    started = time.perf_counter()
    sys.path.insert(0, str(REPO))
    from auditor.identify import identify_text, load_knowledge_base
    from auditor.identify.engine import index_for

    kb = load_knowledge_base()
    index_for(kb)
    identify_text("MIT License", "warm-up", kb)
    startup = time.perf_counter() - started
    results = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        seconds, matches = timed(lambda text=text, name=path.name: identify_text(text, name, kb))
        found = [{"id": m.id, "spdx": m.spdx or "", "name": m.name, "reference": m.kind.value == "reference", "unidentified": m.unidentified}
                 for m in matches]
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
        seconds, detected = timed(lambda path=path: get_licenses(str(path)))
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
        seconds, answer = timed(lambda text=text: _askalono_answer(askalono, text))
        found = []
        # askalono's own threshold for a confident answer is 0.8
        if answer is not None and answer.score >= 0.8:
            found.append({"id": answer.name, "spdx": answer.name, "name": answer.name, "reference": False})
        results.append({"file": path.name, "seconds": seconds, "found": found})
    return {"startup": startup, "results": results, "peak_mb": _peak_mb()}


def _askalono_answer(askalono: Any, text: str) -> Any:
    try:
        return askalono.identify(text)
    except Exception:  # noqa: BLE001 - askalono raises on texts it cannot score
        return None


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
    """'right', 'wrong-version', 'wrong' (a false match) or 'miss' for one file."""
    found = [item for item in found if not item.get("unidentified")]  # named only by its own title: no claim
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


def run_worker(tool: str, python: str, corpus: Path, file_set: str, env: dict | None = None) -> dict | None:
    command = [python, str(Path(__file__).resolve()), str(corpus), "--sets", file_set, "--worker", tool]
    env = dict(env or os.environ, PYTHONWARNINGS="ignore")
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        print(f"{tool}: unavailable ({done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode})", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def reference_labels() -> list[dict]:
    """One label per reference text: the profile's own ids (read with PyYAML alone, so any interpreter can)."""
    import yaml

    labels = []
    for path in sorted(LICENCES.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        profile = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not profile.get("text"):
            continue
        accepted = [str(profile["id"]), str(profile["spdx"])]
        if profile.get("scancode_key"):
            accepted.append(f"LicenseRef-scancode-{profile['scancode_key']}")
        labels.append({"file": str(LICENCES / profile["text"]), "expected": accepted})
    return labels


def labelled_files(corpus: Path, file_set: str) -> tuple[list[dict], list[Path]]:
    """The labels and files of one set: `corpus` or `references`."""
    import yaml

    if file_set == "references":
        labels = reference_labels()
        return labels, [Path(label["file"]) for label in labels]
    labels = yaml.safe_load((corpus / "labels.yaml").read_text(encoding="utf-8"))
    return labels, [corpus / "files" / label["file"] for label in labels]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _runs(tools: list[str], python_other: str, corpus: Path, file_set: str) -> list[tuple[str, dict]]:
    """Each tool's worker output on one set; ours cold (empty cache) and then warm."""
    outcomes = []
    for tool in tools:
        if tool == "ours":
            with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
                env = dict(os.environ, AUDITOR_CACHE_DIR=cache)
                for name in ("ours (cold)", "ours"):
                    outcome = run_worker(tool, sys.executable, corpus, file_set, env)
                    if outcome is not None:
                        outcomes.append((name, outcome))
            continue
        outcome = run_worker(tool, python_other, corpus, file_set)
        if outcome is not None:
            outcomes.append((tool, outcome))
    return outcomes


def report_set(file_set: str, corpus: Path, labels: list[dict], outcomes: list[tuple[str, dict]], details: bool) -> None:
    rows, verdicts_of = [], {}
    for tool, outcome in outcomes:
        verdicts = {r["file"]: score_file(label, r["found"]) for label, r in zip(labels, outcome["results"], strict=True)}
        verdicts_of[tool] = (verdicts, {r["file"]: r["found"] for r in outcome["results"]})
        times = [r["seconds"] for r in outcome["results"]]
        count = {v: sum(x == v for x in verdicts.values()) for v in ("right", "wrong-version", "wrong", "miss")}
        rows.append((tool, count["right"], len(labels), count["wrong-version"], count["wrong"], count["miss"],
                     statistics.mean(times), statistics.median(times), _percentile(times, 0.95), outcome["startup"], outcome["peak_mb"]))
    where = corpus if file_set == "corpus" else LICENCES / "texts"
    print(f"\n{file_set}: {where} ({len(labels)} files)")
    print(f"{'tool':12s} {'accuracy':>9s} {'wrong-ver':>9s} {'false':>5s} {'misses':>6s} {'mean s':>9s} {'median s':>9s} {'p95 s':>9s} {'start-up s':>10s} {'peak MB':>8s}")
    for tool, right, total, wrong_version, false, misses, mean, median, p95, startup, peak in rows:
        print(f"{tool:12s} {right:>4d}/{total:<4d} {wrong_version:>9d} {false:>5d} {misses:>6d} {mean:>9.4f} {median:>9.4f} {p95:>9.4f} {startup:>10.2f} {peak:>8.0f}")
    ours = next((r for r in rows if r[0] == "ours"), None)
    for other in rows:
        if ours and not other[0].startswith("ours") and ours[6] > 0 and ours[7] > 0:
            print(f"ours vs {other[0]}: {other[6] / ours[6]:.0f}x faster per file (mean), {other[7] / ours[7]:.0f}x (median)")
    if details:
        for tool, (verdicts, found) in verdicts_of.items():
            print(f"\n{tool}:")
            for name, verdict in verdicts.items():
                ids = ", ".join(("ref:" if f["reference"] else "") + ("read:" if f.get("unidentified") else "") + f["id"] for f in found[name]) or "-"
                print(f"  {verdict:13s} {Path(name).name:40s} {ids}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--sets", default="corpus,references", help="corpus, references, or both")
    parser.add_argument("--python-other", default=DEFAULT_OTHER_PYTHON, help="interpreter with scancode-toolkit-mini and pyaskalono")
    parser.add_argument("--tools", default="ours,scancode,askalono")
    parser.add_argument("--details", action="store_true", help="print every file's verdict per tool")
    parser.add_argument("--repeat", type=int, default=3, help="time each file this many times and keep the fastest")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    corpus = Path(args.corpus)
    os.environ.setdefault("BENCH_REPEAT", str(args.repeat))  # the workers inherit it
    if args.worker:
        _, files = labelled_files(corpus, args.sets)
        print(json.dumps(WORKERS[args.worker](files)))
        return 0
    for file_set in args.sets.split(","):
        if file_set == "corpus" and not (corpus / "labels.yaml").is_file():
            print(f"corpus: {corpus} has no labels.yaml, skipped", file=sys.stderr)
            continue
        labels, _ = labelled_files(corpus, file_set)
        report_set(file_set, corpus, labels, _runs(args.tools.split(","), args.python_other, corpus, file_set), args.details)
    return 0


if __name__ == "__main__":
    sys.exit(main())
