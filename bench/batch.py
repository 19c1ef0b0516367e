#!/usr/bin/env python3
"""Census throughput, request cost, CPU and memory over a fake Hub with injected latency.

Two mixes of repos, built at bench time in a temporary folder (nothing is committed):
  synthetic  N generated repos (varied cards and licences, derivatives of shared bases, gated
             ones, a 5 GB weights file each): light, and their texts are few and shared;
  real       copies of the development corpus (../shared/corpus, repos/ and derivatives/: real
             cards, licence texts, policies and configs), each copy under its own repo id and
             commit with its own README (a line added), so only what real repos share is shared.
Every request is delayed by --latency seconds. The real CLI runs in a subprocess per run, each
with its own empty cache directory (cold is cold):
  serial    --jobs 1 on the first --serial targets (the peer the concurrent run is measured against),
  no-cache  --jobs J with --no-cache (nothing kept, nothing reused: every text read and identified),
  cold      --jobs J, empty cache,
  warm      --jobs J again on a copy of the cold run's cache.
Per run: repos/s, requests per repo, CPU milliseconds per repo (the CLI and any worker processes
it starts; and apart, the fake Hub's, this process's), memory, and the ratio to the limit the
latency sets: jobs / (requests per repo x latency) repos/s.

Memory is sampled from /proc every 0.2 s while the CLI runs, for the CLI process and each
process under it: RSS, and PSS (/proc/<pid>/smaps_rollup), which shares each page among the
processes mapping it. A forked or spawned worker maps the same libraries and files as its
parent, so the sum of RSS counts those pages twice; the sum of PSS counts them once, and is
what the processes together hold. The table gives each peak: the CLI's, the largest worker's,
and the largest total over one sample (RSS summed, and PSS summed). Where /proc is missing,
only the CLI's and its largest child's peak RSS (getrusage) are shown.

The fake Hub runs in this process and shares the machine's cores with the CLI: on a small
machine its own CPU is part of what is measured (the "hub ms" column; it stands in for a
remote server, whose CPU is not the auditor's). So that it takes less of the cores than it
would otherwise, what it works out once per repo (the card's YAML, the blob ids and LFS
digests of the listing) is worked out before the first run, not inside the cold one; what it
answers is the same. With --cluster N the census runs on a Dask
LocalCluster of N worker processes started here: their CPU and memory are not the CLI's, so
those columns then show the client's alone.

Usage: python bench/batch.py [--mix real|synthetic|both] [--repos 320] [--serial 50] [--jobs 32]
                             [--latency 0.05] [--runs serial,no-cache,cold,warm] [--cli-args "--processes 2"]
                             [--cluster 2] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
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
# Run the CLI; print its CPU seconds (its own and its waited-for children's) and peak RSS (KiB)
# on the last stderr line, whatever its exit code.
WRAPPER = (
    "import json, resource, sys\n"
    "from auditor.cli import main\n"
    "try:\n    main()\n"
    "finally:\n"
    "    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "    print('usage=' + json.dumps({'cpu': me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,\n"
    "          'rss_kib': me.ru_maxrss, 'child_rss_kib': kids.ru_maxrss}), file=sys.stderr)\n"
)


def slow_handler(latency: float) -> type:
    class Slow(_Handler):
        def _dispatch(self, head: bool) -> None:
            time.sleep(latency)  # the round trip to a distant Hub
            super()._dispatch(head)

    return Slow


# --- the synthetic mix
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


def synthetic_mix(root: Path, count: int) -> list[str]:
    for b in range(BASES):
        write_repo(root, f"bench-base/base-{b}", b, None)
    ids = []
    for i in range(count):
        repo_id = f"bench-org-{i % 50}/model-{i}"
        write_repo(root, repo_id, i, f"bench-base/base-{i % BASES}" if i % 3 == 0 else None)
        ids.append(repo_id)
    return ids


# --- the real-repo mix
def real_mix(root: Path, corpus: Path, count: int) -> list[str]:
    """`count` targets copied from the corpus's model repos (the originals served too: cards name them as bases)."""
    originals = sorted(p.parent for folder in ("repos", "derivatives") for p in (corpus / folder).glob("*/repo.yaml"))
    if not originals:
        raise SystemExit(f"no corpus repos under {corpus}: give --corpus")
    models = []
    for case in originals:
        shutil.copytree(case, root / case.name, symlinks=True, ignore=shutil.ignore_patterns("expected.yaml"))
        meta = yaml.safe_load((case / "repo.yaml").read_text(encoding="utf-8"))
        if meta.get("type", "model") == "model":
            models.append((case, meta))
    ids = []
    for index in range(count):
        case, meta = models[index % len(models)]
        copy = index // len(models)
        owner, name = meta["id"].split("/", 1)
        repo_id = f"{owner}-copy{copy}/{name}"
        folder = root / f"{case.name}--copy{copy}"
        (folder / "files").mkdir(parents=True)
        siblings = []
        for entry in meta.get("siblings") or []:
            entry = dict(entry)
            source = case / "files" / entry["path"]
            target = folder / "files" / entry["path"]
            if source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                if entry["path"] == "README.md":  # each repo's card is its own; licences and configs are shared
                    data = source.read_bytes() + f"\n<!-- {repo_id} -->\n".encode()
                    target.write_bytes(data)
                    entry["size"] = len(data)
                else:
                    target.symlink_to(source.resolve())
            siblings.append(entry)
        sha = hashlib.sha1(f"{meta['sha']}:{copy}".encode()).hexdigest()
        copied = {**{k: v for k, v in meta.items() if k not in ("revisions", "fail")}, "id": repo_id, "sha": sha,
                  "siblings": siblings}
        (folder / "repo.yaml").write_text(yaml.safe_dump(copied), encoding="utf-8")
        ids.append(repo_id)
    return ids


