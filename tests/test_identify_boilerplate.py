"""Boilerplate many licences share (a warranty disclaimer) does not make a file that licence."""

from auditor.identify import identify_text, load_knowledge_base

KB = load_knowledge_base()
MIT = KB.get("mit").reference_text()
DISCLAIMER = "THE SOFTWARE IS PROVIDED" + MIT.split("THE SOFTWARE IS PROVIDED", 1)[1]


def test_a_custom_licence_ending_with_the_mit_disclaimer_is_not_mit():
    text = (
        "THE ACME MODEL LICENSE\n\n1. You may use the Model for any purpose once registered with Acme.\n"
        "2. You shall not use the Model to harm people.\n\n" + DISCLAIMER
    )
    assert [m.id for m in identify_text(text, "LICENSE", KB) if m.id in ("mit", "mit-0")] == []


def test_short_licences_are_still_found_whole_and_with_their_opening_kept():
    assert [m.id for m in identify_text(KB.get("mit-0").reference_text(), "LICENSE", KB)] == ["mit-0"]
    without_copyright_line = "\n".join(MIT.splitlines()[2:])
    assert [m.id for m in identify_text(without_copyright_line, "LICENSE", KB)] == ["mit"]
