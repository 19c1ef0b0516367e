"""Work shared by concurrent targets: each key computed once, by the first thread that asks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any


class _Once:
    """A value computed by the first thread that asks, waited for by the others."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None


class OncePerKey:
    """Answers per key, each computed once however many threads ask at the same moment.

    At most about `keep` finished answers are kept, the least recently asked dropped first (a
    dropped key is computed again when asked): a census of millions of targets names ever more
    base models, datasets and links, and its memory must not grow with them."""

    def __init__(self, keep: int = 4096) -> None:
        self._lock = threading.Lock()
        self._table: dict[Hashable, _Once] = {}  # in the order last asked
        self._keep = max(1, keep)

    def get(self, key: Hashable, compute: Callable[[], Any], wait: Callable[[], float],
            abandon_on: type[BaseException] | tuple[type[BaseException], ...] = ()) -> Any:
        """compute() for the first thread that asks for `key`; the others wait up to wait() seconds
        for its value (None if it is not ready by then). A computation that raises `abandon_on`
        gives None and leaves the key free for a later asker."""
        with self._lock:
            existing = self._table.pop(key, None)
            once = self._table[key] = _Once() if existing is None else existing  # now the most recently asked
            if existing is None and len(self._table) > self._keep:
                self._drop_least_recent()
        if existing is not None:
            once.done.wait(timeout=max(0.0, wait()))
            return once.value
        try:
            once.value = compute()
        except abandon_on:
            with self._lock:
                del self._table[key]
        finally:
            once.done.set()
        return once.value

    def _drop_least_recent(self) -> None:
        """Down to three quarters of `keep`, dropping the least recently asked finished answers (under the lock)."""
        excess = len(self._table) - self._keep * 3 // 4
        for key in [key for key, once in self._table.items() if once.done.is_set()][:excess]:
            del self._table[key]
