"""A hostile GitHub API (our own `requests` calls, answered by `responses`) behind the licence
look-up of a card's linked training code: every field the look-up reads, of each wrong type, an
answer not an object, nested too deep, too large, not JSON, gzip garbage and a redirect loop. As
for any failed look-up (README: the link stays "not verified"), the audit goes on with the same
exit code and the code component not verified; one warning names the repository and what was
wrong, never a traceback, and nothing the answer holds (a planted secret) is printed. The whole
matrix runs against the look-up itself; one case of each kind runs through the real CLI."""

from __future__ import annotations

import gzip
import json
import logging

import pytest
import responses
from click.testing import CliRunner

from auditor.cli import audit_model
from auditor.sources.github import ANSWER_CAP, GitHubLicences

API = "https://api.github.test"
TRAINING = f"{API}/repos/fixture-lab/open-science"  # the card's training code
OTHERS = (f"{API}/repos/fixture-lab/open-science-eval", f"{API}/repos/fixture-lab/data-pipeline")  # answered well
SECRET = "SECRET-GITHUB-41d7"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    from conftest import fixture_case

    from fakehub import materialise

    return materialise(fixture_case("open-science"), tmp_path_factory.mktemp("github") / "open-science")


def audit(checkout, monkeypatch, **answer) -> tuple[int, dict, str]:
    """The audit of the checkout with GitHub answering `answer` for its training code (Apache-2.0 for the other links)."""
    monkeypatch.setenv("AUDITOR_GITHUB_API", API)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as github:
        github.get(TRAINING, **answer)
        for other in OTHERS:
            github.get(other, json={"license": {"spdx_id": "Apache-2.0"}})
        result = CliRunner().invoke(audit_model, [str(checkout), "--format", "json"])
    document = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, document, result.stderr


def training_code_verified(document: dict) -> bool | None:
    """Whether the code component is open (None: not verified), and that the training code's look-up decided it."""
    code = document["components"]["code"]
    per_host = "https://github.com/fixture-lab/open-science: Apache-2.0 per its host" in code["notes"]
    assert per_host is (code["open"] is not None), code
    return code["open"]


def test_a_well_formed_answer_verifies_the_code(checkout, monkeypatch):
    code, document, err = audit(checkout, monkeypatch, json={"license": {"spdx_id": "Apache-2.0"}, "note": SECRET})
    assert training_code_verified(document) is True, err
    assert "not verified" not in err


@pytest.fixture(scope="module")
def unverified_exit_code(checkout):
    """The exit code of the audit with every link not verified (GitHub unreachable): a failed look-up's."""
    result = CliRunner().invoke(audit_model, [str(checkout), "--format", "json"],
                                env={"AUDITOR_GITHUB_API": "http://127.0.0.1:9"})
    assert json.loads(result.stdout)["components"]["code"]["open"] is None
    return result.exit_code


WRONG = {"a number": 7, "a string": SECRET, "a list": [SECRET], "an object": {"k": SECRET}, "a boolean": True}
CASES = [  # (the answer's keyword arguments for responses, the words of the warning)
    *[({"json": {"license": value}}, "`license` is " + kind) for kind, value in WRONG.items() if kind != "an object"],
    *[({"json": {"license": {"spdx_id": value}}}, "`license.spdx_id` is " + kind) for kind, value in WRONG.items() if kind != "a string"],
    ({"json": {"license": {"spdx_id": f"{SECRET} OR <b>"}}}, "`license.spdx_id` is not an SPDX id"),
    ({"json": {"license": {"spdx_id": "A" * 200}}}, "`license.spdx_id` is longer than 128 characters"),
    ({"json": [{"license": {"spdx_id": "MIT"}}]}, "the answer is a list, not an object"),
    ({"json": SECRET}, "the answer is a string, not an object"),
    ({"body": b'{"license": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"}, "nested more than 32 levels"),
    ({"body": json.dumps({"license": None, "x": SECRET * (ANSWER_CAP // len(SECRET))}).encode()}, "larger than"),
    ({"body": f"<html>{SECRET}</html>".encode()}, "is not valid JSON"),
    ({"body": b"\x1f\x8b\x08\x00garbage" + SECRET.encode(), "headers": {"Content-Encoding": "gzip"}}, "could not be read"),
    ({"body": gzip.compress(b" " * (4 * ANSWER_CAP)), "headers": {"Content-Encoding": "gzip"}}, "larger than"),  # a gzip bomb
    ({"status": 302, "headers": {"Location": TRAINING}}, "redirected too many times"),
]


@pytest.mark.parametrize(("answer", "words"), CASES, ids=[words for _, words in CASES])
def test_each_malformed_answer_leaves_the_link_not_verified_with_a_warning(caplog, answer, words):
    log = logging.getLogger("auditor")
    log.addHandler(caplog.handler)  # the CLI's own set-up stops its records reaching the root logger
    try:
        with responses.RequestsMock() as github, caplog.at_level(logging.WARNING, "auditor"):
            github.get(TRAINING, **answer)
            assert GitHubLicences(api=API).licence_of("https://github.com/fixture-lab/open-science") is None
    finally:
        log.removeHandler(caplog.handler)
    [line] = [record.getMessage() for record in caplog.records]
    assert line.startswith(f"{API}'s answer for the repository fixture-lab/open-science") and line.endswith("not verified"), line
    assert words in line and SECRET not in line, line


THROUGH_THE_CLI = ("`license.spdx_id` is a number", "nested more than 32 levels", "redirected too many times")  # one of each kind


@pytest.mark.parametrize("words", THROUGH_THE_CLI)
def test_through_the_cli_the_audit_goes_on_with_the_link_not_verified(checkout, monkeypatch, unverified_exit_code, words):
    [answer] = [answer for answer, said in CASES if said == words]
    code, document, err = audit(checkout, monkeypatch, **answer)
    assert code == unverified_exit_code, err
    assert "Traceback" not in err and "internal error" not in err.lower(), err
    assert SECRET not in err and SECRET not in json.dumps(document)
    assert training_code_verified(document) is None  # not verified, as for any failed look-up
    [line] = [line for line in err.splitlines() if "not verified" in line]
    assert f"{API}'s answer for the repository fixture-lab/open-science" in line and words in line, line
