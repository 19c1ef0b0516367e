"""Damaged files of every format: a scan reports, it never raises."""

import random

import pytest
from fixtures.weights.builders import (
    ARRAY,
    STRING,
    U8,
    Call,
    Ref,
    dumps,
    gguf,
    legacy_torch,
    reader,
    safetensors,
    state_dict,
    torch_zip,
)

from auditor.scan import scan_weight_file

_SEEDS = {
    "stored.pt": lambda: torch_zip(state_dict({"w": (2, 3), "b": (3,)})),
    "deflated.pt": lambda: torch_zip(state_dict({"w": (2, 3)}), compress=True),
    "legacy.bin": lambda: legacy_torch(*state_dict({"w": (2, 3)})),
    "p4.pkl": lambda: dumps({"x": Call(Ref("os", "system"), ("id",))}, 4),
    "p0.pkl": lambda: dumps({"x": Call(Ref("os", "system"), ("id",))}, 0),
    "m.safetensors": lambda: safetensors({"w": ("F32", (2, 3))}, {"a": "b"}),
    "m.gguf": lambda: gguf([("general.name", STRING, "x"), ("general.tags", ARRAY, (STRING, ["a", "b"])), ("x.y", ARRAY, (ARRAY, [(U8, [1, 2])]))]),
}


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            break
        pos, roll = rng.randrange(len(out)), rng.random()
        if roll < 0.6:
            out[pos] = rng.randrange(256)
        elif roll < 0.8:
            del out[pos:pos + rng.randint(1, 20)]
        else:
            del out[pos:]
    return bytes(out)


@pytest.mark.parametrize("name", sorted(_SEEDS))
def test_mutated_files_are_reported_never_raised(name):
    rng = random.Random(name)
    original = _SEEDS[name]()
    for _ in range(300):
        data = _mutate(original, rng)
        scan = scan_weight_file(name, len(data), reader(data))
        assert scan is None or scan.bytes_read <= scan.budget
