"""Data-driven licence identification tests, in the style of ScanCode's licence test data.

Every `tests/data/licences/<case>.txt` has a `<case>.yml` beside it listing what the file
must identify as, in order: each licence's id, kind, whether it is modified, whether it is
unidentified (a licence the knowledge base does not know, named from its title) and, for
those, the facts read from its clauses. Every reference text of the knowledge base is a
case too, generated here: it must identify as itself, exactly.

After a reviewed change to the matcher, regenerate the expectations with
`AUDITOR_REGEN=1 python -m pytest tests/test_licence_data.py` and review the diff of the
`.yml` files before committing them. New variant texts come from
`scripts/make_licence_variants.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from auditor.identify import identify_text, load_knowledge_base

DATA = Path(__file__).parent / "data" / "licences"
CASES = sorted(p.stem for p in DATA.glob("*.txt"))
KB = load_knowledge_base()
REGENERATE = os.environ.get("AUDITOR_REGEN") == "1"


def found(text: str) -> list[dict]:
    """What the matcher finds in `text`, in the terms the `.yml` files use."""
    items = []
    for match in identify_text(text, "LICENSE", KB):
        item = {"id": match.id, "kind": match.kind.value, "modified": match.modified}
        if match.unidentified:
            item["unidentified"] = True
            item["name"] = match.name
            item["facts"] = {f.name: f.value for f in match.facts}
        items.append(item)
    return items


@pytest.mark.parametrize("case", CASES)
def test_licence_data_case(case: str) -> None:
    # bytes decoded as the sources decode them: CRLF stays CRLF
    text = (DATA / f"{case}.txt").read_bytes().decode("utf-8")
    expected_path = DATA / f"{case}.yml"
    actual = found(text)
    if REGENERATE or not expected_path.exists():
        old = yaml.safe_load(expected_path.read_text(encoding="utf-8")) if expected_path.exists() else {}
        notes = (old or {}).get("notes") or f"variant {case}, made by scripts/make_licence_variants.py"
        expected_path.write_text(yaml.safe_dump({"notes": notes, "licences": actual}, sort_keys=False, allow_unicode=True), encoding="utf-8")
        if not REGENERATE:
            pytest.fail(f"{expected_path.name} was missing and has been written: review it")
    expected = yaml.safe_load(expected_path.read_text(encoding="utf-8"))
    assert actual == expected["licences"], expected.get("notes")


@pytest.mark.parametrize("licence_id", sorted(p.id for p in KB if p.text_path is not None))
def test_every_reference_text_is_identified_as_itself(licence_id: str) -> None:
    profile = KB.get(licence_id)
    matches = identify_text(profile.reference_text(), "LICENSE", KB)
    assert matches, licence_id
    first = matches[0]
    assert (first.id, first.confidence, first.modified, first.unidentified) == (licence_id, 1.0, False, False)
    assert first.source == "LICENSE"
    assert first.spdx == profile.spdx
