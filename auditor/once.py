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
    """Answers per key, each computed once however many threads ask at the same moment."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._table: dict[Hashable, _Once] = {}

    def get(self, key: Hashable, compute: Callable[[], Any], wait: Callable[[], float],
            abandon_on: type[BaseException] | tuple[type[BaseException], ...] = ()) -> Any:
        """compute() for the first thread that asks for `key`; the others wait up to wait() seconds
        for its value (None if it is not ready by then). A computation that raises `abandon_on`
        gives None and leaves the key free for a later asker."""
        with self._lock:
            existing = self._table.get(key)
            once = self._table[key] = _Once() if existing is None else existing
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
