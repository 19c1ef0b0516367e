"""The HTTP layer under the Hub source: huggingface_hub's session, a deadline per target,
retries with jitter, a bounded `Retry-After`, and bodies capped by the bytes received.

Every request has a connect and a read timeout, and gives up at the deadline of the
`request_scope` it runs in (one per target in a batch): a server trickling one byte at a
time never ends a read timeout, so the whole request has a limit of its own too.

Limits come from the constructor, else from the environment (AUDITOR_HTTP_CONNECT_TIMEOUT,
AUDITOR_HTTP_READ_TIMEOUT, AUDITOR_HTTP_REQUEST_TIMEOUT, AUDITOR_HTTP_RETRIES,
AUDITOR_HTTP_RETRY_WAIT, AUDITOR_RETRY_AFTER_CAP; seconds), else from the defaults below.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
from huggingface_hub.utils import get_session

from auditor.bounded import BudgetExceeded, load_json
from auditor.errors import AuditorError, DeadlineExceeded, HubUnreachable, SourceUnavailable
from auditor.sources.budget import RateBudget

Params = Mapping[str, str] | tuple[tuple[str, str], ...] | None  # a request's query parameters

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_ERROR_BODY_CAP = 64 << 10
_ERROR_DEPTH = 64  # an error answer is {"error": "..."}: deeper nesting is not one
_MAX_WAIT = 60.0  # backoff between attempts never grows beyond this


def env_number(name: str, default: float) -> float:
    """A number from the environment, `default` when unset or not a number."""
    value = os.environ.get(name)
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


@dataclass
class RequestScope:
    """What the requests of one target share: their deadline, and the retries and notes they gave."""

    deadline: float | None = None  # time.monotonic() value; None: no deadline
    retries: int = 0
    notes: list[str] = field(default_factory=list)
    waited: float = 0.0  # seconds its requests waited on rate limits (the cap, a shared pause)

    def remaining(self) -> float | None:
        """Seconds left before the target's deadline; None without one."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def check(self, what: str) -> None:
        """Raise DeadlineExceeded when the target's time has run out."""
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded(f"{what}: the target's time ran out (--target-timeout)")

    def note(self, text: str) -> None:
        """Keep a note for the target's record, once."""
        if text not in self.notes:
            self.notes.append(text)


_local = threading.local()


def current_scope() -> RequestScope:
    """The scope of the running thread's target (a scope without deadline outside any)."""
    scope = getattr(_local, "scope", None)
    return scope if scope is not None else RequestScope()


def in_scope() -> bool:
    """Whether the running thread is inside a `request_scope`."""
    return getattr(_local, "scope", None) is not None


@contextmanager
def request_scope(seconds: float | None = None) -> Iterator[RequestScope]:
    """Every Hub request this thread makes inside gives up `seconds` from now (None: never)."""
    previous = getattr(_local, "scope", None)
    scope = RequestScope(deadline=time.monotonic() + seconds if seconds else None)
    _local.scope = scope
    try:
        yield scope
    finally:
        _local.scope = previous


class Stalled(Exception):
    """A body that kept trickling past the request's time limit."""


class Malformed(Exception):
    """A 2xx answer whose body is not what the API promises."""


@dataclass
class Answer:
    """One HTTP answer, its body capped; what the caller's parser made of it when 2xx."""

    response: httpx2.Response  # carries the (capped) body as its content
    truncated: bool = False  # the body went on beyond the cap
    parsed: Any = None  # what the caller's parser made of a 2xx body

    @property
    def status(self) -> int:
        """The answer's HTTP status."""
        return self.response.status_code


