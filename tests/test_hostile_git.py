"""A hostile checkout's git config: git quotes it in its errors (`fatal: unknown date format
<the value>`), so no error of ours may carry git's words. A config line git cannot parse makes
the folder no checkout git can read (it is read as a folder; --history and --revision are usage
errors); a value only `git log` rejects makes --history fail with our own reason (exit 5). The
secret the config holds is nowhere in stdout or stderr, and nothing in or beside the checkout
changes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hostile.grouped import Case, run_group
from hostile.limits import Outcome, assert_clean, tree_state

MIT = (Path(__file__).parents[1] / "licences" / "texts" / "mit.txt").read_text(encoding="utf-8")
SECRET = "SECRET-GIT-CONFIG-0b7e"
BAD_CONFIGS = {
    "bad-line": f"\n{SECRET} this is no setting\n",  # git cannot parse the file: every git command fails
    "bad-log-date": f"\n[log]\n\tdate = {SECRET}\n",  # only `git log` reads it: rev-parse, ls-tree and cat-file work
}


def _checkout(root: Path, config: str) -> Path:
    root.mkdir()
    (root / "LICENSE").write_text(MIT, encoding="utf-8")
    (root / "README.md").write_text("---\nlicense: mit\n---\n# a model\n", encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.org",
           "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.org"}
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "a model"]):
        subprocess.run(["git", "-C", str(root), *command], env=env, check=True, capture_output=True)
    with open(root / ".git" / "config", "a", encoding="utf-8") as handle:
        handle.write(config)
    return root


CASES = {  # case -> (config, arguments after the path, the exit code the README documents for it)
    "bad-line plain": ("bad-line", (), 0),  # no checkout git can read: the folder is read as it is
    "bad-line --history": ("bad-line", ("--history",), 2),
    "bad-line --revision": ("bad-line", ("--revision", "main"), 2),
    "bad-log-date plain": ("bad-log-date", (), 0),
    "bad-log-date --revision": ("bad-log-date", ("--revision", "main"), 0),
    "bad-log-date --history": ("bad-log-date", ("--history",), 5),  # a checkout git cannot read
}


@pytest.fixture(scope="module")
def audited(request, tmp_path_factory) -> Iterator[Callable[[str], Outcome]]:
    """Every case's audit of a checkout of its own, in one capped group (a deadline per case)."""
    base = tmp_path_factory.mktemp("git")
    cases = []
    for name, (config, args, _) in CASES.items():
        root = _checkout(base / name.replace(" ", "_"), BAD_CONFIGS[config])
        cases.append(Case(name, (str(root), "--no-check-links", "--format", "json", *args)))
    before = tree_state(base)
    group = run_group(cases, cwd=base)
    assert tree_state(base) == before, "an audit wrote in or beside a checkout"
    yield group.outcome


@pytest.mark.parametrize("case", CASES)
def test_git_never_speaks_for_a_hostile_config(audited, case):
    outcome = audited(case)
    assert_clean(outcome, CASES[case][2], SECRET, SECRET[:12])
    assert "fatal:" not in outcome.stderr, outcome.stderr


def test_a_value_only_git_log_rejects_is_our_reason(audited):
    outcome = audited("bad-log-date --history")
    assert "git log failed" in outcome.stderr and "the repository's git config is not valid" in outcome.stderr, outcome.stderr


@pytest.mark.parametrize(("said", "reason"), [
    (b"fatal: not a git repository (or any of the parent directories): .git", "not a git repository"),
    (b"fatal: bad object 0123abcd", "bad object or revision"),
    (b"fatal: bad numeric config value 'x' for 'core.abbrev': invalid unit", "the repository's git config is not valid"),
    (b"error: inflate: data stream error (incorrect header check)\nfatal: loose object 01 is corrupt", "the repository's objects are damaged"),
    (b"fatal: something git has never said before: SECRET", "git failed with exit 128"),
])
def test_git_failures_are_told_in_our_words(said, reason):
    from auditor.sources.gitrepo import git_failure

    assert git_failure(said, 128) == reason
