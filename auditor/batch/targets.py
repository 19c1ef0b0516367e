"""Which targets a census covers: those given, those the Hub's model listing names, one shard of them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from auditor.errors import UsageError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` (1 <= I <= N) as (I, N)."""
    match = _SHARD.match(text or "")
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise UsageError(f"--shard {text!r}: use I/N with 1 <= I <= N, e.g. 2/8")
    return int(match.group(1)), int(match.group(2))


def in_shard(target: str, shard: tuple[int, int] | None) -> bool:
    """Whether `target` belongs to shard I of N: by a hash of its name, so every machine agrees
    whatever order or subset of the list it was given."""
    if shard is None:
        return True
    index, count = shard
    digest = hashlib.sha256(target.strip().lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count == index - 1


def unique(targets: Iterable[str]) -> list[str]:
    """Each target once, in first-seen order."""
    return list(dict.fromkeys(t.strip() for t in targets if t and t.strip()))