class HttpClient:
    """Requests (GETs, and read-only POSTs) against one endpoint with timeouts, retries and the running target's deadline.

    `timeout` is the connect and read timeout of one request, `request_timeout` the limit on
    a whole request (body included); `retries` more attempts follow a connection error, a
    reset, a timeout, a 5xx or a 429, `retry_wait` seconds apart doubling with jitter, or as
    long as `Retry-After` says up to `retry_after_cap`.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        timeout: float | None = None,
        retries: int | None = None,
        retry_wait: float | None = None,
        request_timeout: float | None = None,
        retry_after_cap: float | None = None,
    ):
        self.endpoint = endpoint
        self.connect_timeout = timeout if timeout is not None else env_number("AUDITOR_HTTP_CONNECT_TIMEOUT", 10.0)
        self.timeout = timeout if timeout is not None else env_number("AUDITOR_HTTP_READ_TIMEOUT", 30.0)
        self.request_timeout = request_timeout if request_timeout is not None else env_number("AUDITOR_HTTP_REQUEST_TIMEOUT", 60.0)
        self.retries = max(0, int(retries if retries is not None else env_number("AUDITOR_HTTP_RETRIES", 2)))
        self.retry_wait = max(0.0, retry_wait if retry_wait is not None else env_number("AUDITOR_HTTP_RETRY_WAIT", 1.0))
        self.retry_after_cap = retry_after_cap if retry_after_cap is not None else env_number("AUDITOR_RETRY_AFTER_CAP", 30.0)
        self._lock = threading.Lock()
        self.retries_total = 0  # over the whole run, for progress displays
        self.budget: RateBudget | None = None  # the run's rate cap and shared backoff, when it has one

    def get(self, url: str, params: Params, headers: dict[str, str], max_bytes: int, scope: RequestScope, what: str, *,
            parse: Callable[[httpx2.Response], Any] | None = None, retries: int | None = None,
            retry_refused: bool = True) -> Answer:
        """GET with retries; returns the last answer (an error status included) with its body capped at `max_bytes`.

        `retry_refused=False`: a connection that cannot be made at all (offline, refused) is not
        asked again, for look-ups that only enrich a report."""
        return self.request("GET", url, params, headers, max_bytes, scope, what, parse=parse, retries=retries,
                            retry_refused=retry_refused)

    def request(self, method: str, url: str, params: Params, headers: dict[str, str], max_bytes: int, scope: RequestScope,
                what: str, *, form: Mapping[str, Any] | None = None, parse: Callable[[httpx2.Response], Any] | None = None,
                retries: int | None = None, retry_refused: bool = True) -> Answer:
        """A request of any method (a read-only POST such as paths-info, with its `form` body) with GET's retries and caps."""
        retries = self.retries if retries is None else retries
        attempt = 0
        while True:
            scope.check(what)
            if self.budget is not None:
                scope.waited += self.budget.wait_turn()
            try:
                answer = self._once(method, url, params, headers, max_bytes, scope, form)
                if answer.status not in RETRY_STATUS:
                    if parse is not None and answer.status < 300:
                        if answer.truncated:
                            raise Malformed(f"larger than {max_bytes} bytes")
                        answer.parsed = parse(answer.response)
                    return answer
                failure: Exception | Answer = answer
            except (httpx2.RequestError, Stalled, Malformed) as error:  # a redirect loop, a body that fails to decode included
                failure = error
            if attempt >= retries or isinstance(failure, httpx2.TooManyRedirects) or (not retry_refused and isinstance(failure, httpx2.ConnectError)):
                raise self._gave_up(failure, what, attempt + 1)
            wait = self._backoff(attempt)
            if isinstance(failure, Answer):
                asked = _retry_after(failure.response.headers)
                if asked is not None:
                    wait = min(asked, self.retry_after_cap)
                    if asked > self.retry_after_cap:
                        scope.note(f"{what}: the Hub asked to retry after {asked:g} s; waited {wait:g} s (the cap)")
            remaining = scope.remaining()
            if remaining is not None and wait >= remaining:
                raise DeadlineExceeded(f"{what}: {_describe(failure)}; the target's time ran out before the next attempt")
            scope.retries += 1
            with self._lock:
                self.retries_total += 1
            if self.budget is not None and _rate_limited(failure):
                self.budget.slow_down(wait)  # every request under this token waits, this one at its next turn
            elif wait > 0:
                time.sleep(wait)
            attempt += 1

    def _once(self, method: str, url: str, params: Params, headers: dict[str, str], max_bytes: int, scope: RequestScope,
              form: Mapping[str, Any] | None = None) -> Answer:
        remaining = scope.remaining()
        limit = self.request_timeout if remaining is None else max(0.01, min(self.request_timeout, remaining))
        stop = time.monotonic() + limit
        timeout = httpx2.Timeout(min(self.timeout, limit), connect=min(self.connect_timeout, limit))
        with get_session().stream(method, url, params=params, headers=headers, timeout=timeout, data=form) as response:
            cap = max_bytes if response.status_code < 400 else _ERROR_BODY_CAP
            body = bytearray()
            truncated = False
            for chunk in response.iter_raw() if headers.get("Accept-Encoding") == "identity" else response.iter_bytes():
                body += chunk
                if len(body) > cap:
                    truncated = True
                    break
                if time.monotonic() > stop:
                    raise Stalled(f"no complete answer within {limit:g} s")
            content = bytes(body[:cap]) if response.status_code < 400 else _error_body(bytes(body[:cap]))
            copy = httpx2.Response(response.status_code, headers=response.headers, content=content, request=response.request)
        return Answer(copy, truncated)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so concurrent targets do not retry in step."""
        return min(_MAX_WAIT, self.retry_wait * 2**attempt) * random.uniform(0.5, 1.0)

    def _gave_up(self, failure: Exception | Answer, what: str, attempts: int) -> AuditorError | Exception:
        """The error for a request that failed on every attempt."""
        tries = f"after {attempts} attempt{'s' if attempts > 1 else ''}"
        if isinstance(failure, Answer):
            asked = _retry_after(failure.response.headers)
            after = f"; it asked to retry after {asked:g} s (waits are capped at {self.retry_after_cap:g} s)" if asked else ""
            return SourceUnavailable(f"{self.endpoint} answered {failure.status} for {what}, {tries}{after}")
        if isinstance(failure, httpx2.ConnectError):
            return HubUnreachable(f"could not connect to {self.endpoint} for {what}, {tries}: {first_line(failure)}")
        if isinstance(failure, httpx2.TooManyRedirects):
            return SourceUnavailable(f"{self.endpoint} redirected {what} too many times (a redirect loop?)")
        if isinstance(failure, httpx2.DecodingError):
            return SourceUnavailable(f"{self.endpoint}'s answer for {what} could not be decoded, {tries}: {first_line(failure)}")
        if isinstance(failure, Malformed):
            return SourceUnavailable(f"{self.endpoint}'s answer for {what} is {failure}, {tries}")
        return SourceUnavailable(f"reading {what} from {self.endpoint} failed {tries}: {_describe(failure)}")


def _error_body(body: bytes) -> bytes:
    """An error answer's body as huggingface_hub's error mapping will parse it; dropped when nested too deep to parse."""
    if body.lstrip()[:1] in (b"{", b"["):
        try:
            load_json(body, max_depth=_ERROR_DEPTH)
        except BudgetExceeded:
            return b""  # its JSON parse would end in a RecursionError
        except ValueError:
            pass  # not JSON: read as text
    return body


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _describe(failure: Exception | Answer) -> str:
    if isinstance(failure, Answer):
        return f"answered {failure.status}"
    if isinstance(failure, httpx2.TimeoutException):
        return f"no answer in time ({type(failure).__name__})"
    return first_line(failure)


def first_line(error: Exception) -> str:
    """The first line of an error's message, else its type's name."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _rate_limited(failure: Exception | Answer) -> bool:
    """Whether an answer says the token's rate limit was hit: a 429, or any status with Retry-After."""
    return isinstance(failure, Answer) and (failure.status == 429 or _retry_after(failure.response.headers) is not None)
