"""Licence history end to end: the real CLI over the fake Hub's commit listings and revisions, and on
real git repositories written from the same fixture histories (tests/fixtures/histories).

The expectations are the fixtures' own story, written by hand from their licence texts: Aurora
was Apache-2.0 and was relicensed under CC BY-NC 4.0 (commercial use removed); Tide went the
other way; Harbor's own licence gained a territorial exclusion in place; Breeze's card came to
name a non-commercial base model.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import audit_model
from fakehub.history import PAGE_SIZE, HistoryRepo, write_git

HISTORIES = Path(__file__).parent / "fixtures" / "histories"
CHANGE_CODES = {"licence-changed", "terms-narrowed", "terms-widened", "licence-text-edited"}

# case -> (revision titles, governing licences, commercial use, change codes), oldest first
EXPECTED = {
    "relicensed": (
        ["Initial release", "Add evaluation results", "Relicense under CC BY-NC 4.0"],
        ["Apache-2.0", "Apache-2.0", "CC-BY-NC-4.0"], ["yes", "yes", "no"], {"licence-changed", "terms-narrowed"}),
    "many-commits": (
        ["Initial release", "Relicense under Apache 2.0", "Thank contributors"],
        ["CC-BY-NC-4.0", "Apache-2.0", "Apache-2.0"], ["no", "yes", "yes"], {"licence-changed", "terms-widened"}),
    "edited-licence": (
        ["Initial release", "Update LICENSE"],
        ["LicenseRef-harbor-open-model-license-agreement"] * 2, ["yes", "yes"], {"licence-text-edited", "terms-narrowed"}),
    "gained-base": (
        ["Initial release", "Name the base model"],
        ["Apache-2.0", "Apache-2.0 AND CC-BY-NC-4.0"], ["yes", "no"], {"licence-changed", "terms-narrowed"}),
}


def history_repo(case: str) -> HistoryRepo:
    return HistoryRepo.load_history(HISTORIES / case)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(audit_model, list(args))
    return result.exit_code, result.stdout, result.stderr


def report(*args: str) -> dict:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def changes(document: dict) -> dict[str, dict]:
    return {f["code"]: f for f in document["findings"] if f["code"] in CHANGE_CODES}


@pytest.fixture
def git_history(tmp_path):
    def make(case: str) -> Path:
        return write_git(history_repo(case), tmp_path / case)
    return make


def check_history(document: dict, case: str) -> None:
    titles, governing, commercial, codes = EXPECTED[case]
    revisions = document["history"]["revisions"]
    assert [r["title"] for r in revisions] == titles
    assert [r["governing_licences"] for r in revisions] == governing
    assert [r["commercial_use"] for r in revisions] == commercial
    assert set(changes(document)) == codes
    assert {c["code"] for c in document["history"]["changes"]} == codes
    def terms(r: dict) -> tuple:
        return r["governing_licences"], r["verdict"], {key: fact["value"] for key, fact in r["terms"].items()}

    changed_at = [r for r, before in zip(revisions[1:], revisions, strict=False) if terms(r) != terms(before)]
    assert document["history"]["terms_changed_since"]["commit"] == changed_at[-1]["commit"]


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_each_change_kind_over_the_hub(case, fake_hub):
    check_history(report(history_repo(case).id, "--history"), case)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_each_change_kind_on_a_local_git_checkout(case, fake_hub, git_history):
    document = report(str(git_history(case)), "--history")
    check_history(document, case)
    assert document["history"]["commits_listed"] == len(history_repo(case).commits)


def test_a_narrowing_cites_both_commits_and_the_clauses(fake_hub):
    repo = history_repo("relicensed")
    narrowed = changes(report(repo.id, "--history"))["terms-narrowed"]
    initial_edit, relicence = repo.commits[1], repo.commits[3]  # the revisions before and after the change
    assert f"at {relicence.id[:12]} (2024-06-20) since {initial_edit.id[:12]} (2024-03-05)" in narrowed["message"]
    assert "commercial use yes → no" in narrowed["message"]
    evidence = " ".join(narrowed["evidence"])
    assert relicence.title in evidence and initial_edit.title in evidence
    assert "for NonCommercial purposes only" in evidence  # CC BY-NC 4.0's own words


def test_an_edited_licence_quotes_the_changed_lines(fake_hub):
    found = changes(report(history_repo("edited-licence").id, "--history"))
    edited = found["licence-text-edited"]
    assert edited["message"].startswith("LICENSE (LicenseRef-harbor-open-model-license-agreement) was edited")
    assert any(line.startswith("+2. Territory.") for line in edited["evidence"])
    assert "territory unsaid → yes" in found["terms-narrowed"]["message"]
    assert "domiciled in the European Union" in " ".join(found["terms-narrowed"]["evidence"])


def test_500_commits_cost_requests_by_the_commits_that_matter(fake_hub):
    repo = history_repo("many-commits")
    assert len(repo.commits) == 500
    mattering = [c for c in repo.commits if {"README.md", "LICENSE"} & repo.changed[c.id]]
    assert len(mattering) == 3
    document = report(repo.id, "--history")
    assert [r["commit"] for r in document["history"]["revisions"]] == [c.id for c in mattering]
    log = fake_hub.stats.log
    pages = [r for r in log if "/commits/" in r.path]
    paths_info = [r for r in log if "/paths-info/" in r.path]
    revisions = {r.path.split("/revision/")[1].split("?")[0] for r in log if "/revision/" in r.path}
    files = [r for r in log if r.kind == "get"]
    assert len(pages) == len(repo.commits) // PAGE_SIZE  # the listing itself: 10 pages of 50
    # each commit that matters costs a paths-info and the model infos of itself and of its parent
    assert len(paths_info) <= len(mattering)
    parents = {repo.commits[repo.commits.index(c) - 1].id for c in mattering if c is not repo.commits[0]}
    assert revisions <= {c.id for c in mattering} | parents
    # files: the head's three small files, then only the blobs no revision had read before (two cards, one licence)
    assert len(files) == 3 + 3
    assert fake_hub.stats.total_requests <= len(pages) + 1 + 3 * len(mattering) + len(files) + 1  # +1: huggingface_hub's own probe


def test_since_a_pinned_commit_fails_only_when_the_terms_narrowed_since(fake_hub):
    repo = history_repo("relicensed")
    before, after = repo.commits[0].id, repo.commits[3].id
    code, out, err = run(repo.id, "--since", before, "--fail-on", "terms-narrowed", "--format", "json")
    assert code == 1, err
    document = json.loads(out)
    assert document["history"]["revisions"][0]["baseline"] is True
    assert document["history"]["since"] == before
    code, out, err = run(repo.id, "--since", after, "--fail-on", "terms-narrowed", "--format", "json")
    assert code == 0, err
    assert not changes(json.loads(out))


def test_since_a_date_starts_from_the_terms_in_force_then(fake_hub):
    document = report(history_repo("many-commits").id, "--since", "2024-02-15")
    revisions = document["history"]["revisions"]
    assert [r["baseline"] for r in revisions] == [True, False]
    assert revisions[0]["date"] < "2024-02-15" and revisions[1]["title"] == "Thank contributors"
    assert revisions[0]["governing_licences"] == "Apache-2.0"  # relicensed on 2024-02-01, before the date
    assert not changes(document)  # the card edit changed no terms


def test_since_on_a_local_checkout_pins_a_git_commit(fake_hub, git_history):
    root = git_history("relicensed")
    first = subprocess.run(["git", "-C", str(root), "rev-list", "--max-parents=0", "HEAD"], capture_output=True, text=True,
                           check=True).stdout.strip()
    code, _, err = run(str(root), "--since", first, "--fail-on", "terms-narrowed")
    assert code == 1, err
    code, _, err = run(str(root), "--since", "HEAD~1", "--fail-on", "terms-narrowed")
    assert code == 0, err


def test_the_markdown_report_draws_a_table_and_a_mermaid_timeline(fake_hub):
    code, out, err = run(history_repo("relicensed").id, "--history", "--format", "markdown")
    assert code == 0, err
    assert "## Licence history" in out
    assert "| date | commit | change | governing licences | commercial use | verdict | files changed |" in out
    block = out.split("```mermaid\n", 1)[1].split("```", 1)[0].splitlines()
    assert block[0] == "timeline"
    assert block[2:] == [
        "    2024-03-01 : Apache-2.0 : commercial use yes : open-weights",
        "    2024-03-05 : Apache-2.0 : commercial use yes : open-weights",
        "    2024-06-20 : CC-BY-NC-4.0 : commercial use no : non-commercial",
    ]


def test_history_is_refused_outside_git(fake_hub, tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "README.md").write_text("---\nlicense: mit\n---\n")  # a model folder, not an empty one (exit 3)
    code, _, err = run(str(tmp_path / "plain"), "--history")
    assert code == 2 and "not the top of a git checkout" in err


def test_an_unknown_since_revision_is_not_found(fake_hub):
    code, _, err = run(history_repo("relicensed").id, "--since", "no-such-branch")
    assert code == 3, err


def test_the_fixture_history_is_written_as_git_with_the_same_files(git_history):
    repo = history_repo("gained-base")
    root = git_history("gained-base")
    log = subprocess.run(["git", "-C", str(root), "log", "--format=%s"], capture_output=True, text=True, check=True).stdout
    assert log.splitlines() == [c.title for c in reversed(repo.commits)]
    assert (root / "README.md").read_text() == (HISTORIES / "gained-base" / "files" / "readme-base.md").read_text()
    assert yaml.safe_load((root / "README.md").read_text().split("---")[1])["base_model"] == "fixture-lineage/nc-base"


def test_a_hostile_timeline_label_cannot_end_an_event_or_the_block():
    from auditor.report.history_section import timeline_label

    label = timeline_label("Apache: 2.0 ; #x\n```\ntimeline")
    assert ":" not in label and ";" not in label and "#" not in label and "`" not in label and "\n" not in label
    assert label.startswith("Apache 2.0")


def test_a_census_says_since_which_commit_the_terms_hold(fake_hub, tmp_path):
    import csv

    aurora, tide, harbor = history_repo("relicensed"), history_repo("many-commits"), history_repo("edited-licence")
    out = tmp_path / "census.jsonl"
    code, _, err = run(aurora.id, tide.id, harbor.id, "--history", "-o", str(out))
    assert code == 0, err
    since = {json.loads(line)["target"]: json.loads(line)["summary"]["terms_changed_since"] for line in out.read_text().splitlines()}
    relicence = next(c for c in aurora.commits if c.title.startswith("Relicense"))
    opened = next(c for c in tide.commits if c.title.startswith("Relicense"))
    edited = harbor.commits[-1]
    assert since == {aurora.id: f"{relicence.id[:12]} (2024-06-20)", tide.id: f"{opened.id[:12]} (2024-02-01)",
                     harbor.id: f"{edited.id[:12]} (2025-04-14)"}
    table = tmp_path / "census.csv"
    code, _, err = run(aurora.id, "--history", "-o", str(table))
    assert code == 0, err
    [row] = list(csv.DictReader(table.open(encoding="utf-8")))
    assert row["terms_changed_since"] == f"{relicence.id[:12]} (2024-06-20)"
