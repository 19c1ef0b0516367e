"""A census past the interpreter lock: targets audited in worker processes, records streamed back.

The pipeline is CPU work under one interpreter lock per process, so one process uses one core
however many threads fetch for it. `ProcessRunner` starts `processes` workers (spawned, so
each starts clean), each auditing up to its share of `--jobs` targets at once on threads of its
own, with its own Hub client and its own share of `--max-rate`; a rate limit one worker meets
pauses them all (one backoff per token). Each worker has a pipe of its own to the parent (no
lock shared between processes, so a worker killed mid-message blocks no other). Workers share the run's cache
directory (results, texts by blob, identifications) through the disk. The parent hands out
targets, keeps at most `jobs` in flight, and yields each record once, as it finishes: the
stream, cache, summary and `--resume` downstream are those of an in-process run.

A worker process that dies takes only the targets it was running: each is handed out once
more to a live worker, and is a failure line if that one dies too. A target still running
well past its deadline is given up, as in the threaded runner.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from auditor.batch.options import BatchOptions
from auditor.batch.runner import UNREACHABLE_KIND
from auditor.report.jsonl import failed_record

_TRIES = 2  # a target whose worker process died is handed out once more
_M_ARENA_MAX = -8  # mallopt's parameter number (glibc malloc.h)
_INDEX_WAIT = 60.0  # seconds a worker waits for the licence index being prepared before it builds its own


def _prepare_licence_index(done: Any) -> None:
    """A helper process: the licence knowledge base and index built and written to the disk cache, then gone.

    Built in each worker, they cost each worker a second of CPU and leave it some 30 MB of
    heap the building fragmented; loaded from the disk, they cost neither."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        from auditor.identify import load_knowledge_base
        from auditor.identify.engine import index_for

        index_for(load_knowledge_base())
    finally:
        done.set()


def _few_malloc_arenas() -> None:
    """glibc gives each thread that allocates an arena of its own, up to eight per core: a worker's
    threads (`--jobs` of them, and as many reading files) then each hold partly used memory. Two
    arenas serve them as fast here, where the interpreter lock lets one thread run at a time."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        pass  # not glibc: its allocator's own way


def _worker_main(options: BatchOptions, parse_target: Callable[[str, str | None], Any], threads: int,
                 max_rate: float | None, paused_until: Any, index_ready: Any, conn: Connection) -> None:
    """A worker process: `threads` threads auditing the targets the parent sends down `conn`."""
    import signal

    from auditor.batch.engine import census_work

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent ends the run, and us
    _few_malloc_arenas()

    def pause(until: float) -> None:
        paused_until.value = max(paused_until.value, until)

    work, hub = census_work(options, parse_target, threads, max_rate, on_pause=pause, heard=lambda: paused_until.value)
    index_ready.wait(_INDEX_WAIT)  # then the knowledge base is loaded from the disk (else, past the wait, built here)
    inbox: queue.Queue = queue.Queue()
    sending = threading.Lock()

    def loop() -> None:
        while (item := inbox.get()) is not None:
            index, text = item
            record = work(text)
            with sending:
                conn.send((index, record))

    pool = [threading.Thread(target=loop, name="audit-worker", daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            item = None
        if item is None:
            break
        inbox.put(item)
    for _ in pool:
        inbox.put(None)
    for thread in pool:
        thread.join()
    hub.close()


@dataclass
class _Worker:
    """A worker process, the parent's end of its pipe, and the targets it holds."""

    process: Any
    conn: Connection
    holding: set[int] = field(default_factory=set)


