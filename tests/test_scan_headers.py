"""safetensors and GGUF headers: facts, malformed headers, and the GGUF licence against the card."""

import json
import struct

import pytest
from fixtures.weights.builders import ARRAY, F32, STRING, U32, U64, gguf, reader, safetensors

from auditor.scan import check_gguf_licence, scan_weight_file


def _scan(path, data, budget=1 << 20, size=None):
    return scan_weight_file(path, len(data) if size is None else size, reader(data), budget)


def _codes(scan):
    return [f.code for f in scan.findings]


# safetensors


def test_valid_safetensors_facts():
    data = safetensors({"w": ("BF16", (4, 8)), "b": ("F32", (8,)), "step": ("I64", ())}, metadata={"format": "pt"})
    scan = _scan("model.safetensors", data)
    assert scan.format == "safetensors" and scan.findings == ()
    assert scan.facts["tensors"] == 3
    assert scan.facts["dtypes"] == ["BF16", "F32", "I64"]
    assert scan.facts["parameters"] == 4 * 8 + 8 + 1
    assert scan.facts["metadata"] == {"format": "pt"}


def test_safetensors_header_is_read_without_the_tensor_data():
    data = safetensors({"w": ("F32", (1024, 1024))})  # 4 MiB of data after a tiny header
    scan = _scan("model.safetensors", data)
    assert scan.findings == () and scan.bytes_read <= 64 * 1024


def _raw(header: bytes, data_size: int = 0, length: int | None = None) -> bytes:
    return struct.pack("<Q", len(header) if length is None else length) + header + bytes(data_size)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x01\x02", "fewer than the 8-byte"),
        (_raw(b"{}", length=200_000_000), "exceeds the format's limit"),
        (_raw(b"{}", length=4096), "runs past the end"),
        (_raw(b"not json"), "not JSON"),
        (_raw(b"[1, 2]"), "not a JSON object"),
        (_raw(b"[" * 100_000), "not JSON"),
        (_raw(json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}).encode(), 4), "do not hold"),
        (_raw(json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}).encode(), 8), "gap or overlap"),
        (_raw(json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode(), 40), "holds 40 data bytes"),
        (_raw(json.dumps({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}).encode(), 4), "non-negative"),
        (_raw(json.dumps({"__metadata__": {"a": 1}}).encode()), "map of strings"),
    ],
)
def test_malformed_safetensors_headers(data, reason):
    scan = _scan("model.safetensors", data)
    assert _codes(scan) == ["safetensors-header-invalid"]
    assert reason in scan.findings[0].message


def test_safetensors_header_beyond_the_budget_is_left_unread_not_invalid():
    data = safetensors({f"t{i}": ("F32", (1,)) for i in range(3000)})
    scan = _scan("model.safetensors", data, budget=16 * 1024)
    assert scan.findings == () and "unscanned" in scan.facts
    assert scan.bytes_read <= 16 * 1024


# GGUF

_GENERAL = [
    ("general.architecture", STRING, "llama"),
    ("general.name", STRING, "Tiny Llama"),
    ("general.basename", STRING, "tiny-llama"),
    ("general.size_label", STRING, "1.1B"),
    ("general.license", STRING, "apache-2.0"),
    ("general.parameter_count", U64, 1_100_048_384),
    ("general.tags", ARRAY, (STRING, ["text-generation", "llama"])),
    ("llama.context_length", U32, 2048),
    ("llama.rope.freq_base", F32, 10000.0),
]
_TOKENIZER = [
    ("tokenizer.ggml.model", STRING, "llama"),
    ("tokenizer.ggml.tokens", ARRAY, (STRING, [f"tok{i}" for i in range(20000)])),
]


def test_clean_gguf_facts():
    scan = _scan("tiny.Q4_K_M.gguf", gguf(_GENERAL + _TOKENIZER, tensors=201))
    assert scan.format == "gguf" and scan.findings == ()
    facts = scan.facts
    assert (facts["architecture"], facts["name"], facts["basename"], facts["size_label"]) == ("llama", "Tiny Llama", "tiny-llama", "1.1B")
    assert facts["license"] == "apache-2.0" and facts["parameters"] == 1_100_048_384
    assert facts["version"] == 3 and facts["tensors"] == 201 and facts["metadata_keys"] == 11
    assert facts["metadata_read"] == 11  # every key, the tokenizer's too
    assert facts["metadata"]["tokenizer.ggml.model"] == "llama" and "unscanned" not in facts
    assert check_gguf_licence(scan, ["apache-2.0"]) is None


def test_gguf_licence_mismatch_with_the_card():
    pairs = [p if p[0] != "general.license" else ("general.license", STRING, "mit") for p in _GENERAL]
    scan = _scan("model.gguf", gguf(pairs + _TOKENIZER))
    found = check_gguf_licence(scan, ["apache-2.0"])
    assert found.code == "gguf-licence-mismatch"
    assert "'mit'" in found.message and "apache-2.0" in found.message
    assert found.evidence == ("model.gguf",)


