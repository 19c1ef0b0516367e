"""explain() reads what failed from the error's fields, not from the wording of its message."""

from __future__ import annotations

from auditor.errors import NotFound
from auditor.targets import explain


def test_a_missing_repo_may_be_private():
    error = NotFound("repository org/name not found on https://hub.example", repo="org/name")
    assert "if it is private, pass --token" in explain(error, "org/name", hub_target=True, token_given=False)


def test_a_missing_revision_is_not_a_private_repo():
    error = NotFound("revision v9 not found in org/name on https://hub.example", repo="org/name", revision="v9")
    assert explain(error, "org/name@v9", hub_target=True, token_given=False) == str(error)


def test_a_repo_named_revision_is_still_a_repo():
    # the message once decided this: a repo id with "revision" in it lost its hint
    error = NotFound("repository org/revision-model not found on https://hub.example", repo="org/revision-model")
    assert "if it is private" in explain(error, "org/revision-model", hub_target=True, token_given=False)


def test_errors_carry_what_failed():
    error = NotFound("LICENSE not found", repo="org/name", path="LICENSE")
    assert (error.repo, error.path, error.revision, str(error)) == ("org/name", "LICENSE", None, "LICENSE not found")


def test_an_argument_may_have_meant_a_folder_an_id_from_a_list_never_did():
    error = NotFound("repository org/name not found on https://hub.example", repo="org/name")
    assert explain(error, "org/name", hub_target=True, token_given=False).startswith("no directory org/name here")
    listed = explain(error, "org/name", hub_target=True, token_given=False, listed=True)
    assert "directory" not in listed and "if it is private, pass --token" in listed
