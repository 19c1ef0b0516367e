"""The text matcher: every reference text, altered copies, versions, several licences per file."""

import re
from pathlib import Path

import pytest

from auditor.identify import identify_text, load_knowledge_base
from auditor.model import LicenceKind, MatchMethod

KB = load_knowledge_base()
FIXTURES = Path(__file__).parent / "fixtures" / "licence_texts"


def text_of(licence_id: str) -> str:
    profile = KB.get(licence_id)
    if profile is None or profile.reference_text() is None:
        pytest.skip(f"no reference text for {licence_id} in the knowledge base")
    return profile.reference_text()


def ids(matches) -> list[str]:
    return [m.id for m in matches]


# Every reference text identifying as itself is a case of tests/test_licence_data.py.


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def test_a_removed_clause_is_reported():
    paragraphs = _paragraphs(text_of("llama3.1"))
    victim = max(paragraphs[3:-2], key=len)
    altered = "\n\n".join(p for p in paragraphs if p is not victim)
    [match] = [m for m in identify_text(altered, "LICENSE", KB) if m.kind is LicenceKind.LICENCE]
    assert match.id == "llama3.1" and match.method is MatchMethod.SIMILARITY
    assert match.modified and "clause removed" in match.changes
    assert match.confidence < 1.0


def test_an_added_clause_is_reported_with_its_words():
    paragraphs = _paragraphs(text_of("apache-2.0"))
    clause = ("10. Field of use. You may not use the Work for any commercial purpose, "
              "nor to train or improve any other machine learning model.")
    altered = "\n\n".join(paragraphs[:12] + [clause] + paragraphs[12:])
    [match] = identify_text(altered, "LICENSE", KB)
    assert match.id == "apache-2.0" and match.modified
    assert "text added" in match.changes and "field of use you may not use" in match.changes


def test_whitespace_bullets_quotes_and_markdown_do_not_alter_a_licence():
    source = text_of("mit")
    words = source.replace("\n", " ").split()
    lines = [" ".join(words[i:i + 7]) for i in range(0, len(words), 7)]
    mangled = "# MIT License\n\n" + "\n".join(f"* **{line}**" if i % 3 == 0 else f"  {line}" for i, line in enumerate(lines))
    mangled = mangled.replace('"', "“").replace("-", "—").replace("license", "licence")
    [match] = identify_text(mangled, "LICENSE.md", KB)
    assert (match.id, match.modified) == ("mit", False)


def test_two_concatenated_licences_are_both_found_in_order():
    text = text_of("mit") + "\n\n----------------\n\n" + text_of("apache-2.0")
    matches = identify_text(text, "NOTICE", KB)
    assert ids(matches) == ["mit", "apache-2.0"]
    assert matches[0].span[1] < matches[1].span[0]
    assert not any(m.modified for m in matches)


def test_a_notice_file_with_three_licences_and_headings():
    parts = [f"------ LICENSE FOR component {n} ------\n\n{text_of(i)}" for n, i in enumerate(["bsd-3-clause", "mit", "apache-2.0"])]
    found = ids(identify_text("\n\n".join(parts), "NOTICE", KB))
    assert found == ["bsd-3-clause", "mit", "apache-2.0"]


def test_licence_followed_by_its_policy_and_an_appendix():
    text = text_of("llama3.1") + "\n\nAppendix: how we use this model internally.\n\n" + text_of("gemma-pup")
    found = ids(identify_text(text, "LICENSE", KB))
    assert found == ["llama3.1", "gemma-pup"]


@pytest.mark.parametrize("licence_id, other", [
    ("cc-by-3.0", "cc-by-4.0"), ("cc-by-4.0", "cc-by-3.0"),
    ("gpl-2.0", "gpl-3.0"), ("gpl-3.0", "gpl-2.0"),
    ("llama3.1", "llama3.2"), ("llama3.2", "llama3.1"),
    ("gemma", "gemma-2024"), ("gemma-2024", "gemma"),
])
def test_versions_are_told_apart_even_when_reformatted(licence_id, other):
    reflowed = " ".join(text_of(licence_id).split())
    found = ids(identify_text(reflowed, "LICENSE", KB))
    assert found[0] == licence_id and other not in found


def test_a_version_without_text_is_found_through_its_sibling_and_markers():
    text = text_of("llama3.1").replace("Llama 3.1", "Meta Llama 3").replace("July 23, 2024", "April 18, 2024")
    [match] = identify_text(text, "LICENSE", KB)
    assert match.id == "llama3" and match.kind is LicenceKind.LICENCE and match.confidence >= 0.8


def test_a_policy_is_found_by_its_title_alone():
    text = "Llama 3.2 Acceptable Use Policy\n\nWe want everyone to use Llama 3.2 safely and responsibly.\n"
    [match] = identify_text(text, "USE_POLICY.md", KB)
    assert match.id == "llama3.2-aup" and match.kind is LicenceKind.POLICY


def test_apache_boilerplate_notice_identifies_apache():
    [match] = identify_text((FIXTURES / "apache_notice.txt").read_text(), "NOTICE", KB)
    assert (match.id, match.kind, match.method) == ("apache-2.0", LicenceKind.LICENCE, MatchMethod.PHRASE)
    assert match.span[0] >= 5


def test_a_pointer_to_a_licence_elsewhere_is_a_reference():
    [match] = identify_text((FIXTURES / "pointer.txt").read_text(), "LICENSE", KB)
    assert match.kind is LicenceKind.REFERENCE and match.method is MatchMethod.REFERENCE
    assert "example.org" in match.name and match.confidence < 0.5


def test_a_named_reference_names_its_licence():
    [match] = identify_text((FIXTURES / "named_reference.txt").read_text(), "NOTICE", KB)
    assert (match.id, match.kind) == ("apache-2.0", LicenceKind.REFERENCE)


def test_spdx_tags_are_read():
    found = identify_text((FIXTURES / "spdx_tag.py").read_text(), "model.py", KB)
    assert sorted(ids(found)) == ["apache-2.0", "mit"]


def test_an_unknown_custom_licence_is_not_forced_onto_a_known_one():
    assert identify_text((FIXTURES / "custom_licence.txt").read_text(), "LICENSE", KB) == ()


def test_licence_inside_a_readme_section():
    readme = ("# Example model\n\nA small model.\n\n## Usage\n\nLoad it with transformers.\n\n## License\n\n"
              + text_of("cc-by-4.0") + "\n\n## Citation\n\nPlease cite our paper.\n")
    [match] = [m for m in identify_text(readme, "README.md", KB) if m.method is MatchMethod.SIMILARITY]
    assert match.id == "cc-by-4.0" and not match.modified
    assert match.span[0] > 9


def test_a_changed_number_is_a_modification():
    text = text_of("llama3.1").replace("700 million", "100 million")
    [match] = identify_text(text, "LICENSE", KB)
    assert match.id == "llama3.1" and match.modified and "100" in match.changes
