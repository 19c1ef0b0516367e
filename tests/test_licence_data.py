"""Data-driven licence identification tests, in the style of ScanCode's licence test data.

Every `tests/data/licences/<case>.txt` has a `<case>.yml` beside it, written by hand: `notes`
says what a careful reader finds in the text and why, and `licences` lists what the file must
identify as, in order: each licence's id, kind, whether it is modified, whether it is
unidentified (a licence the knowledge base does not know, named from its title) and, for
those, its name and the facts read from its clauses; `changes_mention` is words the match's
description of its changes must hold. Every reference text of the knowledge base is a case
too: it must identify as itself, exactly.

The expectations are never written by the test run: a case without its `.yml` fails. New
variant texts come from `scripts/make_licence_variants.py`, which writes texts only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from auditor.identify import identify_text, load_knowledge_base

DATA = Path(__file__).parent / "data" / "licences"
CASES = sorted(p.stem for p in DATA.glob("*.txt"))
KB = load_knowledge_base()


def found(text: str) -> list[dict]:
    """What the matcher finds in `text`, in the terms the `.yml` files use, with each match's description of its changes."""
    items = []
    for match in identify_text(text, "LICENSE", KB):
        item: dict = {"id": match.id, "kind": match.kind.value, "modified": match.modified, "changes": match.changes or ""}
        if match.unidentified:
            item["unidentified"] = True
            item["name"] = match.name
            item["facts"] = {f.name: f.value for f in match.facts}
        items.append(item)
    return items


@pytest.mark.parametrize("case", CASES)
def test_licence_data_case(case: str) -> None:
    expected_path = DATA / f"{case}.yml"
    assert expected_path.is_file(), f"{expected_path.name} is missing: write what a careful reader finds in {case}.txt"
    expected = yaml.safe_load(expected_path.read_text(encoding="utf-8"))
    assert str(expected.get("notes") or "").strip(), f"{expected_path.name} says nothing of why"
    # bytes decoded as the sources decode them: CRLF stays CRLF
    actual = found((DATA / f"{case}.txt").read_bytes().decode("utf-8"))
    mentions = [item.pop("changes_mention", None) for item in expected["licences"]]
    changes = [item.pop("changes") for item in actual]
    assert actual == expected["licences"], expected["notes"]
    for mention, described in zip(mentions, changes, strict=True):
        assert mention is None or mention in described, f"{case}: the changes do not say {mention!r}: {described!r}"


def test_every_case_has_its_text_and_its_expectation():
    assert {p.stem for p in DATA.glob("*.yml")} == set(CASES)


@pytest.mark.parametrize("licence_id", sorted(p.id for p in KB if p.text_path is not None))
def test_every_reference_text_is_identified_as_itself(licence_id: str) -> None:
    profile = KB.get(licence_id)
    matches = identify_text(profile.reference_text(), "LICENSE", KB)
    assert matches, licence_id
    first = matches[0]
    assert (first.id, first.confidence, first.modified, first.unidentified) == (licence_id, 1.0, False, False)
    assert first.source == "LICENSE"
    assert first.spdx == profile.spdx
