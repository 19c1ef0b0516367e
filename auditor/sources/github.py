"""The licence GitHub reports for a linked code repository, so linked training code is evidence, not hearsay.

One `GET /repos/{owner}/{name}` per repository (cached), with GITHUB_TOKEN when set (the
anonymous API allows 60 requests an hour). Any failure leaves the link "not verified": after
the first connection failure no further request is tried, so an offline audit stays fast.
The answer is read up to a byte cap and a time limit, parsed within a depth budget and
checked against its schema (auditor.sources.hub_schema) before use; a malformed one (a
redirect loop, a body that fails to decode, the wrong type for `license` or `spdx_id`) is a
warning naming the repository and what was wrong, and the link stays not verified.
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING

from auditor.bounded import BudgetExceeded, load_json
from auditor.logs import log
from auditor.sources.http import first_line
from auditor.sources.hub_schema import BadAnswer, parse_github_licence

if TYPE_CHECKING:
    import requests

API = "https://api.github.com"
_REPO = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+)$", re.I)
ANSWER_CAP = 1 << 20  # bytes: a repository answer is some 6 kB
_DEPTH = 32  # a repository answer nests 3 deep


class _Unverified(Exception):
    """An answer that leaves the link not verified; the message says why."""


class GitHubLicences:
    """The licences of GitHub repositories, looked up through the GitHub API once per repository."""

    def __init__(self, api: str = API, token: str | None = None, timeout: float = 5.0):
        self.api = api.rstrip("/")
        self.timeout = timeout
        self.token = token
        self._session: requests.Session | None = None  # made at the first look-up: most audits link no code
        self._cache: dict[str, str | None] = {}
        self._offline = False

    def licence_of(self, url: str) -> str | None:
        """The SPDX id GitHub gives for the repository at `url`; "none" when it has no licence; None when unknown."""
        match = _REPO.match(url)
        if not match or self._offline:
            return None
        key = f"{match.group(1)}/{match.group(2)}".lower()
        if key not in self._cache:
            try:
                self._cache[key] = self._ask(match.group(1), match.group(2))
            except _Unverified as why:
                log.warning("%s's answer for the repository %s/%s %s; the link stays not verified",
                            self.api, match.group(1), match.group(2), why)
                self._cache[key] = None
        return self._cache[key]

    @property
    def session(self) -> requests.Session:
        """The HTTP session of the look-ups, with GitHub's media type and the token, if any."""
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.headers["Accept"] = "application/vnd.github+json"
            if self.token:
                self._session.headers["Authorization"] = f"Bearer {self.token}"
        return self._session

    def _ask(self, owner: str, name: str) -> str | None:
        import requests

        try:
            response = self.session.get(f"{self.api}/repos/{owner}/{name}", timeout=self.timeout, stream=True)
        except (requests.ConnectionError, requests.Timeout):
            self._offline = True
            return None
        except requests.TooManyRedirects:
            raise _Unverified("was redirected too many times (a redirect loop?)") from None
        except requests.RequestException as error:
            raise _Unverified(f"failed: {first_line(error)}") from None
        with response:
            if response.status_code != 200:
                return None
            body = self._body(response)
        try:
            return parse_github_licence(load_json(body, max_depth=_DEPTH))
        except BadAnswer as error:
            raise _Unverified(f"is not of the expected shape: {error}") from None
        except BudgetExceeded as error:
            raise _Unverified(f"is not valid JSON of the expected shape: {error}") from None
        except ValueError:
            raise _Unverified("is not valid JSON") from None

    def _body(self, response: requests.Response) -> bytes:
        """The answer's body, decoded, up to ANSWER_CAP bytes and within four read timeouts in all."""
        import requests

        stop = time.monotonic() + 4 * self.timeout
        body = bytearray()
        try:
            for chunk in response.iter_content(64 << 10):
                body += chunk
                if len(body) > ANSWER_CAP:
                    raise _Unverified(f"is larger than {ANSWER_CAP} bytes")
                if time.monotonic() > stop:
                    raise _Unverified(f"was not complete within {4 * self.timeout:g} s")
        except requests.RequestException as error:  # a body that fails to decode, a connection reset mid-answer
            raise _Unverified(f"could not be read ({type(error).__name__})") from None
        return bytes(body)


def github_from_env() -> GitHubLicences:
    """The GitHub look-ups of a run: AUDITOR_GITHUB_API points them elsewhere, GITHUB_TOKEN raises the rate limit."""
    return GitHubLicences(api=os.environ.get("AUDITOR_GITHUB_API") or API, token=os.environ.get("GITHUB_TOKEN") or None)
