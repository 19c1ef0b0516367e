"""Which files the fetcher reads: the selection table row by row, the caps, peeking, decoding."""

from __future__ import annotations

import pytest

from auditor.model import FileEntry, SkipKind, Skipped
from auditor.sources.lfs import parse_pointer
from auditor.sources.selection import FILE_CAP, TOTAL_CAP, looks_like_licence_text, rule_for, rules, select
from auditor.sources.texts import decode_text


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.example)
def test_every_example_lands_on_its_own_row(rule):
    assert rule_for(rule.example) is rule


@pytest.mark.parametrize(
    "path, read",
    [
        ("README.md", "card"),
        ("readme.MD", "card"),
        ("LICENSE", "licence"),
        ("LICENCE.txt", "licence"),
        ("license.md", "licence"),
        ("MODEL-LICENSE", "licence"),
        ("model_license.txt", "licence"),
        ("weights.safetensors.license", "licence"),
        ("Notice", "licence"),
        ("COPYING.LESSER", "licence"),
        ("LICENSES/Apache-2.0.txt", "licence"),
        ("third_party/licences/bsd.txt", "licence"),
        ("USE_POLICY.md", "licence"),
        ("USAGE_POLICY", "licence"),
        ("ACCEPTABLE-USE-POLICY.md", "licence"),
        ("LLAMA_TERMS.txt", "licence"),
        ("Gemma_Terms_of_Use.md", "licence"),
        ("config.json", "config"),
        ("text_encoder/config.json", "config"),
        ("adapter_config.json", "config"),
        ("pytorch_model.bin.index.json", "config"),
        ("modeling_custom.py", "code"),
        ("requirements.txt", "code"),
        ("policy_model.safetensors", "never"),
        ("data/LICENSE", "licence"),
        ("data/train.txt", "never"),
        ("docs/notes.md", "peek"),
    ],
)
def test_rows_cover_the_names_repos_use(path, read):
    assert rule_for(path).read == read


@pytest.mark.parametrize("path", ["model.safetensors", "tokenizer.json", "tokenizer_config.json", ".gitattributes", "vocab.json"])
def test_other_files_are_not_read(path):
    rule = rule_for(path)
    assert rule is None or rule.read == "never"
    assert select([FileEntry(path, 10)]).read == ()


def test_order_is_card_then_licences_then_configs_then_code():
    files = [FileEntry(p, 10) for p in ("setup.py", "config.json", "LICENSE", "sub/README.md", "README.md", "NOTICE")]
    assert select(files).read == ("README.md", "sub/README.md", "LICENSE", "NOTICE", "config.json", "setup.py")


def test_a_file_over_the_cap_is_listed_as_skipped_not_read():
    files = [FileEntry("README.md", 50_000_000, lfs=True), FileEntry("LICENSE", FILE_CAP), FileEntry("huge.py", FILE_CAP + 1)]
    selection = select(files)
    assert selection.read == ("LICENSE",)
    assert selection.unread == (Skipped("README.md", "larger than 1 MiB", SkipKind.TOO_LARGE), Skipped("huge.py", "larger than 1 MiB", SkipKind.TOO_LARGE))


def test_the_total_budget_keeps_the_most_important_files():
    files = [FileEntry(f"m{i}.py", 600) for i in range(3)] + [FileEntry("README.md", 600), FileEntry("LICENSE", 600)]
    selection = select(files, total_cap=2000)
    assert selection.read == ("README.md", "LICENSE", "m0.py")
    assert [s.path for s in selection.unread] == ["m1.py", "m2.py"]
    assert selection.unread[0].reason == "over the 2000 bytes read budget"
    assert TOTAL_CAP == 8 << 20
    capped = select(files, max_files=2)
    assert capped.read == ("README.md", "LICENSE")
    assert capped.unread[0] == Skipped("m0.py", "over the 2-file read budget", SkipKind.OVER_BUDGET)


def test_peeking_reads_only_licence_like_markdown():
    heads = {
        "Responsible-Use-Guide.md": b"# Guide\n\nYour use is subject to the licence agreement.\n",
        "docs/notes.md": b"# Notes\n\nThree epochs.\n",
        "vocab.txt": b"[PAD]\n[UNK]\n",
    }
    files = [FileEntry(p, len(h)) for p, h in heads.items()]
    asked = []

    def peek(path):
        asked.append(path)
        return heads[path]

    assert select(files).read == ()  # no peek callback: the Hub decides by name alone
    assert select(files, peek=peek).read == ("Responsible-Use-Guide.md",)
    assert sorted(asked) == sorted(heads)


def test_no_peek_at_lfs_pointers_or_large_files():
    files = [FileEntry("notes.md", 200, lfs=True), FileEntry("corpus.txt", FILE_CAP + 1)]
    assert select(files, peek=lambda path: pytest.fail(f"peeked at {path}")).read == ()


@pytest.mark.parametrize(
    "head, expected",
    [
        (b"Permission is hereby granted, free of charge", True),
        (b"Copyright (c) 2024 Someone", True),
        (b"These Terms of Use govern", True),
        (b"# Evaluation\n\nAccuracy 91%", False),
        (b"license\x00\x01\x02", False),
    ],
)
def test_licence_like_heads(head, expected):
    assert looks_like_licence_text(head) is expected


def test_decoding_replaces_bad_bytes_and_drops_a_bom():
    assert decode_text("LICENSE", "Caf\xe9".encode("latin-1")) == "Caf\ufffd"
    assert decode_text("NOTICE", "\ufeffNotice".encode()) == "Notice"
    assert decode_text("LICENSE", b"\x89PNG\r\n\x1a\n\x00\x00") == Skipped("LICENSE", "binary", SkipKind.BINARY)


def test_lfs_pointers_are_recognised_and_nothing_else():
    oid = "a" * 64
    pointer = parse_pointer(f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 4976698672\n".encode())
    assert (pointer.sha256, pointer.size) == (oid, 4976698672)
    assert parse_pointer(b"version https://git-lfs.github.com/spec/v1\nsize 12\n") is None
    assert parse_pointer(b"MIT License\n") is None