# --- runs
def run_cli(hub: FakeHub, targets: list[str], jobs: int, work: Path, name: str, cache: Path, extra: list[str]) -> dict:
    listing = work / f"{name}.txt"
    listing.write_text("\n".join(targets) + "\n")
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "AUDITOR_CACHE_DIR": str(cache),
           "AUDITOR_GITHUB_API": "http://127.0.0.1:9", "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HOME": str(work / "hf")}
    out = work / f"{name}.jsonl"
    hub.reset()
    hub_cpu = _own_cpu()
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, "--targets-from", str(listing), "--jobs", str(jobs), "--format", "jsonl",
             "-o", str(out), "-q", "--cache-dir", str(cache), *extra],
            env=env, stdout=subprocess.DEVNULL, stderr=errors, text=True, cwd=ROOT,
        )
        memory = MemorySampler(proc.pid)
        memory.start()
        proc.wait()
        memory.stop()
        seconds = time.perf_counter() - started
        hub_cpu = _own_cpu() - hub_cpu
        errors.seek(0)
        stderr = errors.read()
    usage_lines = [line for line in stderr.splitlines() if line.startswith("usage=")]
    if not usage_lines:
        raise SystemExit(f"{name}: the CLI printed no usage line:\n{stderr[-2000:]}")
    usage = json.loads(usage_lines[-1][len("usage="):])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    stats = hub.stats
    return {
        "name": name, "repos": len(targets), "lines": len(records), "distinct": len({r["target"] for r in records}),
        "failed": sum(r["status"] != "audited" for r in records), "exit": proc.returncode, "seconds": seconds,
        "rate": len(targets) / seconds, "requests": stats.total_requests, "cpu": usage["cpu"],
        "rss_mb": usage["rss_kib"] / 1024, "child_rss_mb": usage["child_rss_kib"] / 1024, "jobs": jobs,
        "hub_cpu": hub_cpu, "memory": memory.peaks(),
    }


