"""A hostile Hub behind `--history`: every field the history reads of the commit listing and of
paths-info, of each wrong type or absurd value, through the real CLI. Each is exit 5 with a
one-line error naming the endpoint and the field, never a traceback or exit 70, and nothing the
answer holds (a planted secret) is printed. The paths-info POST goes through the retrying HTTP
layer: a 429 is asked again, a redirect loop and gzip garbage are exit 5 with the reason."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hostile.scriptedhub import Reply, ScriptedHub

from auditor.cli import audit_model

REPO = "hostile-org/history"
HEAD, PARENT = "a" * 40, "b" * 40
SECRET = "SECRET-HISTORY-9f3c"
CARD = b"---\nlicense: mit\n---\n# a model\n"
FAST = {"AUDITOR_HTTP_RETRIES": "0", "AUDITOR_HTTP_RETRY_WAIT": "0", "AUDITOR_HTTP_REQUEST_TIMEOUT": "10"}
COMMITS = f"/api/models/{REPO}/commits/{HEAD}"
PATHS_INFO = f"/api/models/{REPO}/paths-info/{HEAD}"


def info(sha: str) -> bytes:
    return json.dumps({"id": REPO, "sha": sha, "cardData": {"license": "mit"}, "tags": ["license:mit"],
                       "siblings": [{"rfilename": "README.md", "size": len(CARD), "blobId": "c" * 40}]}).encode()


def commit(sha: str, date: str, /, **changes: object) -> dict:
    return {**{"id": sha, "title": "a commit", "date": date, "message": SECRET}, **changes}


def listing(**changes: object) -> list:
    return [commit(HEAD, "2024-06-01T00:00:00.000Z", **changes), commit(PARENT, "2024-01-01T00:00:00.000Z")]  # newest first


def paths(**changes: object) -> list:
    return [{"type": "file", "path": "README.md", "oid": "c" * 40, "note": SECRET,
             "lastCommit": commit(PARENT, "2024-01-01T00:00:00.000Z"), **changes}]


@pytest.fixture(scope="module")
def hub():
    with ScriptedHub() as scripted:
        yield scripted


@pytest.fixture
def history(hub):
    """The hub scripted with a well-formed two-commit history; a test replaces one answer."""
    hub.routes.clear()
    hub.hits.clear()
    hub.routes[f"/api/models/{REPO}"] = Reply(200, info(HEAD))
    hub.routes[f"/api/models/{REPO}/revision/{HEAD}"] = Reply(200, info(HEAD))
    hub.routes[f"/api/models/{REPO}/revision/{PARENT}"] = Reply(200, info(PARENT))
    for sha in (HEAD, PARENT):
        hub.routes[f"/{REPO}/resolve/{sha}/README.md"] = Reply(200, CARD)
    hub.routes[COMMITS] = Reply(200, json.dumps(listing()).encode())
    hub.routes[PATHS_INFO] = Reply(200, json.dumps(paths()).encode())
    return hub


def audit(hub: ScriptedHub, retries: str = "0") -> tuple[int, str, str]:
    result = CliRunner().invoke(audit_model, [REPO, "--history", "--no-check-links", "--format", "json"],
                                env={"HF_ENDPOINT": hub.endpoint, **FAST, "AUDITOR_HTTP_RETRIES": retries})
    return result.exit_code, result.stdout, result.stderr


def assert_refused(hub: ScriptedHub, endpoint: str, *named: str) -> str:
    code, out, err = audit(hub)
    printed = out + err
    assert code == 5, (code, err)
    assert "Traceback" not in printed and "internal error" not in printed.lower(), printed
    assert SECRET not in printed, printed
    [line] = [line for line in err.splitlines() if endpoint in line]  # one line says what was wrong, and where
    for name in named:
        assert name in line, line
    return line


def test_a_well_formed_history_is_audited(history):
    code, out, err = audit(history)
    assert code == 0, err
    document = json.loads(out)
    assert [r["commit"] for r in document["history"]["revisions"]] == [PARENT]
    assert history.hits[PATHS_INFO] == 1


WRONG = {"a number": 7, "a string": SECRET, "a list": [SECRET], "an object": {"k": SECRET}, "a boolean": True,
         "a huge number": 1e308}
NOT_HEX, TOO_LONG = SECRET.ljust(40, "x"), "a" * 41
# field of the commit listing's newest entry -> the wrong values it must refuse (null where null is allowed left out)
LISTING_FIELDS = {
    "id": ["a number", "a string", "a list", "an object", "a boolean", "null", NOT_HEX, TOO_LONG, "a" * 65],
    "date": ["a number", "a string", "a list", "an object", "a boolean", "null", "2024-13-45T00:00:00Z"],
    "title": ["a number", "a list", "an object", "a boolean", "x" * 5000],
}


def value(kind: str) -> object:
    return None if kind == "null" else WRONG.get(kind, kind)


@pytest.mark.parametrize(("field", "kind"), [(f, k) for f, kinds in LISTING_FIELDS.items() for k in kinds])
def test_each_field_of_the_commit_listing_of_each_wrong_type_is_exit_5(history, field, kind):
    history.routes[COMMITS] = Reply(200, json.dumps(listing(**{field: value(kind)})).encode())
    assert_refused(history, "commit listing", REPO, f"[0].{field}")


@pytest.mark.parametrize("kind", ["a number", "a string", "an object", "a boolean", "null"])
def test_a_commit_listing_not_a_list_or_with_an_entry_not_an_object_is_exit_5(history, kind):
    history.routes[COMMITS] = Reply(200, json.dumps(value(kind)).encode())
    assert_refused(history, "commit listing", "the answer")
    history.routes[COMMITS] = Reply(200, json.dumps([value(kind)]).encode())
    assert_refused(history, "commit listing", "[0]")


PATHS_FIELDS = {
    "path": ["a number", "a list", "an object", "a boolean", "null"],
    "lastCommit": ["a number", "a string", "a list", "a boolean"],
    "lastCommit.id": ["a number", "a list", "null", NOT_HEX, TOO_LONG],
    "lastCommit.date": ["a number", "an object", "null", "yesterday"],
    "lastCommit.title": ["a number", "a boolean"],
}


@pytest.mark.parametrize(("field", "kind"), [(f, k) for f, kinds in PATHS_FIELDS.items() for k in kinds])
def test_each_field_of_paths_info_of_each_wrong_type_is_exit_5(history, field, kind):
    entry = paths()
    if field.startswith("lastCommit."):
        entry[0]["lastCommit"][field.split(".")[1]] = value(kind)
    else:
        entry[0][field] = value(kind)
    history.routes[PATHS_INFO] = Reply(200, json.dumps(entry).encode())
    assert_refused(history, "paths-info", REPO, f"[0].{field}")


@pytest.mark.parametrize("kind", ["a number", "a string", "an object", "a boolean"])
def test_a_paths_info_answer_not_a_list_or_with_an_entry_not_an_object_is_exit_5(history, kind):
    history.routes[PATHS_INFO] = Reply(200, json.dumps(value(kind)).encode())
    assert_refused(history, "paths-info", "the answer")
    history.routes[PATHS_INFO] = Reply(200, json.dumps([value(kind)]).encode())
    assert_refused(history, "paths-info", "[0]")


def test_answers_beyond_their_caps_or_nested_too_deep_are_exit_5(history):
    too_many = [commit(HEAD, "2024-06-01T00:00:00Z")] * 1001
    history.routes[COMMITS] = Reply(200, json.dumps(too_many).encode())
    assert_refused(history, "commit listing", "more than 1000 entries")
    history.routes[COMMITS] = Reply(200, b"[" * 100_000 + b"]" * 100_000)
    assert_refused(history, "commit listing", "nested")
    history.routes[COMMITS] = Reply(200, json.dumps(listing()).encode())
    history.routes[PATHS_INFO] = Reply(200, json.dumps(paths() * 10_001).encode())
    assert_refused(history, "paths-info", "more than 10000 entries")
    history.routes[PATHS_INFO] = Reply(200, b'[{"path": "README.md", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}]")
    assert_refused(history, "paths-info", "nested")


def test_a_commit_listing_whose_next_page_is_itself_is_exit_5(history):
    history.routes[COMMITS] = Reply(200, json.dumps(listing()[:1]).encode(),
                                    {"Link": f'<{history.endpoint}{COMMITS}>; rel="next"'})
    assert_refused(history, "commit listing", "points its next page back")
    assert history.hits[COMMITS] == 1


def test_paths_info_goes_through_the_retrying_http_layer(history):
    answers = iter([Reply(429, b"{}", {"Retry-After": "0"}), Reply(200, json.dumps(paths()).encode())])
    history.routes[PATHS_INFO] = lambda path: next(answers)
    code, _, err = audit(history, retries="2")
    assert code == 0, err
    assert history.hits[PATHS_INFO] == 2  # the 429, then the answer
    history.routes[PATHS_INFO] = Reply(302, b"", {"Location": PATHS_INFO})
    assert "redirect" in assert_refused(history, "paths-info", REPO)
    history.routes[PATHS_INFO] = Reply(200, b"\x1f\x8b\x08\x00garbage" * 50, {"Content-Encoding": "gzip"})
    assert "decod" in assert_refused(history, "paths-info", REPO).lower()


def test_a_malformed_model_info_of_an_older_revision_is_exit_5(history):
    history.routes[f"/api/models/{REPO}/revision/{PARENT}"] = Reply(200, json.dumps({"sha": 7, "note": SECRET}).encode())
    assert_refused(history, "model info", REPO, "`sha`")


def test_an_error_answer_nested_too_deep_is_mapped_by_its_status(history):
    deep = b"[" * 30_000 + b"]" * 30_000  # huggingface_hub's error mapping would parse it into a RecursionError
    history.routes[PATHS_INFO] = Reply(404, deep, {"X-Error-Code": "EntryNotFound"})
    code, out, err = audit(history)
    assert code == 3 and "Traceback" not in err and "internal error" not in err, err
    assert "an entry asked for not found" in err, err
    history.routes[f"/api/models/{REPO}"] = Reply(403, deep)
    code, out, err = audit(history)
    assert code == 4 and "Traceback" not in err and "internal error" not in err, err
