"""A hostile Hub (or mirror): every field of a model-info answer of every wrong type, an
over-deep answer, gzip garbage, a redirect loop, a listing whose next page is itself and one
listing ids that look like paths. Each is exit 5 with what was wrong (or, for the listing, a
census of valid ids only), never a traceback or exit 70, and nothing local is read.

Every case runs the real CLI under the address-space cap with a deadline of its own: the
model-info cases share one capped process (hostile.grouped), the others each have their own."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator

import pytest
from hostile.grouped import Case, run_group
from hostile.limits import Outcome, assert_clean, run_cli, tree_state
from hostile.scriptedhub import Reply, ScriptedHub

REPO = "hostile-org/model"
SHA = "a" * 40
CARD = b"---\nlicense: mit\n---\n# a model\n"
FAST = {"AUDITOR_HTTP_RETRIES": "0", "AUDITOR_HTTP_RETRY_WAIT": "0", "AUDITOR_HTTP_REQUEST_TIMEOUT": "10"}


def model_info(**changes) -> dict:
    info = {
        "id": REPO, "sha": SHA, "private": False, "gated": False, "tags": ["license:mit"],
        "cardData": {"license": "mit"}, "securityRepoStatus": {"scansDone": True, "filesWithIssues": []},
        "siblings": [{"rfilename": "README.md", "size": len(CARD)}, {"rfilename": "model.safetensors", "size": 1000,
                      "lfs": {"size": 1000, "sha256": "b" * 64, "pointerSize": 130}}],
    }
    info.update(changes)
    return info


def serve_as(hub: ScriptedHub, repo: str, body: bytes) -> None:
    hub.routes[f"/api/models/{repo}"] = Reply(200, body)
    hub.routes[f"/{repo}/resolve/{SHA}/README.md"] = Reply(200, CARD)


def serve(hub: ScriptedHub, info: object) -> None:
    serve_as(hub, REPO, json.dumps(info).encode())


SECRET = "SECRET-HUB-VALUE-5e1d"  # what a wrong value holds: it must never be printed


WRONG = {"a number": 7, "a huge number": 1e308, "a string": SECRET, "a list": [SECRET, 2], "an object": {SECRET: SECRET},
         "a boolean": True, "null-in-list": [None]}
FIELDS = {  # field -> the wrong values it must refuse (its own type, and null where null is allowed, are left out)
    "sha": ["a number", "a list", "an object", "a boolean", "a string"],
    "siblings": ["a number", "a string", "an object", "a boolean", "null-in-list"],
    "cardData": ["a number", "a string", "a list", "a boolean"],
    "tags": ["a number", "a string", "an object", "a boolean", "null-in-list"],
    "private": ["a number", "a string", "a list", "an object"],
    "gated": ["a number", "a list", "an object"],
    "securityRepoStatus": ["a number", "a string", "a list", "a boolean"],
    "siblings[].size": ["a huge number", "a string", "a list", "an object", "a boolean"],
    "siblings[].lfs": ["a number", "a string", "a list", "a boolean"],
    "siblings[].lfs.size": ["a huge number", "a string", "a list", "an object", "a boolean"],
    "siblings[].lfs.sha256": ["a number", "a string", "a list", "an object", "a boolean"],
    "securityRepoStatus.filesWithIssues": ["a number", "a string", "an object", "null-in-list"],
}


def _with(field: str, value: object, repo: str = REPO) -> dict:
    info = model_info(id=repo)
    if field.startswith("siblings[]."):
        sibling = info["siblings"][1]
        path = field.removeprefix("siblings[].").split(".")
        target = sibling if len(path) == 1 else sibling[path[0]]
        target[path[-1]] = value
    elif field.startswith("securityRepoStatus."):
        info["securityRepoStatus"]["filesWithIssues"] = value
    else:
        info[field] = value
    return info


def _answers() -> dict[str, Callable[[str], bytes]]:
    """Every case audited in the capped group: its name, and the model-info answer (for its repo id) it serves."""
    answers: dict[str, Callable[[str], bytes]] = {
        f"{field}={kind}": (lambda repo, field=field, kind=kind: json.dumps(_with(field, WRONG[kind], repo)).encode())
        for field, kinds in FIELDS.items() for kind in kinds
    }
    answers["well-formed"] = lambda repo: json.dumps(model_info(id=repo)).encode()
    answers["size=1e999"] = lambda repo: json.dumps(model_info(id=repo)).replace('"size": 1000,', '"size": 1e999,', 1).encode()
    for depth in (100, 100_000):
        answers[f"nested={depth}"] = lambda repo, depth=depth: b'{"id": "x", "cardData": {"a": ' + b"[" * depth + b"]" * depth + b"}}"
    answers["not-an-object"] = lambda repo: json.dumps([model_info(id=repo)]).encode()
    return answers


ANSWERS = _answers()


@pytest.fixture(scope="module")
def audited(request, tmp_path_factory) -> Iterator[Callable[[str], tuple[Outcome, str]]]:
    """The selected cases, each a repo of its own on one scripted Hub, audited in one capped group
    (each case its own deadline); gives a case's outcome and the repo id it was served as."""
    selected = sorted({item.callspec.params["case"] for item in request.session.items
                       if item.module is request.module and "case" in getattr(getattr(item, "callspec", None), "params", {})})
    repos = {name: f"hostile-org/case-{at}" for at, name in enumerate(selected)}  # no field's name in a repo id
    work = tmp_path_factory.mktemp("hub-cases")
    with ScriptedHub() as hub:
        for name, repo in repos.items():
            serve_as(hub, repo, ANSWERS[name](repo))
        before = tree_state(work)
        group = run_group([Case(name, (repo, "--no-check-links", "--format", "json")) for name, repo in repos.items()],
                          env={"HF_ENDPOINT": hub.endpoint, "HF_HOME": str(work / "hf-home"), **FAST}, cwd=work)
    assert tree_state(work) == before, "an audit of a Hub repo wrote on the local disk"
    yield lambda name: (group.outcome(name), repos[name])


