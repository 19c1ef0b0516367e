"""The disk cache of parsed profiles and of the matcher's index: where it lives, that it is
read back exactly, and that a corrupt or unwritable cache only costs a rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.identify import diskcache, identify_text
from auditor.identify.engine import index_for
from auditor.identify.index import build_index, decode_index
from auditor.identify.kb import default_root, read_knowledge_base

APACHE = (default_root() / "texts" / "apache-2.0.txt").read_text(encoding="utf-8")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "licence-index"


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path) -> None:
    from auditor.batch.cache import default_cache_dir

    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "explicit"))
    assert diskcache.cache_dir() == tmp_path / "explicit" / "licence-index"
    monkeypatch.delenv("AUDITOR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert diskcache.cache_dir() == tmp_path / "xdg" / "audit-model" / "licence-index"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert diskcache.cache_dir() == tmp_path / "home" / ".cache" / "audit-model" / "licence-index"
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "audit-model"  # census results share the root


def test_a_second_read_comes_from_the_cache_and_matches_the_same(cache) -> None:
    first = read_knowledge_base(default_root())
    built = index_for(first)
    files = sorted(p.name.split("-")[0] for p in cache.iterdir())
    assert files == ["index", "profiles"]
    second = read_knowledge_base(default_root())
    assert second.fingerprint == first.fingerprint
    assert [p.id for p in second] == [p.id for p in first]
    loaded = index_for(second)
    assert loaded.postings == built.postings and loaded.exact == built.exact
    assert [r.tokens for r in loaded.references] == [r.tokens for r in built.references]
    assert [m.id for m in identify_text(APACHE, "LICENSE", second)] == ["apache-2.0"]


def test_a_corrupt_cache_is_rebuilt_silently(cache) -> None:
    kb = read_knowledge_base(default_root())
    index_for(kb)
    for path in cache.iterdir():
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    again = read_knowledge_base(default_root())
    assert len(again) == len(kb)
    assert [m.id for m in identify_text(APACHE, "LICENSE", again)] == ["apache-2.0"]
    # and the rebuilt files replace the broken ones
    assert decode_index((cache / f"index-{kb.fingerprint}.bin").read_bytes(), again) is not None


def test_an_unwritable_cache_falls_back_to_memory(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(blocker / "cache"))
    kb = read_knowledge_base(default_root())
    assert [m.id for m in identify_text(APACHE, "LICENSE", kb)] == ["apache-2.0"]
    assert blocker.read_text() == "not a directory"


def test_another_knowledge_base_has_another_fingerprint(tmp_path, cache) -> None:
    root = tmp_path / "kb"
    (root / "texts").mkdir(parents=True)
    (root / "texts" / "apache-2.0.txt").write_text(APACHE, encoding="utf-8")
    profile = (default_root() / "apache-2.0.yaml").read_text(encoding="utf-8")
    (root / "apache-2.0.yaml").write_text(profile, encoding="utf-8")
    small = read_knowledge_base(root)
    assert small.fingerprint != read_knowledge_base(default_root()).fingerprint
    assert len(index_for(small).references) == 1 == len(build_index(small).references)


def test_a_verbatim_reference_text_is_answered_as_the_full_match_would_be(cache) -> None:
    from auditor.identify.engine import identify_normalised
    from auditor.identify.normalise import normalise

    kb = read_knowledge_base(default_root())
    index = index_for(kb)
    assert index.verbatim, "no reference text is answered by hash"
    again = index_for(read_knowledge_base(default_root()))  # read back from the disk cache
    assert again.verbatim == index.verbatim
    for number, _first, _last in list(index.verbatim.values())[:20]:
        profile = index.references[number].profile
        text = profile.reference_text()
        fast = identify_text(text, "LICENSE", kb)
        slow = tuple(identify_normalised(normalise(text), "LICENSE", kb))
        assert fast == slow, profile.id