class ProcessRunner:
    """Runs a census's targets in `processes` worker processes, at most `jobs` targets at a time."""

    def __init__(self, options: BatchOptions, parse_target: Callable[[str, str | None], Any], processes: int,
                 give_up_after: float | None, unreachable_limit: int = 5, on_wait: Callable[[], None] = lambda: None):
        self.options = options
        self.parse_target = parse_target
        self.processes = max(1, processes)
        self.jobs = max(self.processes, options.jobs)
        self.threads = max(1, self.jobs // self.processes)
        self.give_up_after = give_up_after
        self.unreachable_limit = max(1, unreachable_limit)
        self.on_wait = on_wait
        self.stopped_early = False
        self._context = multiprocessing.get_context("spawn")
        # the token's backoff, shared by every worker; lock-free, so a worker killed mid-write blocks no one
        self._paused_until: Any = self._context.RawValue("d", 0.0)
        self._index_ready: Any = self._context.Event()
        self._workers: list[_Worker] = []

    def run(self, targets: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Records of `targets`, each exactly once, as they finish."""
        texts: dict[int, str] = {}
        pending = iter(enumerate(targets))
        in_flight: dict[int, float] = {}  # index -> when handed out
        tries: dict[int, int] = {}
        unreachable_in_a_row = 0
        self._prepare_index()
        for _ in range(self.processes):
            self._start_worker()
        try:
            self._feed(pending, texts, in_flight, tries)
            while in_flight:
                answers = self._answers(0.2)
                yield from self._lost(texts, in_flight, tries)
                if not answers:
                    yield from self._overdue(texts, in_flight)
                    self.on_wait()
                for index, record in answers:
                    if index not in in_flight:
                        continue  # given up: answered already
                    del in_flight[index]
                    texts.pop(index, None)
                    tries.pop(index, None)  # nothing kept per finished target: a census of millions holds what is in flight
                    error_kind = (record.get("error") or {}).get("kind")
                    unreachable_in_a_row = unreachable_in_a_row + 1 if error_kind == UNREACHABLE_KIND else 0
                    if unreachable_in_a_row >= self.unreachable_limit:
                        self.stopped_early = True
                    yield record
                self._feed(pending, texts, in_flight, tries)
        finally:
            self._stop()

    def _answers(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        """The records the workers sent, waiting up to `timeout` seconds for the first."""
        by_conn = {worker.conn: worker for worker in self._workers}
        answers = []
        for conn in wait(list(by_conn), timeout):
            worker = by_conn[conn]  # type: ignore[index]
            try:
                while worker.conn.poll():
                    index, record = worker.conn.recv()
                    worker.holding.discard(index)
                    answers.append((index, record))
            except (EOFError, OSError):
                pass  # the worker died: _lost hands its targets out again
        return answers

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
        worker = min(self._workers, key=lambda w: len(w.holding))  # the least busy
        in_flight[index] = time.monotonic()
        tries[index] = tries.get(index, 0) + 1
        worker.holding.add(index)
        try:
            worker.conn.send((index, text))
        except (OSError, ValueError):
            pass  # its worker just died: _lost hands it out again


    def _lost(self, texts: dict[int, str], in_flight: dict[int, float], tries: dict[int, int]) -> Iterator[dict[str, Any]]:
        """The targets of worker processes that died: handed out again, or failures after their last try."""
        dead = [worker for worker in self._workers if not worker.process.is_alive()]
        if not dead:
            return
        self._workers = [worker for worker in self._workers if worker.process.is_alive()]
        for worker in dead:
            worker.conn.close()
            self._start_worker()
        for worker in dead:
            for index in sorted(worker.holding):
                if index not in in_flight:
                    continue
                if tries.get(index, 0) < _TRIES:
                    self._hand_out(index, texts[index], in_flight, tries)
                    continue
                del in_flight[index]
                yield failed_record(texts.pop(index), 70, "WorkerLost", f"the worker process auditing it died "
                                    f"(exit code {worker.process.exitcode}), {tries.pop(index)} times")

    def _overdue(self, texts: dict[int, str], in_flight: dict[int, float]) -> Iterator[dict[str, Any]]:
        if self.give_up_after is None:
            return
        now = time.monotonic()
        for index, started in list(in_flight.items()):
            if now - started > self.give_up_after:
                del in_flight[index]
                yield failed_record(texts.pop(index), 5, "DeadlineExceeded",
                                    f"still running {now - started:.0f} s after it started: given up")

    def _prepare_index(self) -> None:
        """The licence index built once, by a helper process, for the workers to load, unless the disk holds it already."""
        from auditor.identify.engine import index_on_disk

        if index_on_disk():
            self._index_ready.set()
            return
        self._context.Process(target=_prepare_licence_index, name="licence-index", args=(self._index_ready,), daemon=True).start()

    def _start_worker(self) -> None:
        mine, theirs = self._context.Pipe()
        process = self._context.Process(target=_worker_main, name="audit-worker",
                                        args=(self.options, self.parse_target, self.threads, self._max_rate(),
                                              self._paused_until, self._index_ready, theirs), daemon=True)
        process.start()
        theirs.close()
        self._workers.append(_Worker(process, mine))

    def _max_rate(self) -> float | None:
        """Each worker's share of the run's --max-rate."""
        return self.options.max_rate / self.processes if self.options.max_rate else None

    def _stop(self) -> None:
        """Every worker told to stop once its threads finish; any still running shortly after is ended."""
        for worker in self._workers:
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 5
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.terminate()
            worker.conn.close()
