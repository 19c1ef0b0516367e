"""Rate limits as one budget: a request rate cap for the run, and one backoff for a shared token.

The Hub limits requests per token. When any request of a run is answered 429 (or told to
`Retry-After`), every request under that token should slow down, not only the one that was
refused: `RateBudget.slow_down(seconds)` pauses every request made through the budget until
then, and `wait_turn()` is called before each request. A budget can also cap the run at
`max_rate` requests per second (a token bucket of one second's burst). Workers of a census in
other processes or on other machines pass a pause on through `on_pause`, and hear of one
through `heard` (or `pause_until`). Seconds waited are added up for the census summary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateBudget:
    """Requests per second for everything sharing this budget, and a pause all of them honour."""

    def __init__(self, max_rate: float | None = None, on_pause: Callable[[float], None] | None = None,
                 heard: Callable[[], float] | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self.max_rate = max_rate if max_rate and max_rate > 0 else None
        self.on_pause = on_pause  # tells the other workers sharing the token of a pause
        self.heard = heard  # the latest pause the other workers told of (a wall-clock time)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._paused_until = 0.0  # wall-clock time (shared between machines): no request before it
        self._next_slot = 0.0  # the earliest time the rate cap lets the next request go
        self.waited = 0.0  # seconds requests spent waiting on the cap or a pause, over the run

    def wait_turn(self) -> float:
        """Wait until this request may go (a pause, then the rate cap); the seconds waited."""
        elsewhere = self.heard() if self.heard is not None else 0.0
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until, elsewhere)
            if self.max_rate is not None:
                start = max(start, self._next_slot)
                self._next_slot = start + 1.0 / self.max_rate
            wait = start - now
            self.waited += max(0.0, wait)
        if wait > 0:
            self._sleep(wait)
        return max(0.0, wait)

    def slow_down(self, seconds: float) -> None:
        """A limit was hit: no request through this budget starts within `seconds` from now."""
        if seconds <= 0:
            return
        until = self._clock() + seconds
        if self.pause_until(until) and self.on_pause is not None:
            self.on_pause(until)

    def pause_until(self, until: float) -> bool:
        """Pause until the wall-clock time `until` (a pause heard from another worker); False if already later."""
        with self._lock:
            if until <= self._paused_until:
                return False
            self._paused_until = until
            return True
