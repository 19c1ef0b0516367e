"""Provenance of census profiles: a profile read from a producer's file names that producer.

tests/test_kb.py checks the shape of `source` (repository, path, commit, sha256); here, that a
profile which says where it was read also says who publishes the licence, so the licence table
and a reader can group the census by producer.
"""

from __future__ import annotations

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


def test_census_profiles_record_their_source():
    assert SOURCED, "no profile records a source"


@pytest.mark.parametrize("path", SOURCED, ids=lambda p: p.stem)
def test_a_sourced_profile_names_its_producer(path: Path) -> None:
    producer = PROFILES[path].get("producer")
    assert isinstance(producer, str) and producer.strip(), "a profile read from a producer's file names the producer"