@pytest.mark.parametrize(
    ("inside", "card", "mismatch"),
    [
        ("Apache-2.0", ["apache-2.0"], False),
        ("apache 2.0", ["apache-2.0"], False),
        ("Apache License, Version 2.0", ["apache-2.0"], False),
        ("MIT License", ["mit"], False),
        ("Llama 3.1 Community License", ["llama3.1"], False),
        ("apache-2.0 OR mit", ["mit"], False),
        ("gpl-3.0", ["gpl-2.0"], True),
        ("mit-0", ["mit"], True),
        ("cc-by-nc-4.0", ["cc-by-4.0"], True),
        ("mit", ["other"], False),  # a custom licence on the card cannot be compared
        ("mit", [], False),
    ],
)
def test_licence_comparison_is_loose_about_spelling_only(inside, card, mismatch):
    pairs = [("general.architecture", STRING, "llama"), ("general.license", STRING, inside)]
    scan = _scan("m.gguf", gguf(pairs))
    assert (check_gguf_licence(scan, card) is not None) is mismatch


def test_check_ignores_other_formats_and_gguf_without_licence():
    scan = _scan("m.gguf", gguf(_GENERAL[:2]))
    assert check_gguf_licence(scan, ["mit"]) is None
    assert check_gguf_licence(_scan("m.safetensors", safetensors({"w": ("F32", (1,))})), ["mit"]) is None


def test_gguf_version_1_and_big_endian():
    v1 = _scan("old.gguf", gguf(_GENERAL, version=1))
    be = _scan("be.gguf", gguf(_GENERAL, order=">"))
    assert v1.findings == () and v1.facts["name"] == "Tiny Llama"
    assert be.findings == () and be.facts["byte_order"] == "big" and be.facts["license"] == "apache-2.0"


def test_numeric_arrays_are_skipped_unread_and_string_arrays_by_their_lengths():
    scores = ("tokenizer.ggml.scores", ARRAY, (F32, [0.0] * 500_000))  # 2 MB of floats, never read
    template = ("tokenizer.chat_template", STRING, "{% for m in messages %}{{ m.content }}{% endfor %}")
    data = gguf(_GENERAL + _TOKENIZER + [scores, template])
    assert len(data) > 2_000_000
    scan = _scan("m.gguf", data, budget=1 << 20, size=5 * 10**9)
    assert scan.findings == () and "unscanned" not in scan.facts
    assert scan.facts["metadata"]["tokenizer.chat_template"].startswith("{% for m in messages %}")
    assert scan.bytes_read < 400 * 1024  # the 20,000 tokens (about 330 kB) were walked; the floats were not


def test_keys_in_any_order_all_read_and_the_base_model_after_the_tokenizer_is_lineage():
    bases = [("general.base_model.count", U32, 1), ("general.base_model.0.organization", STRING, "Meta Llama"),
             ("general.base_model.0.name", STRING, "Llama 3.1 8B"),
             ("general.base_model.0.repo_url", STRING, "https://huggingface.co/meta-llama/Llama-3.1-8B")]
    scan = _scan("m.gguf", gguf(_TOKENIZER + bases + _GENERAL[4:5]))
    assert scan.facts["base_models"] == ["https://huggingface.co/meta-llama/Llama-3.1-8B"]
    assert scan.facts["license"] == "apache-2.0" and scan.facts["metadata_read"] == 7


def test_a_string_array_past_the_budget_says_which_key_was_skipped():
    pairs = _GENERAL[:2] + [("tokenizer.ggml.merges", ARRAY, (STRING, ["a b" * 20] * 5000))] + _GENERAL[4:5]
    scan = _scan("m.gguf", gguf(pairs), budget=64 * 1024)
    assert scan.findings == () and scan.facts["metadata_read"] == 2
    assert "'tokenizer.ggml.merges'" in scan.facts["unscanned"] and "key 3 of 4" in scan.facts["unscanned"]
    assert "license" not in scan.facts and scan.facts["metadata"]["general.name"] == "Tiny Llama"


def test_an_overlong_string_value_is_skipped_and_named():
    scan = _scan("m.gguf", gguf(_GENERAL[:1] + [("tokenizer.chat_template", STRING, "x" * 300_000)] + _GENERAL[4:5]), budget=4 << 20)
    assert scan.facts["metadata_skipped"] == ["tokenizer.chat_template"] and scan.facts["license"] == "apache-2.0"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GGML" + bytes(40), "magic"),
        (b"GGUF\x07\x00\x00\x00" + bytes(40), "version"),
        (gguf(_GENERAL)[:60], "truncated"),
        (gguf([("general.name", 42, bytes(8))]), "unknown value type 42"),
        (b"GGUF\x03\x00\x00\x00" + struct.pack("<QQ", 0, 10**12) + bytes(64), "cannot fit"),
    ],
)
def test_malformed_gguf(data, reason):
    scan = _scan("m.gguf", data)
    assert _codes(scan) == ["gguf-header-invalid"]
    assert reason in scan.findings[0].message


def test_gguf_beyond_the_budget_keeps_what_it_read():
    pairs = _GENERAL[:2] + [("general.tags", ARRAY, (STRING, ["x" * 100] * 2000))] + _GENERAL[4:5]
    scan = _scan("m.gguf", gguf(pairs), budget=8 * 1024)
    assert scan.findings == ()
    assert scan.facts["name"] == "Tiny Llama" and "unscanned" in scan.facts and "license" not in scan.facts
