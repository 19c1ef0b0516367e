"""Lines of `--targets-from` are Hub ids, never paths: a file (perhaps written from a mirror's
listing, perhaps by someone else) whose lines are `../../x`, `/abs/dir` or `./folder` audits none
of those folders; each such line is an error of its own (exit 2, a record of its own in a census),
and a line that is a Hub id names the Hub repo even where a folder of that name exists. Local
folders are listed with `--paths-from`, whose lines are paths, never Hub ids. Run through the
CLI under the memory cap with a deadline per case."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hostile.grouped import Case, run_group
from hostile.limits import Outcome, assert_clean, tree_state
from hostile.opened import opened_under
from hostile.scriptedhub import ScriptedHub
from test_hostile_hub import FAST, REPO, model_info, serve

MIT = (Path(__file__).parents[1] / "licences" / "texts" / "mit.txt").read_text(encoding="utf-8")
SECRET = "SECRET-NOT-A-TARGET-31d8"
NOT_HUB_IDS = 'is not a Hub repo id'


def _folder(root: Path, secret: bool) -> Path:
    root.mkdir(parents=True)
    (root / "LICENSE").write_text(MIT, encoding="utf-8")
    card = f"---\nlicense: apache-2.0\n---\n{SECRET}\n" if secret else "---\nlicense: mit\n---\n# a model\n"
    (root / "README.md").write_text(card, encoding="utf-8")
    if secret:
        (root / f"{SECRET}.txt").write_text(SECRET, encoding="utf-8")
    return root


class Workspace:
    """Where the cases run: a working folder three deep, folders beside and in it holding a secret
    (none may be read), folders that may be (for --paths-from), and the target files."""

    def __init__(self, base: Path):
        self.cwd = base / "work" / "a" / "b"
        self.outside = [_folder(base / "outside" / "one", True), _folder(base / "outside" / "two", True)]
        self.inside = _folder(self.cwd / "folder", True)
        self.same_name = _folder(self.cwd / REPO, True)  # a folder spelt like the Hub id listed
        self.allowed = [_folder(self.cwd / "mine", False), _folder(base / "elsewhere" / "theirs", False)]
        self.outputs = base / "outputs"
        self.outputs.mkdir()
        self.targets = self.outputs / "targets.txt"
        self.targets.write_text(f"# from a listing\n../../../outside/one\n{self.outside[1]}\n./folder\n{REPO}\n", encoding="utf-8")
        self.paths = self.outputs / "paths.txt"
        self.paths.write_text(f"mine  # my model\n{self.allowed[1]}\nhostile-org/absent\n", encoding="utf-8")
        self.census = self.outputs / "census.jsonl"
        self.hub_line = self.outputs / "hub.txt"
        self.hub_line.write_text(f"{REPO}\n", encoding="utf-8")
        self.mixed = self.outputs / "mixed.jsonl"

    def guarded(self) -> list[Path]:
        return [*self.outside, self.inside, self.same_name]


CASES: dict[str, Callable[[Workspace], tuple[str, ...]]] = {
    "census": lambda w: ("--targets-from", str(w.targets), "--format", "jsonl", "-o", str(w.census)),
    "single run": lambda w: ("--targets-from", str(w.targets), "--format", "json"),
    "paths": lambda w: ("--paths-from", str(w.paths), "--format", "json"),
    # the folder spelt like the Hub id, given as an argument, and the Hub id in a file: two targets, not one
    "census of the folder and the id": lambda w: (f"./{REPO}", "--targets-from", str(w.hub_line), "--format", "jsonl", "-o", str(w.mixed)),
}


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> Iterator[tuple[Callable[[str], Outcome], Workspace, ScriptedHub]]:
    """Every case, in one capped group, against a scripted Hub serving REPO."""
    workspace = Workspace(tmp_path_factory.mktemp("targets"))
    before = tree_state(*workspace.guarded(), *workspace.allowed)
    with ScriptedHub() as hub, opened_under(*workspace.outside, workspace.inside) as opened:
        serve(hub, model_info())
        group = run_group([Case(name, (*args(workspace), "--no-check-links")) for name, args in CASES.items()],
                          env={"HF_ENDPOINT": hub.endpoint, "HF_HOME": str(workspace.outputs / "hf"), **FAST}, cwd=workspace.cwd)
    # the folders only named by a --targets-from line: the kernel saw none of them opened
    assert opened.paths == set(), f"opened outside the targets: {sorted(opened.paths)}"
    assert tree_state(*workspace.guarded(), *workspace.allowed) == before, "a target file's line changed a folder"
    yield group.outcome, workspace, hub


def test_a_census_of_path_lines_audits_none_of_those_folders(ran):
    outcome_of, workspace, hub = ran
    outcome = outcome_of("census")
    assert_clean(outcome, 2, SECRET)
    records = [json.loads(line) for line in workspace.census.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert SECRET not in workspace.census.read_text(encoding="utf-8")
    failed = {r["target"]: r for r in records if r.get("status") == "failed"}
    assert set(failed) == {"../../../outside/one", str(workspace.outside[1]), "./folder"}
    for record in failed.values():
        assert record["exit_code"] == 2 and NOT_HUB_IDS in record["error"]["message"], record
        assert "--paths-from" in record["error"]["message"]
    audited = [r for r in records if r.get("target") == REPO]
    assert len(audited) == 1 and audited[0].get("status") != "failed", audited
    assert hub.hits[f"/api/models/{REPO}"] >= 1  # the Hub id was read from the Hub, not from the folder of that name


def test_a_single_run_of_path_lines_fails_each_alone_and_audits_the_hub_id(ran):
    outcome_of, workspace, _ = ran
    outcome = outcome_of("single run")
    assert_clean(outcome, 2, SECRET)
    report = json.loads(outcome.stdout)
    assert {f["target"] for f in report["failures"]} == {"../../../outside/one", str(workspace.outside[1]), "./folder"}
    assert all(NOT_HUB_IDS in f["error"] and "\n" not in f["error"] for f in report["failures"])
    [result] = report["results"]
    assert result["target"]["repo_id"] == REPO and result["target"]["kind"] == "hub", result["target"]
    for line in outcome.stderr.splitlines():  # one line per refused target
        if NOT_HUB_IDS in line:
            assert line.startswith("error: ")


def test_paths_from_reads_local_folders_and_never_the_hub(ran):
    outcome_of, workspace, hub = ran
    outcome = outcome_of("paths")
    assert_clean(outcome, 3, SECRET)  # hostile-org/absent: no such directory (exit 3), never looked up on the Hub
    report = json.loads(outcome.stdout)
    audited = sorted((workspace.cwd / r["target"]["path"]).resolve() for r in report["results"])
    assert audited == sorted(p.resolve() for p in workspace.allowed)
    assert all(r["target"]["kind"] == "local" for r in report["results"])
    [failure] = report["failures"]
    assert failure["target"] == "hostile-org/absent" and "no such directory" in failure["error"]
    assert hub.hits["/api/models/hostile-org/absent"] == 0


@pytest.mark.parametrize(("line", "names"), [
    ("org/name", ("org/name", None)), ("org/name@v1.0", ("org/name", "v1.0")), ("org/name/", ("org/name", None)),
    ("https://huggingface.co/org/name/tree/dev", ("org/name", "dev")), ("hf.co/org/name", ("org/name", None)),
    ("../../x", None), ("/abs/dir", None), ("./folder", None), ("folder", None), ("~/models/x", None),
    ("org/..", None), ("../org", None), ("org/name/more", None), ("org--x/name", None), ("-org/name", None),
    # one GGUF file of a repo, as on the command line; never a step out of the repo
    ("org/name/q/model.Q4_K_M.gguf@v1", ("org/name", "v1", "q/model.Q4_K_M.gguf")), ("org/name/model.gguf", ("org/name", None, "model.gguf")),
    ("org/name/../x.gguf", None), ("org/name/./x.gguf", None), ("org/name/model.bin", None), ("/org/name/x.gguf", None),
])
def test_a_line_of_targets_from_is_a_hub_id_by_the_hubs_grammar_or_nothing(line, names):
    from auditor.targets import hub_target

    target = hub_target(line)
    if target is None or names is None:
        assert target is None and names is None, target
    else:
        assert (target.repo_id, target.revision, target.path)[:len(names)] == names


def test_a_hub_id_line_is_not_the_folder_of_that_name_given_as_an_argument(ran):
    outcome_of, workspace, _ = ran
    outcome = outcome_of("census of the folder and the id")
    assert_clean(outcome, outcome.code)
    assert outcome.code in (0, 1), outcome.stderr
    records = [json.loads(line) for line in workspace.mixed.read_text(encoding="utf-8").splitlines() if line.strip()]
    audited = {r["target"] for r in records if r.get("status") != "failed" and "target" in r}
    assert audited == {f"./{REPO}", REPO}, records
