#!/usr/bin/env python3
"""Census throughput, request cost and memory over a fake Hub with injected latency.

Writes N synthetic repos (varied cards and licences, derivatives of shared base models,
gated ones, a 5 GB weights file each), serves them with every request delayed by
--latency seconds, and runs the real CLI in subprocesses:
  1. --jobs 1 on the first --serial repos (a serial run of all N would take minutes),
  2. --jobs 32 on all N, cold cache,
  3. --jobs 32 on all N again, warm cache.
Prints repos/s for each (and the ratio of 2 to 1, measured in the same run), requests per
repo against the 1 + small files read each costs at most, weight bytes sent, and the peak
memory (max RSS) of each CLI process.

Usage: python bench/batch.py [--repos 1000] [--serial 100] [--jobs 32] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakehub import FakeHub  # noqa: E402
from fakehub.server import _Handler  # noqa: E402

LICENCES = [  # (card licence, shipped LICENSE text or None)
    ("apache-2.0", "apache-2.0.txt"),
    ("mit", "mit.txt"),
    ("llama3.1", "llama3.1.txt"),
    ("cc-by-nc-4.0", None),
    ("gemma", "gemma.txt"),
    ("other", None),
    ("bsd-3-clause", "bsd-3-clause.txt"),
]
BASES = 20
# Run the CLI and print its peak RSS (KiB) on the last stderr line, whatever its exit code.
WRAPPER = (
    "import resource, sys\n"
    "from auditor.cli import main\n"
    "try:\n    main()\n"
    "finally:\n    print(f'maxrss_kib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}', file=sys.stderr)\n"
)


def slow_handler(latency: float) -> type:
    class Slow(_Handler):
        def _dispatch(self, head: bool) -> None:
            time.sleep(latency)  # the round trip to a distant Hub
            super()._dispatch(head)

    return Slow


def write_repo(root: Path, repo_id: str, index: int, base: str | None) -> None:
    licence, text = LICENCES[index % len(LICENCES)]
    folder = root / repo_id.replace("/", "__")
    (folder / "files").mkdir(parents=True)
    card = {"license": licence, "library_name": "transformers", "tags": ["text-generation"]}
    if base:
        card["base_model"] = base
    if licence == "other":
        card["license_name"] = f"bench-custom-{index % 3}"
    readme = f"---\n{yaml.safe_dump(card)}---\n# {repo_id}\n\nA synthetic model number {index}.\n"
    (folder / "files" / "README.md").write_text(readme)
    (folder / "files" / "config.json").write_text('{"model_type": "llama", "architectures": ["LlamaForCausalLM"]}\n')
    siblings = [{"path": "README.md", "size": len(readme.encode())}, {"path": "config.json", "size": 61},
                {"path": "model.safetensors", "size": 5_000_000_000}]
    if text:
        licence_text = (ROOT / "licences" / "texts" / text).read_text(encoding="utf-8")
        (folder / "files" / "LICENSE").write_text(licence_text)
        siblings.append({"path": "LICENSE", "size": len(licence_text.encode())})
    meta = {"id": repo_id, "sha": f"{index:040x}", "gated": "manual" if index % 10 == 7 else False,
            "private": False, "siblings": siblings}
    (folder / "repo.yaml").write_text(yaml.safe_dump(meta))


def make_repos(root: Path, count: int) -> list[str]:
    for b in range(BASES):
        write_repo(root, f"bench-base/base-{b}", b, None)
    ids = []
    for i in range(count):
        repo_id = f"bench-org-{i % 50}/model-{i}"
        write_repo(root, repo_id, i, f"bench-base/base-{i % BASES}" if i % 3 == 0 else None)
        ids.append(repo_id)
    return ids


def run_cli(hub: FakeHub, targets: list[str], jobs: int, work: Path, name: str) -> dict:
    listing = work / f"{name}.txt"
    listing.write_text("\n".join(targets) + "\n")
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "AUDITOR_CACHE_DIR": str(work / "cache"),
           "AUDITOR_GITHUB_API": "http://127.0.0.1:9", "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HOME": str(work / "hf")}
    hub.reset()
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, "--targets-from", str(listing), "--jobs", str(jobs), "--format", "jsonl",
         "-o", str(work / f"{name}.jsonl"), "-q"],
        env=env, capture_output=True, text=True, cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    rss = int(proc.stderr.strip().splitlines()[-1].split("=")[1])
    lines = (work / f"{name}.jsonl").read_text().splitlines()
    stats = hub.stats
    files_read = sum(1 for r in stats.log if r.kind == "get")
    return {
        "name": name, "repos": len(targets), "lines": len(lines), "exit": proc.returncode, "seconds": seconds,
        "rate": len(targets) / seconds, "requests": stats.total_requests, "api": stats.requests["api"],
        "files": files_read, "weight_bytes": sum(v for k, v in stats.bytes_by_path.items() if k.endswith(".safetensors")),
        "rss_mb": rss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--serial", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as scratch:
        work = Path(scratch)
        ids = make_repos(work / "repos", args.repos)
        hub = FakeHub([work / "repos"])
        hub._server.RequestHandlerClass = slow_handler(args.latency)
        with hub:
            runs = [
                run_cli(hub, ids[: args.serial], 1, work, "serial"),
                run_cli(hub, ids, args.jobs, work, "cold"),
                run_cli(hub, ids, args.jobs, work, "warm"),
            ]
    print(f"{args.repos} synthetic repos, {args.latency * 1000:.0f} ms per request, {os.cpu_count()} cores\n")
    print(f"{'run':8} {'repos':>6} {'exit':>4} {'s':>8} {'repos/s':>8} {'req/repo':>9} {'api/repo':>9} "
          f"{'1+files/repo':>12} {'weight B':>9} {'max RSS MB':>10}")
    for r in runs:
        assert r["lines"] == r["repos"], r
        print(f"{r['name']:8} {r['repos']:>6} {r['exit']:>4} {r['seconds']:>8.1f} {r['rate']:>8.1f} "
              f"{r['requests'] / r['repos']:>9.2f} {r['api'] / r['repos']:>9.2f} {1 + r['files'] / r['repos']:>12.2f} "
              f"{r['weight_bytes']:>9} {r['rss_mb']:>10.0f}")
    serial, cold, warm = runs
    print(f"\n--jobs {args.jobs} vs --jobs 1: {cold['rate'] / serial['rate']:.1f}x; warm vs cold: {warm['rate'] / cold['rate']:.1f}x")


if __name__ == "__main__":
    main()
