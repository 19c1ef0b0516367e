"""Linked code repositories' licences from GitHub's API (our own requests calls, mocked with responses)."""

from __future__ import annotations

import pytest
import requests
import responses

from auditor.sources.github import GitHubLicences

API = "https://api.github.test"


@responses.activate
def test_licence_spdx_id_none_and_unknown():
    responses.get(f"{API}/repos/acme/train", json={"license": {"key": "apache-2.0", "spdx_id": "Apache-2.0"}})
    responses.get(f"{API}/repos/acme/closed", json={"license": None})
    responses.get(f"{API}/repos/acme/odd", json={"license": {"key": "other", "spdx_id": "NOASSERTION"}})
    responses.get(f"{API}/repos/acme/gone", status=404)
    hosts = GitHubLicences(api=API, token="t0ken")
    assert hosts.licence_of("https://github.com/acme/train") == "Apache-2.0"
    assert hosts.licence_of("https://github.com/acme/closed") == "none"
    assert hosts.licence_of("https://github.com/acme/odd") is None
    assert hosts.licence_of("https://github.com/acme/gone") is None
    assert hosts.licence_of("https://gitlab.com/acme/train") is None  # only GitHub is asked
    assert responses.calls[0].request.headers["Authorization"] == "Bearer t0ken"


@responses.activate
def test_answers_are_cached_and_an_offline_host_is_not_asked_again():
    responses.get(f"{API}/repos/acme/train", json={"license": {"spdx_id": "MIT"}})
    hosts = GitHubLicences(api=API)
    assert hosts.licence_of("https://github.com/acme/train") == "MIT"
    assert hosts.licence_of("https://github.com/ACME/train") == "MIT"
    assert len(responses.calls) == 1
    responses.get(f"{API}/repos/acme/a", body=requests.ConnectionError("offline"))
    assert hosts.licence_of("https://github.com/acme/a") is None
    assert hosts.licence_of("https://github.com/acme/b") is None
    assert len(responses.calls) == 2  # no call for acme/b


@pytest.mark.parametrize(("licence", "verdict"), [("Apache-2.0", "open-source"), ("CC-BY-NC-4.0", "open-weights"), ("none", "open-weights")])
def test_linked_training_code_licence_decides_open_source(licence, verdict, local_checkout, monkeypatch):
    from auditor.audit import Auditor
    from auditor.identify import load_knowledge_base
    from auditor.model import Target, TargetKind
    from auditor.sources.local import LocalSource

    class Host:
        def licence_of(self, url):
            return licence

    path = local_checkout("open-science")
    result = Auditor(LocalSource(), load_knowledge_base(), code_hosts=Host()).run(Target(TargetKind.LOCAL, path=str(path)))
    assert result.verdict.openness.value == verdict
    code = result.components[next(n for n in result.components if n.value == "code")]
    assert code.open is (licence == "Apache-2.0")
    assert any("per its host" in note for note in code.notes)
