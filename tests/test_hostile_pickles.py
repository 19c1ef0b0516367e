"""Pickles built to make a walker slow or confused by FRAMEs ending inside payloads: a frame
that ends in the middle of BINBYTES, SHORT_BINBYTES or BINUNICODE8 data (where CPython's
loaders disagree, and one may run the payload as opcodes), nested so each payload holds the
next, padded so every point where a walk may resume leads into the next, repeated, and inside
a nested `pickle.loads` payload. Each is built here, audited through the CLI under the memory
cap with a deadline of its own, and must end with the right finding: the call hidden in the
payloads found, or, past the depth budget, the file unscannable, never a clean pass and never
the step or time budget spent."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hostile.grouped import Case, run_group
from hostile.limits import assert_clean, tree_state

MIT = (Path(__file__).parents[1] / "licences" / "texts" / "mit.txt").read_text(encoding="utf-8")
CALL = b"cos\nsystem\nVecho x\n\x85R0"  # os.system("echo x"), its result popped
_PREFIXES: dict[str, Callable[[int], bytes]] = {
    "BINBYTES": lambda n: b"B" + struct.pack("<I", n),
    "SHORT_BINBYTES": lambda n: b"C" + bytes([n]),
    "BINUNICODE8": lambda n: b"\x8d" + struct.pack("<Q", n),
}


def straddle(body: bytes, opcode: str = "BINBYTES", pad: int = 16) -> bytes:
    """A FRAME that ends one byte into the payload of `opcode`, whose payload is `pad` NONEs and
    then `body`: a walk resumed at any of the first `pad` bytes reaches `body` whole."""
    payload = b"N" * pad + body
    prefix = _PREFIXES[opcode](len(payload))
    return b"\x95" + struct.pack("<Q", len(prefix) + 1) + prefix + payload + b"0"


def nested(depth: int, core: bytes, opcode: str = "BINBYTES", pad: int = 16) -> bytes:
    """A protocol 4 pickle of `depth` straddling frames, each payload holding the next, `core` innermost."""
    for _ in range(depth):
        core = straddle(core, opcode, pad)
    return b"\x80\x04" + core + b"N."


def loads_of(inner: bytes) -> bytes:
    """Opcodes calling pickle.loads(inner)."""
    return b"cpickle\nloads\nB" + struct.pack("<I", len(inner)) + inner + b"\x85R0"


PICKLES: dict[str, bytes] = {
    "binbytes-3-deep": nested(3, CALL),
    "short-binbytes-3-deep": nested(3, CALL, "SHORT_BINBYTES", pad=4),
    "binunicode8-3-deep": nested(3, CALL, "BINUNICODE8"),
    "binbytes-2000-deep": nested(2000, CALL, pad=1),  # deeper than any recursion limit
    "binbytes-6-deep-every-offset": nested(6, b"N0"),  # nothing imported: every resync offset is tried
    "binbytes-4-deep-repeated": b"\x80\x04" + straddle(nested(3, CALL)[2:-2]) * 2000 + b"N.",
    "in-loads": b"\x80\x04" + loads_of(nested(2, CALL)) + b"N.",
    "in-loads-in-a-straddle": b"\x80\x04" + straddle(loads_of(nested(1, CALL))) + b"N.",
    "6-deep-in-loads": b"\x80\x04" + loads_of(nested(6, b"N0")) + b"N.",
}
FOUND = ["binbytes-3-deep", "short-binbytes-3-deep", "binunicode8-3-deep", "binbytes-4-deep-repeated", "in-loads",
         "in-loads-in-a-straddle"]
PAST_DEPTH = ["binbytes-2000-deep", "binbytes-6-deep-every-offset", "6-deep-in-loads"]


@pytest.fixture(scope="module")
def audited(request, tmp_path_factory) -> Iterator[Callable[[str], dict[str, list[str]]]]:
    """Each selected pickle as `model.pkl` of a folder of its own, audited in one capped group; gives its findings."""
    selected = sorted({item.callspec.params["case"] for item in request.session.items
                       if item.module is request.module and "case" in getattr(getattr(item, "callspec", None), "params", {})})
    base = tmp_path_factory.mktemp("frames")
    cases = []
    for name in selected:
        root = base / name
        root.mkdir()
        (root / "LICENSE").write_text(MIT, encoding="utf-8")
        (root / "README.md").write_text("---\nlicense: mit\n---\n# a model\n", encoding="utf-8")
        (root / "model.pkl").write_bytes(PICKLES[name])
        cases.append(Case(name, (str(root), "--no-check-links", "--format", "json")))
    before = tree_state(base)
    group = run_group(cases, cwd=base)
    assert tree_state(base) == before, "an audit wrote in or beside its target"

    def findings(name: str) -> dict[str, list[str]]:
        outcome = group.outcome(name)
        assert_clean(outcome, 1)  # a file unsafe to load, or one that could not be walked, fails the default gate
        found: dict[str, list[str]] = {}
        for item in json.loads(outcome.stdout)["findings"]:
            found.setdefault(item["code"], []).append(item["message"])
        return found

    yield findings


def test_the_pickles_are_what_they_claim():
    """Each frame ends inside its payload, and the payloads nest as named."""
    one = straddle(b"N0")
    frame_length = struct.unpack("<Q", one[1:9])[0]
    assert 9 + frame_length == 9 + 5 + 1  # the frame ends one byte past BINBYTES' length field
    assert PICKLES["binbytes-2000-deep"].count(b"\x95") == 2000
    assert len(PICKLES["binbytes-6-deep-every-offset"]) < 300


@pytest.mark.parametrize("case", FOUND)
def test_a_call_hidden_in_payloads_straddling_frames_is_found(audited, case):
    found = audited(case)
    assert any("runs past the end of its FRAME" in message for message in found["unsafe-pickle"]), found
    assert any("os.system" in message for message in found["unsafe-pickle"]), found
    assert "pickle-unscannable" not in found, found


@pytest.mark.parametrize("case", PAST_DEPTH)
def test_straddles_nested_past_the_depth_budget_are_unscannable(audited, case):
    found = audited(case)
    [message] = found["pickle-unscannable"]
    assert "depth budget" in message and "FRAME" in message, message
    assert "step budget" not in message and "time budget" not in message and "failed" not in message