def _own_cpu() -> float:
    """CPU seconds of this process so far: the fake Hub's threads, and the little else it does while the CLI runs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _kib(path: Path, field: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError, ValueError):
            found += [int(child) for child in task.read_text().split()]
    return found


class MemorySampler:
    """Peak RSS and PSS (KiB) of a process and every process under it, sampled from /proc while it runs."""

    def __init__(self, pid: int, every: float = 0.2):
        self.pid = pid
        self.every = every
        self.main = {"rss": 0, "pss": 0}
        self.worker = {"rss": 0, "pss": 0}  # the largest process under the CLI (a worker), at its peak
        self.total = {"rss": 0, "pss": 0}  # the largest sum over one sample
        self.samples = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.every)

    def sample(self) -> None:
        pids = [self.pid]
        for pid in pids:  # grows as it goes: the whole tree
            pids += [child for child in _children(pid) if child not in pids]
        total = {"rss": 0, "pss": 0}
        for pid in pids:
            rollup = Path(f"/proc/{pid}/smaps_rollup")
            rss, pss = _kib(rollup, "Rss:"), _kib(rollup, "Pss:")
            if rss is None or pss is None:
                continue
            kind = self.main if pid == self.pid else self.worker
            kind["rss"], kind["pss"] = max(kind["rss"], rss), max(kind["pss"], pss)
            total["rss"] += rss
            total["pss"] += pss
        self.samples += 1
        for key in total:
            self.total[key] = max(self.total[key], total[key])

    def peaks(self) -> dict[str, float] | None:
        """MB: main_rss, main_pss, worker_rss, worker_pss, total_rss, total_pss; None when /proc gave nothing."""
        if not self.main["pss"]:
            return None
        return {f"{kind}_{key}": value[key] / 1024 for kind, value in
                (("main", self.main), ("worker", self.worker), ("total", self.total)) for key in ("rss", "pss")}


def bench_mix(label: str, ids: list[str], roots: list[Path], work: Path, args: argparse.Namespace, extra: list[str]) -> list[dict]:
    hub = FakeHub(roots)
    hub._server.RequestHandlerClass = slow_handler(args.latency)
    for repo in hub.repos.values():  # the fake Hub's own work on each repo (card YAML, blob digests) done before any run
        repo.at(repo.sha).info(repo.sha, blobs=True, security=True)
    runs = []
    wanted = set(args.runs.split(","))
    with hub, contextlib.ExitStack() as stack:
        if args.cluster:
            from distributed import LocalCluster

            os.environ.update(HF_ENDPOINT=hub.endpoint, AUDITOR_GITHUB_API="http://127.0.0.1:9")  # what the workers inherit
            cluster = stack.enter_context(LocalCluster(n_workers=args.cluster, threads_per_worker=max(1, args.jobs // args.cluster),
                                                       processes=True, dashboard_address=None))
            extra = [*extra, "--scheduler", cluster.scheduler_address]
        if args.serial and "serial" in wanted:
            runs.append(run_cli(hub, ids[: args.serial], 1, work, f"{label}-serial", work / f"{label}-serial-cache", extra))
        if "no-cache" in wanted:
            runs.append(run_cli(hub, ids, args.jobs, work, f"{label}-no-cache", work / f"{label}-no-cache-cache", [*extra, "--no-cache"]))
        cold_cache = work / f"{label}-cold-cache"
        if wanted & {"cold", "warm"}:
            runs.append(run_cli(hub, ids, args.jobs, work, f"{label}-cold", cold_cache, extra))
        if "warm" in wanted:
            shutil.copytree(cold_cache, work / f"{label}-warm-cache")
            runs.append(run_cli(hub, ids, args.jobs, work, f"{label}-warm", work / f"{label}-warm-cache", extra))
    return runs


def print_table(title: str, runs: list[dict], latency: float) -> None:
    print(f"\n{title}")
    print(f"{'run':22} {'repos':>6} {'fail':>5} {'s':>7} {'repos/s':>8} {'req/repo':>9} {'CPU ms/repo':>11} {'hub ms':>7} "
          f"{'limit/s':>8} {'of limit':>8}   memory MB: CLI RSS/PSS, largest worker RSS/PSS, total RSS/PSS")
    for r in runs:
        assert r["lines"] == r["repos"] == r["distinct"], f"{r['name']}: {r['lines']} lines for {r['repos']} targets"
        per_repo = r["requests"] / r["repos"]
        limit = r["jobs"] / (per_repo * latency) if per_repo else float("inf")
        m = r["memory"]
        memory = (f"{m['main_rss']:>5.0f}/{m['main_pss']:<5.0f} {m['worker_rss']:>5.0f}/{m['worker_pss']:<5.0f} "
                  f"{m['total_rss']:>5.0f}/{m['total_pss']:<5.0f}" if m else
                  f"peak RSS {r['rss_mb']:.0f}, largest child {r['child_rss_mb']:.0f} (no /proc)")
        print(f"{r['name']:22} {r['repos']:>6} {r['failed']:>5} {r['seconds']:>7.1f} {r['rate']:>8.1f} {per_repo:>9.2f} "
              f"{r['cpu'] / r['repos'] * 1000:>9.1f}ms {r['hub_cpu'] / r['repos'] * 1000:>5.1f}ms {limit:>8.0f} "
              f"{r['rate'] / limit:>8.0%}   {memory}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mix", choices=("real", "synthetic", "both"), default="both")
    parser.add_argument("--repos", type=int, default=320)
    parser.add_argument("--serial", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--runs", default="serial,no-cache,cold,warm", help="which runs, comma-separated")
    parser.add_argument("--cli-args", default="", help="more options for every CLI run, e.g. '--processes 2'")
    parser.add_argument("--cluster", type=int, default=0, help="run the census on a LocalCluster of N worker processes")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    extra = shlex.split(args.cli_args)
    print(f"{args.latency * 1000:.0f} ms per request, --jobs {args.jobs}, {os.cpu_count()} cores"
          f"{', CLI options: ' + args.cli_args if extra else ''}; each run starts with its own empty cache "
          "(warm: a copy of the cold run's)")
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as scratch:
        work = Path(scratch)
        if args.mix in ("real", "both"):
            ids = real_mix(work / "real", args.corpus, args.repos)
            print_table(f"real-repo mix: {len(ids)} copies of {args.corpus}'s repos", bench_mix("real", ids, [work / "real"], work, args, extra), args.latency)
        if args.mix in ("synthetic", "both"):
            ids = synthetic_mix(work / "synthetic", args.repos)
            print_table(f"synthetic mix: {len(ids)} repos", bench_mix("synthetic", ids, [work / "synthetic"], work, args, extra), args.latency)
    print("\nlimit/s: jobs / (requests per repo x latency), what the latency alone allows; of limit: repos/s over it.")


if __name__ == "__main__":
    main()
