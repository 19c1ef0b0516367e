"""Provenance of licence profiles: where a census profile says it read its licence.

A profile's `source` names the published file its facts were read from: a GitHub file at a
commit (`github:owner/name`), or, where the producer publishes no text on GitHub, the file of
ScanCode's LicenseDB in the pinned scancode-toolkit-mini wheel (`pypi:name==version`). Either
way the file's sha256 is recorded, so a later reader can tell whether the text moved on.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

LICENCES = Path(__file__).resolve().parent.parent / "licences"
PROFILES = {
    path: yaml.safe_load(path.read_text(encoding="utf-8"))
    for path in sorted(LICENCES.glob("*.yaml"))
    if not path.name.startswith("_")
}
SOURCED = [path for path, profile in PROFILES.items() if "source" in profile]
FROM_SCANCODE = [path for path in SOURCED if str(PROFILES[path]["source"].get("repo", "")).startswith("pypi:scancode-toolkit-mini")]
GITHUB_REPO = re.compile(r"^github:[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
PYPI_REPO = re.compile(r"^pypi:[A-Za-z0-9][A-Za-z0-9_.-]*==[0-9][A-Za-z0-9.]*$")


def test_census_profiles_record_their_source():
    assert SOURCED, "no profile records a source"


@pytest.mark.parametrize("path", SOURCED, ids=lambda p: p.stem)
def test_source_names_a_file_by_repository_path_and_hash(path: Path) -> None:
    profile = PROFILES[path]
    source = profile["source"]
    assert set(source) <= {"repo", "path", "commit", "sha256"}, sorted(source)
    assert isinstance(source.get("path"), str) and source["path"], "source.path"
    assert re.fullmatch(r"[0-9a-f]{64}", str(source.get("sha256", ""))), "source.sha256 is a sha256 in hex"
    repo = str(source.get("repo", ""))
    if repo.startswith("github:"):
        assert GITHUB_REPO.match(repo), repo
        assert re.fullmatch(r"[0-9a-f]{40}", str(source.get("commit", ""))), "a GitHub source names its commit"
    else:
        # A registry package is pinned by its version; it has no commit to name.
        assert PYPI_REPO.match(repo), repo
        assert "commit" not in source


@pytest.mark.parametrize("path", SOURCED, ids=lambda p: p.stem)
def test_a_sourced_profile_names_its_producer(path: Path) -> None:
    profile = PROFILES[path]
    assert isinstance(profile.get("producer"), str) and profile["producer"].strip()


@pytest.mark.parametrize("path", FROM_SCANCODE, ids=lambda p: p.stem)
def test_a_scancode_text_comes_from_the_pinned_wheel(path: Path) -> None:
    """A profile whose source is the wheel must take its reference text from that wheel too."""
    profile = PROFILES[path]
    version = str(profile["source"]["repo"]).split("==", 1)[1]
    assert str(profile.get("text_source", "")).startswith(f"scancode-toolkit-mini {version}:")
    assert profile["source"]["path"] == f"licensedcode/data/licenses/{profile['scancode_key']}.LICENSE"
