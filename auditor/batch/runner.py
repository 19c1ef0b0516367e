"""Running many targets at once: a fixed number of worker threads, records in finishing order.

`audit(target)` must return a record and never raise (auditor.batch.work does so). The
runner adds what no single target can: a target still running well past its deadline is
given up (a failure line; its thread is abandoned and replaced), and after several targets
in a row could not connect to the Hub at all, no new target is started.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from auditor.report.jsonl import failed_record

UNREACHABLE_KIND = "HubUnreachable"


class Runner(Protocol):
    """Audits targets somewhere (threads, worker processes, a cluster) and yields each record once."""

    stopped_early: bool  # repeated connection failures stopped the run
    unreachable_limit: int

    def run(self, targets: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Records of `targets`, each exactly once, as they finish."""
        ...


class ConcurrentRunner:
    """Runs `audit` over targets on `jobs` daemon threads, at most `jobs` targets at a time."""

    def __init__(
        self,
        audit: Callable[[str], dict[str, Any]],
        jobs: int,
        give_up_after: float | None,
        unreachable_limit: int = 5,
        on_wait: Callable[[], None] = lambda: None,
    ):
        self.audit = audit
        self.jobs = max(1, jobs)
        self.give_up_after = give_up_after
        self.unreachable_limit = max(1, unreachable_limit)
        self.on_wait = on_wait
        self.stopped_early = False  # set when repeated connection failures stopped the run
        self._work: queue.Queue = queue.Queue()
        self._results: queue.Queue = queue.Queue()

    def run(self, targets: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Records of `targets`, each exactly once, as they finish."""
        pending = iter(enumerate(targets))
        in_flight: dict[int, tuple[str, float]] = {}
        abandoned: set[int] = set()
        unreachable_in_a_row = 0
        for _ in range(self.jobs):
            self._start_worker()
        try:
            self._feed(pending, in_flight)
            while in_flight:
                try:
                    index, record = self._results.get(timeout=0.2)
                except queue.Empty:
                    yield from self._give_up_overdue(in_flight, abandoned)
                    self._feed(pending, in_flight)
                    self.on_wait()
                    continue
                if index in abandoned:
                    abandoned.discard(index)
                    continue
                del in_flight[index]
                kind = (record.get("error") or {}).get("kind")
                unreachable_in_a_row = unreachable_in_a_row + 1 if kind == UNREACHABLE_KIND else 0
                if unreachable_in_a_row >= self.unreachable_limit:
                    self.stopped_early = True
                yield record
                self._feed(pending, in_flight)
        finally:
            for _ in range(self.jobs + len(abandoned)):
                self._work.put(None)

    def _feed(self, pending: Iterator[tuple[int, str]], in_flight: dict[int, tuple[str, float]]) -> None:
        while not self.stopped_early and len(in_flight) < self.jobs:
            item = next(pending, None)
            if item is None:
                return
            in_flight[item[0]] = (item[1], time.monotonic())
            self._work.put(item)

    def _give_up_overdue(self, in_flight: dict[int, tuple[str, float]], abandoned: set[int]) -> Iterator[dict[str, Any]]:
        if self.give_up_after is None:
            return
        now = time.monotonic()
        for index, (target, started) in list(in_flight.items()):
            if now - started > self.give_up_after:
                del in_flight[index]
                abandoned.add(index)
                self._start_worker()  # the stuck thread keeps its slot busy: another takes its place
                yield failed_record(target, 5, "DeadlineExceeded", f"still running {now - started:.0f} s after it started: given up")

    def _start_worker(self) -> None:
        threading.Thread(target=self._worker, name="audit-worker", daemon=True).start()

    def _worker(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            index, target = item
            self._results.put((index, self.audit(target)))
