"""Progress on stderr: a tqdm bar on a terminal, plain periodic lines otherwise, nothing when quiet."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

_PLAIN_EVERY = 10.0  # seconds between plain lines


class Progress:
    """Counts finished targets; `retries()` reports the retries the Hub needed so far."""

    def __init__(self, total: int, quiet: bool = False, retries: Callable[[], int] = lambda: 0, stream: TextIO | None = None):
        self.total = total
        self.quiet = quiet
        self.retries = retries
        self.stream = stream or sys.stderr
        self.done = self.failed = 0
        self.started = self._last = time.monotonic()
        self._bar = None
        if not quiet and self.stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, file=self.stream, unit="repo", dynamic_ncols=True, leave=True)

    def finished(self, record: dict[str, Any]) -> None:
        """One more target done (failed when its record says so)."""
        self.done += 1
        if record.get("status") != "audited":
            self.failed += 1
            if not self.quiet:
                error = record.get("error") or {}
                self._say(f"failed: {record.get('target')}: {error.get('message', '')}")
        self.tick()

    def tick(self) -> None:
        """Refresh the bar, or write a plain line when the last one is old enough."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.set_postfix(failed=self.failed, retries=self.retries(), refresh=False)
            self._bar.n = self.done
            self._bar.refresh()
            return
        now = time.monotonic()
        if now - self._last >= _PLAIN_EVERY:
            self._last = now
            self._say(self._line(now))

    def close(self) -> None:
        """Stop the bar and print the final counts (unless quiet)."""
        if self._bar is not None:
            self._bar.close()
        if not self.quiet:
            self.stream.write(self._line(time.monotonic()) + "\n")
            self.stream.flush()

    def _line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        left = self.total - self.done
        eta = f", about {left / rate:.0f} s left" if rate > 0 and left > 0 else ""
        return (f"{self.done}/{self.total} targets done ({self.failed} failed, {self.retries()} retries), "
                f"{rate:.1f}/s{eta}")

    def _say(self, text: str) -> None:
        from auditor.report.escape import terminal

        text = terminal(text)  # target names and messages can carry what a repository supplied
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()
