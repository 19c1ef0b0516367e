"""A hostile Hub (or mirror): every field of a model-info answer of every wrong type, an
over-deep answer, gzip garbage, a redirect loop, a listing whose next page is itself and one
listing ids that look like paths. Each is exit 5 with what was wrong (or, for the listing, a
census of valid ids only), never a traceback or exit 70, and nothing local is read."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from hostile.limits import assert_clean, run_cli
from hostile.scriptedhub import Reply, ScriptedHub

from auditor.cli import audit_model

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


def serve(hub: ScriptedHub, info: object) -> None:
    hub.routes[f"/api/models/{REPO}"] = Reply(200, json.dumps(info).encode())
    hub.routes[f"/{REPO}/resolve/{SHA}/README.md"] = Reply(200, CARD)


def audit(hub: ScriptedHub, *args: str):
    result = CliRunner().invoke(audit_model, [REPO, "--no-check-links", "--format", "json", *args],
                                env={"HF_ENDPOINT": hub.endpoint, **FAST})
    return result.exit_code, result.stdout, result.stderr, result.exception


def test_a_well_formed_answer_is_audited():
    with ScriptedHub() as hub:
        serve(hub, model_info())
        code, out, err, _ = audit(hub)
    assert code in (0, 1), err
    assert json.loads(out)["target"]["repo_id"] == REPO if "target" in json.loads(out) else True


WRONG = {"a number": 7, "a huge number": 1e308, "a string": "x", "a list": [1, 2], "an object": {"k": "v"},
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


def _with(field: str, value: object) -> dict:
    info = model_info()
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


@pytest.mark.parametrize(("field", "kind"), [(f, k) for f, kinds in FIELDS.items() for k in kinds])
def test_each_field_of_model_info_of_each_wrong_type_is_exit_5(field, kind):
    with ScriptedHub() as hub:
        serve(hub, _with(field, WRONG[kind]))
        code, out, err, exception = audit(hub)
    assert code == 5, (code, err, exception)
    assert "Traceback" not in err and "internal error" not in err.lower()
    assert "expected shape" in err
    assert field.split(".")[0].split("[")[0] in err, err  # the message names the field


def test_a_size_of_1e999_is_exit_5():
    with ScriptedHub() as hub:
        body = json.dumps(model_info()).replace('"size": 1000,', '"size": 1e999,', 1).encode()
        hub.routes[f"/api/models/{REPO}"] = Reply(200, body)
        code, _, err, _ = audit(hub)
    assert code == 5 and "size" in err, err


@pytest.mark.parametrize("depth", [100, 100_000])
def test_an_over_deep_answer_is_exit_5(depth):
    with ScriptedHub() as hub:
        hub.routes[f"/api/models/{REPO}"] = Reply(200, b'{"id": "x", "cardData": {"a": ' + b"[" * depth + b"]" * depth + b"}}")
        code, _, err, _ = audit(hub)
    assert code == 5 and "nested" in err, err


def test_the_answer_not_an_object_is_exit_5():
    with ScriptedHub() as hub:
        serve(hub, [model_info()])
        code, _, err, _ = audit(hub)
    assert code == 5 and "not an object" in err, err


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
