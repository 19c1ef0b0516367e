"""Malformed input gives no licence, quickly, and never an exception."""

import os
import random

import pytest

from auditor.identify import identify_text, load_knowledge_base

KB = load_knowledge_base()


@pytest.mark.parametrize("text", [
    "",
    "   \n\n\t ",
    "MIT\x00\x00\x01binary\x00" * 100,
    b"\xff\xfe\xfa invalid utf-8 \xc3\x28",
    os.urandom(4096).decode("utf-8", errors="replace"),
    "\ufffd" * 1000,
    "{}[]<>" * 1000,
])
def test_malformed_input_gives_nothing(text):
    assert identify_text(text, "LICENSE", KB) == ()


def test_ten_megabytes_of_noise_give_nothing():
    # No wall-clock bound here (a shared machine makes one flaky): the input cap keeps this
    # cheap, and a runaway match would show as a suite that does not finish.
    rng = random.Random(7)
    noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 \n") for _ in range(1 << 16)) * 160
    assert len(noise) >= 10_000_000
    assert identify_text(noise, "LICENSE", KB) == ()


def test_a_licence_after_a_huge_prefix_is_beyond_the_cap():
    huge = "lorem ipsum " * 200_000 + KB.get("mit").reference_text()
    assert identify_text(huge, "LICENSE", KB) == ()
