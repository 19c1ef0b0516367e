"""The schema vocabulary of hub_schema on the absurd values a field can hold: each refused with
the field named and nothing of the value in the message."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from auditor.sources.hub_schema import BadAnswer, parse_commit_page, parse_paths_info, parse_repo_info

SECRET = "SECRET-SCHEMA-77"
COMMIT = {"id": "a" * 40, "date": "2024-01-01T00:00:00.000Z", "title": "t"}


def sibling(size: object) -> dict:
    return {"siblings": [{"rfilename": "x.bin", "size": size}]}


@pytest.mark.parametrize(("size", "words"), [
    (-1, "out of range"), (1 << 61, "out of range"), (json.loads("1e999"), "not a whole number"),
    (float("nan"), "not a whole number"), (1.5, "not a whole number"), (SECRET, "a string, not a number of bytes"),
])
def test_a_size_that_is_no_number_of_bytes_is_refused(size, words):
    with pytest.raises(BadAnswer) as refused:
        parse_repo_info(sibling(size))
    assert str(refused.value).startswith("`siblings[0].size` is") and words in str(refused.value)
    assert SECRET not in str(refused.value)


def test_a_whole_float_size_is_a_number_of_bytes():
    assert parse_repo_info(sibling(1000.0)).files[0].size == 1000


@pytest.mark.parametrize(("field", "value", "words"), [
    ("id", "A" * 40, "not a commit id"), ("id", "a" * 39, "not a commit id"), ("id", "a" * 65, "longer than 64"),
    ("id", f"{SECRET}\n", "not a commit id"), ("date", "2024-02-30T00:00:00Z", "not an ISO 8601 date"),
    ("date", SECRET * 10, "longer than 64"), ("title", "x" * 4097, "longer than 4096"), ("date", None, "missing"),
])
def test_a_commit_with_an_absurd_value_is_refused(field, value, words):
    with pytest.raises(BadAnswer) as refused:
        parse_commit_page([COMMIT, {**COMMIT, field: value}])
    assert str(refused.value).startswith(f"`[1].{field}` is") and words in str(refused.value)
    assert SECRET not in str(refused.value)


def test_well_formed_history_answers_are_kept():
    [revision] = parse_commit_page([{**COMMIT, "title": None, "extra": {"ignored": [SECRET]}}])
    assert (revision.commit, revision.date, revision.title) == ("a" * 40, COMMIT["date"], "")
    assert parse_paths_info([{"path": "LICENSE", "lastCommit": COMMIT}, {"path": "README.md"}]) == {
        "LICENSE": replace(revision, title="t"), "README.md": None}
