"""The licence GitHub reports for a linked code repository, so linked training code is evidence, not hearsay.

One `GET /repos/{owner}/{name}` per repository (cached), with GITHUB_TOKEN when set (the
anonymous API allows 60 requests an hour). Any failure leaves the link "not verified": after
the first connection failure no further request is tried, so an offline audit stays fast.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

API = "https://api.github.com"
_REPO = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+)$", re.I)
# GitHub's answers that name no licence it recognised
_UNNAMED = {"NOASSERTION", "", None}


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
            self._cache[key] = self._ask(match.group(1), match.group(2))
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
            response = self.session.get(f"{self.api}/repos/{owner}/{name}", timeout=self.timeout)
        except requests.RequestException:
            self._offline = True
            return None
        if response.status_code != 200:
            return None
        try:
            licence = response.json().get("license")
        except ValueError:
            return None
        if licence is None:
            return "none"  # GitHub found no licence file: all rights reserved
        spdx = licence.get("spdx_id")
        return None if spdx in _UNNAMED else spdx


def github_from_env() -> GitHubLicences:
    """The GitHub look-ups of a run: AUDITOR_GITHUB_API points them elsewhere, GITHUB_TOKEN raises the rate limit."""
    return GitHubLicences(api=os.environ.get("AUDITOR_GITHUB_API") or API, token=os.environ.get("GITHUB_TOKEN") or None)