@pytest.mark.parametrize("case", ["well-formed"])
def test_a_well_formed_answer_is_audited(audited, case):
    outcome, repo = audited(case)
    assert_clean(outcome, outcome.code)
    assert outcome.code in (0, 1), outcome.stderr
    assert json.loads(outcome.stdout)["target"]["repo_id"] == repo


@pytest.mark.parametrize("case", [f"{field}={kind}" for field, kinds in FIELDS.items() for kind in kinds])
def test_each_field_of_model_info_of_each_wrong_type_is_exit_5(audited, case):
    outcome, _ = audited(case)
    assert_clean(outcome, 5, SECRET)
    assert "expected shape" in outcome.stderr, outcome.stderr
    field = case.split("=")[0]
    assert field.split(".")[0].split("[")[0] in outcome.stderr, outcome.stderr  # the message names the field


@pytest.mark.parametrize("case", ["size=1e999"])
def test_a_size_of_1e999_is_exit_5(audited, case):
    outcome, _ = audited(case)
    assert_clean(outcome, 5)
    assert "size" in outcome.stderr, outcome.stderr


@pytest.mark.parametrize("case", ["nested=100", "nested=100000"])
def test_an_over_deep_answer_is_exit_5(audited, case):
    outcome, _ = audited(case)
    assert_clean(outcome, 5)
    assert "nested" in outcome.stderr, outcome.stderr


@pytest.mark.parametrize("case", ["not-an-object"])
def test_the_answer_not_an_object_is_exit_5(audited, case):
    outcome, _ = audited(case)
    assert_clean(outcome, 5)
    assert "not an object" in outcome.stderr, outcome.stderr


def test_gzip_garbage_and_a_redirect_loop_through_the_cli():
    with ScriptedHub() as hub:
        hub.routes[f"/api/models/{REPO}"] = Reply(200, b"\x1f\x8b\x08\x00garbage" * 50, {"Content-Encoding": "gzip"})
        garbage = run_cli(REPO, "--no-check-links", env={"HF_ENDPOINT": hub.endpoint, **FAST})
        hub.routes[f"/api/models/{REPO}"] = Reply(302, b"", {"Location": f"/api/models/{REPO}"})
        loop = run_cli(REPO, "--no-check-links", env={"HF_ENDPOINT": hub.endpoint, **FAST})
    assert_clean(garbage, 5)
    assert "decod" in garbage.stderr.lower(), garbage.stderr
    assert_clean(loop, 5)
    assert "redirect" in loop.stderr.lower(), loop.stderr


def test_a_listing_that_points_back_to_itself_and_lists_paths(tmp_path):
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "dir" / "LICENSE").write_text("SECRET-LISTED-CONTENT", encoding="utf-8")
    work = tmp_path / "work" / "a" / "b"
    work.mkdir(parents=True)
    listing = [{"id": "../../../outside/dir"}, {"id": str(outside / "dir")}, {"id": "../x"}, {"id": REPO}]
    with ScriptedHub() as hub:
        serve(hub, model_info())
        hub.routes["/api/models"] = Reply(200, json.dumps(listing).encode(), {"Link": f'<{hub.endpoint}/api/models?p=1>; rel="next"'})
        out = tmp_path / "census.jsonl"
        outcome = run_cli("--author", "hostile-org", "--format", "jsonl", "-o", str(out), "--no-check-links",
                          env={"HF_ENDPOINT": hub.endpoint, **FAST}, cwd=work)
        pages = hub.hits["/api/models"]
    assert outcome.code in (0, 1), outcome.stderr
    assert_clean(outcome, outcome.code, "SECRET-LISTED-CONTENT", "LICENSE")
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [r["target"] for r in records if "target" in r] == [REPO]
    assert pages == 2  # the first page, then its `next` (itself, by another URL), then no more
    assert "not valid Hub repo ids" in outcome.stderr and "points back" in outcome.stderr
    assert os.listdir(outside / "dir") == ["LICENSE"]


def test_a_grouped_case_past_its_deadline_fails_alone():
    """The group's per-case deadline is real: a case that hangs fails by itself, the next still runs."""
    def never(path: str) -> Reply:
        time.sleep(20)
        return Reply(404)

    with ScriptedHub() as hub:
        serve(hub, model_info())
        hub.routes["/api/models/hostile-org/hangs"] = never
        cases = [Case("warm-up", (REPO, "--no-check-links")),  # pays for the first imports, whatever its time
                 Case("hangs", ("hostile-org/hangs", "--no-check-links")), Case("after", (REPO, "--no-check-links"))]
        group = run_group(cases, env={"HF_ENDPOINT": hub.endpoint, **FAST, "AUDITOR_HTTP_REQUEST_TIMEOUT": "60"}, deadline=2)
    with pytest.raises(AssertionError, match="past the 2 s deadline"):
        group.outcome("hangs")
    assert group.outcome("after").code in (0, 1)
