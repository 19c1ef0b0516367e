"""A census on a Dask distributed cluster: `--scheduler tcp://host:8786` sends targets to its workers.

Each target is one task. A worker audits it with the same per-target work as a local run
(auditor.batch.engine), built once per worker process and shared by its threads: its own Hub
client, its own token (the worker's HF_TOKEN or stored login: the client's token is never sent
over the wire), its own cache directory, and its share of `--max-rate` (in proportion to its
threads). Records stream back as tasks finish into the census's stream, so the JSONL, CSV,
summary and `--resume` are those of a local run, and into the client's result cache, so a
later run on the client answers an unchanged repo from it whichever worker audited it. No more
targets are in flight than the cluster has threads, so a census of millions of targets keeps a
bounded memory on the client, and each target starts when it is sent: a target not answered
within the same time as a local run allows (`--target-timeout` x 1.5 + 5 s) is a failure
line, the census goes on, and the task's late answer, if it ever comes, is ignored. (A worker
ends a target at its own deadline; this covers a worker stuck past it, or gone quiet.)

A worker that dies loses no target: the scheduler runs its tasks again elsewhere; a task whose
workers kept dying is the target's failure line. Workers sharing a token share its backoff:
a rate limit one meets is kept in the scheduler's metadata under a hash of the token, which
every worker sharing it reads once a second.

Needs the `distributed` package (the `[cluster]` extra) on the client and every worker.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from auditor.batch.options import BatchOptions
from auditor.batch.runner import UNREACHABLE_KIND
from auditor.errors import UsageError
from auditor.model import TargetKind
from auditor.report.jsonl import failed_record

if TYPE_CHECKING:
    from auditor.batch.cache import ResultCache
    from auditor.batch.work import TargetWork

_POLL = 1.0  # seconds between a worker's reads of its token's shared pause
_CONNECT_TIMEOUT = "20s"
_works: dict[str, TargetWork] = {}  # per worker process: the work of each run it takes part in
_works_lock = threading.Lock()


def audit_on_worker(text: str, run: str, options: BatchOptions, parse_target: Callable[[str, str | None], Any],
                    cluster_threads: int) -> dict[str, Any]:
    """The task: audit `text` on this worker, with this run's work (built by the run's first task here)."""
    with _works_lock:
        work = _works.get(run)
        if work is None:
            work = _works[run] = _worker_work(options, parse_target, cluster_threads)
    return work(text)


def _worker_work(options: BatchOptions, parse_target: Callable[[str, str | None], Any], cluster_threads: int) -> TargetWork:
    from distributed import get_client, get_worker

    from auditor.batch.engine import census_work

    threads = max(1, get_worker().state.nthreads)
    rate = options.max_rate * threads / max(cluster_threads, threads) if options.max_rate else None
    shared = _SharedPause(get_client(), ["audit-model-pause", _token_key()])
    work, _ = census_work(options, parse_target, threads, rate, on_pause=shared.post, heard=shared.latest)
    return work


def _token_key() -> str:
    """Which budget this worker spends: a hash of its Hub token (never the token itself)."""
    from huggingface_hub import get_token

    return hashlib.sha256((get_token() or "anonymous").encode()).hexdigest()[:16]


class _SharedPause:
    """A token's pause as the cluster knows it: kept in the scheduler's metadata, read back once a second."""

    def __init__(self, client: Any, key: list[str]):
        self.client = client
        self.key = key
        self._latest = 0.0
        threading.Thread(target=self._follow, name="audit-shared-pause", daemon=True).start()

    def post(self, until: float) -> None:
        """Tell every worker sharing the token: no request before `until` (wall-clock time)."""
        self._latest = max(self._latest, until)
        try:
            self.client.set_metadata(self.key, self._latest)
        except Exception:  # noqa: BLE001 - a pause not shared still slows this worker
            pass

    def latest(self) -> float:
        """The latest pause heard of, a wall-clock time (0 when none)."""
        return self._latest

    def _follow(self) -> None:
        while True:
            try:
                value = self.client.get_metadata(self.key, default=0.0)
                self._latest = max(self._latest, float(value))
            except Exception:  # noqa: BLE001 - not set yet, or the scheduler is away for a moment
                pass
            time.sleep(_POLL)


class ClusterRunner:
    """Runs a census's targets as tasks on the Dask cluster whose scheduler is at `options.scheduler`.

    `give_up_after`: seconds after which a target the cluster has not answered is a failure
    record (as on the local paths); `cache`: the client's result cache, which keeps every
    record the cluster returns, so a later run here answers an unchanged repo from it."""

    def __init__(self, options: BatchOptions, parse_target: Callable[[str, str | None], Any], unreachable_limit: int = 5,
                 on_wait: Callable[[], None] = lambda: None, give_up_after: float | None = None,
                 cache: ResultCache | None = None):
        self.options = options
        self.parse_target = parse_target
        self.unreachable_limit = max(1, unreachable_limit)
        self.on_wait = on_wait
        self.give_up_after = give_up_after
        self.cache = cache
        self.stopped_early = False

    def run(self, targets: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Records of `targets`, each exactly once, as they finish on the cluster (or are given up)."""
        try:
            from distributed import Client
        except ImportError as error:
            raise UsageError("--scheduler needs the distributed package: pip install 'audit-model[cluster]'") from error
        try:
            client = Client(self.options.scheduler, timeout=_CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as error:
            raise UsageError(f"--scheduler: cannot connect to {self.options.scheduler}: {error}") from error
        try:
            yield from self._run(client, targets)
        finally:
            client.close()

    def _run(self, client: Any, targets: Iterable[str]) -> Iterator[dict[str, Any]]:
        from distributed import wait

        threads = sum(worker.get("nthreads", 0) for worker in client.scheduler_info()["workers"].values()) or 1
        # each worker audits with its own token, Hub endpoint and cache directory (the client's
        # --cache-dir is a path on the client); no scheduler inside the workers
        worker_options = replace(self.options, token=None, scheduler=None, processes=1, cache_dir=None)
        run = uuid.uuid4().hex
        pending = iter(enumerate(targets))
        in_flight: dict[Any, _Task] = {}
        abandoned: dict[Any, Any] = {}  # given up, maybe still running on a worker: its thread is not free
        unreachable_in_a_row = 0

        def feed() -> None:
            # no more in flight than the cluster has free threads, so a task starts when it is
            # sent and its time counts from then, as a target's does on the local paths
            while not self.stopped_early and len(in_flight) < max(1, threads - len(abandoned)):
                item = next(pending, None)
                if item is None:
                    return
                index, text = item
                future = client.submit(audit_on_worker, text, run, worker_options, self.parse_target, threads,
                                       key=f"audit-{run}-{index}", pure=False)
                in_flight[future.key] = _Task(future, text, time.monotonic())

        feed()
        while in_flight:
            try:
                done = wait([task.future for task in [*in_flight.values(), *abandoned.values()]], timeout=_POLL / 5,
                            return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            for future in done:
                if abandoned.pop(future.key, None) is not None:
                    future.release()  # the late answer of a target given up: its line is written already
                    continue
                task = in_flight.pop(future.key, None)
                if task is None:
                    continue
                record = self._record(task)
                kind = (record.get("error") or {}).get("kind")
                unreachable_in_a_row = unreachable_in_a_row + 1 if kind == UNREACHABLE_KIND else 0
                if unreachable_in_a_row >= self.unreachable_limit:
                    self.stopped_early = True
                yield record
            if not done:
                yield from self._overdue(in_flight, abandoned)
                self.on_wait()
            feed()
        for future in abandoned.values():
            future.release()

    def _record(self, task: _Task) -> dict[str, Any]:
        """The record the cluster returned for a finished task, kept in the client's cache."""
        try:
            record: dict[str, Any] = task.future.result()
        except Exception as error:  # noqa: BLE001 - a task the cluster could not finish fails its own target
            record = failed_record(task.text, 70, "WorkerLost", f"the cluster could not audit it: {type(error).__name__}: {error}")
        task.future.release()
        if self.cache is not None and record.get("status") == "audited":
            self._keep(task.text, record)
        return record

    def _keep(self, text: str, record: dict[str, Any]) -> None:
        """Store a Hub target's record in the client's result cache, keyed as a local run keys it."""
        try:
            target = self.parse_target(text, None)
        except Exception:  # noqa: BLE001 - audited on the worker, so it parses; a target that does not is not cached
            return
        sha = (record.get("report") or {}).get("sha")
        if self.cache is not None and target.kind is TargetKind.HUB and target.repo_id and isinstance(sha, str):
            self.cache.put(target.repo_id, sha, record)

    def _overdue(self, in_flight: dict[Any, _Task], abandoned: dict[Any, Any]) -> Iterator[dict[str, Any]]:
        """Targets the cluster has not answered within `give_up_after`: failure records, their tasks abandoned."""
        if self.give_up_after is None:
            return
        now = time.monotonic()
        for key, task in list(in_flight.items()):
            if now - task.sent > self.give_up_after:
                del in_flight[key]
                abandoned[key] = task.future
                yield failed_record(task.text, 5, "DeadlineExceeded",
                                    f"no answer from the cluster {now - task.sent:.0f} s after it was sent: given up "
                                    f"(a late answer is ignored)")


@dataclass
class _Task:
    """A target sent to the cluster: its future, its text, and when it was sent (monotonic)."""

    future: Any
    text: str
    sent: float
