"""A census past the interpreter lock: targets audited in worker processes, records streamed back.

The pipeline is CPU work under one interpreter lock per process, so one process uses one core
however many threads fetch for it. `ProcessRunner` starts `processes` workers (spawned, so
each starts clean), each auditing up to its share of `--jobs` targets at once on threads of its
own, with its own Hub client and its own share of `--max-rate`; a rate limit one worker meets
pauses them all (one backoff per token). Workers share the run's cache
directory (results, texts by blob, identifications) through the disk. The parent hands out
targets, keeps at most `jobs` in flight, and yields each record once, as it finishes: the
stream, cache, summary and `--resume` downstream are those of an in-process run.

A worker process that dies takes only the targets it was running: each is handed out once
more to a live worker, and is a failure line if that one dies too. A target still running
well past its deadline is given up, as in the threaded runner.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from auditor.batch.options import BatchOptions
from auditor.batch.runner import UNREACHABLE_KIND
from auditor.report.jsonl import failed_record

_TRIES = 2  # a target whose worker process died is handed out once more


def _worker_main(options: BatchOptions, parse_target: Callable[[str, str | None], Any], threads: int,
                 max_rate: float | None, paused_until: Any, tasks: Any, results: Any) -> None:
    """A worker process: `threads` threads auditing the targets they take from `tasks`."""
    from auditor.batch.engine import census_work

    def pause(until: float) -> None:
        with paused_until.get_lock():
            paused_until.value = max(paused_until.value, until)

    work, hub = census_work(options, parse_target, threads, max_rate, on_pause=pause, heard=lambda: paused_until.value)
    pid = os.getpid()

    def loop() -> None:
        while True:
            item = tasks.get()
            if item is None:
                return
            index, text = item
            results.put(("started", index, pid))
            results.put(("done", index, work(text)))

    pool = [threading.Thread(target=loop, name="audit-worker", daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    hub.close()


class ProcessRunner:
    """Runs a census's targets in `processes` worker processes, at most `jobs` targets at a time."""

    def __init__(self, options: BatchOptions, parse_target: Callable[[str, str | None], Any], processes: int,
                 give_up_after: float | None, unreachable_limit: int = 5, on_wait: Callable[[], None] = lambda: None):
        self.options = options
        self.parse_target = parse_target
        self.processes = max(1, processes)
        self.jobs = max(self.processes, options.jobs)
        self.give_up_after = give_up_after
        self.unreachable_limit = max(1, unreachable_limit)
        self.on_wait = on_wait
        self.stopped_early = False
        self._context = multiprocessing.get_context("spawn")
        self._tasks: Any = self._context.Queue()
        self._results: Any = self._context.Queue()
        self._paused_until: Any = self._context.Value("d", 0.0)  # the token's backoff, shared by every worker
        self._workers: list[Any] = []

    def run(self, targets: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Records of `targets`, each exactly once, as they finish."""
        texts: dict[int, str] = {}
        pending = iter(enumerate(targets))
        in_flight: dict[int, float] = {}  # index -> when handed out
        running_on: dict[int, int] = {}  # index -> pid of the worker that took it
        tries: dict[int, int] = {}
        unreachable_in_a_row = 0
        for _ in range(self.processes):
            self._start_worker()
        try:
            self._feed(pending, texts, in_flight, tries)
            while in_flight:
                try:
                    message = self._results.get(timeout=0.2)
                except queue.Empty:
                    yield from self._lost(texts, in_flight, running_on, tries)
                    yield from self._overdue(texts, in_flight)
                    self._feed(pending, texts, in_flight, tries)
                    self.on_wait()
                    continue
                kind, index, payload = message
                if index not in in_flight:
                    continue  # given up, or its worker counted as dead: answered already
                if kind == "started":
                    running_on[index] = payload
                    continue
                del in_flight[index]
                running_on.pop(index, None)
                texts.pop(index, None)
                error_kind = (payload.get("error") or {}).get("kind")
                unreachable_in_a_row = unreachable_in_a_row + 1 if error_kind == UNREACHABLE_KIND else 0
                if unreachable_in_a_row >= self.unreachable_limit:
                    self.stopped_early = True
                yield payload
                self._feed(pending, texts, in_flight, tries)
        finally:
            self._stop()

    def _feed(self, pending: Iterator[tuple[int, str]], texts: dict[int, str], in_flight: dict[int, float],
              tries: dict[int, int]) -> None:
        while not self.stopped_early and len(in_flight) < self.jobs:
            item = next(pending, None)
            if item is None:
                return
            index, text = item
            texts[index] = text
            self._hand_out(index, text, in_flight, tries)

    def _hand_out(self, index: int, text: str, in_flight: dict[int, float], tries: dict[int, int]) -> None:
        in_flight[index] = time.monotonic()
        tries[index] = tries.get(index, 0) + 1
        self._tasks.put((index, text))

    def _lost(self, texts: dict[int, str], in_flight: dict[int, float], running_on: dict[int, int],
              tries: dict[int, int]) -> Iterator[dict[str, Any]]:
        """The targets of worker processes that died: handed out again, or failures after their last try."""
        dead = {worker.pid: worker.exitcode for worker in self._workers if not worker.is_alive()}
        if not dead:
            return
        self._workers = [worker for worker in self._workers if worker.is_alive()]
        for _ in dead:
            self._start_worker()
        for index, pid in list(running_on.items()):
            if pid not in dead or index not in in_flight:
                continue
            del running_on[index]
            if tries.get(index, 0) < _TRIES:
                self._hand_out(index, texts[index], in_flight, tries)
                continue
            del in_flight[index]
            yield failed_record(texts.pop(index), 70, "WorkerLost",
                                f"the worker process auditing it died (exit code {dead[pid]}), {tries[index]} times")

    def _overdue(self, texts: dict[int, str], in_flight: dict[int, float]) -> Iterator[dict[str, Any]]:
        if self.give_up_after is None:
            return
        now = time.monotonic()
        for index, started in list(in_flight.items()):
            if now - started > self.give_up_after:
                del in_flight[index]
                yield failed_record(texts.pop(index), 5, "DeadlineExceeded",
                                    f"still running {now - started:.0f} s after it started: given up")

    def _start_worker(self) -> None:
        threads = max(1, self.jobs // self.processes)
        worker = self._context.Process(target=_worker_main, name="audit-worker",
                                       args=(self.options, self.parse_target, threads, self._max_rate(), self._paused_until,
                                             self._tasks, self._results),
                                       daemon=True)
        worker.start()
        self._workers.append(worker)

    def _max_rate(self) -> float | None:
        """Each worker's share of the run's --max-rate."""
        return self.options.max_rate / self.processes if self.options.max_rate else None

    def _stop(self) -> None:
        """Every worker told to stop once its threads finish; any still running shortly after is ended."""
        for _ in range(len(self._workers) * max(1, self.jobs // self.processes)):
            self._tasks.put(None)
        deadline = time.monotonic() + 5
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                worker.terminate()
        self._tasks.cancel_join_thread()
        self._results.cancel_join_thread()
