"""Which targets a census covers: those given, those the Hub's model listing names, one shard of them.

A repo is audited once however it is spelt (`org/x`, `org/x/`, `hf.co/org/x`, its URL): targets
are told apart by `target_key`. Ids from the Hub's listing are Hub ids, never local paths, even
when a folder of that name exists where the census runs."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import UsageError
from auditor.model import Target, TargetKind
from auditor.targets import hub_spelling, listed_id

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


def target_key(text: str, hub_only: bool = False) -> str:
    """What a target argument names, as one string: a local folder by its real path, a Hub repo by
    its id (any spelling, case folded, as the Hub resolves it) and revision. `hub_only`: the text
    came from a listing or --targets-from, so it names no folder, whatever exists here."""
    text = text.strip()
    path = Path(text).expanduser()
    if not hub_only and not hub_spelling(text, url_only=True) and path.exists():
        return "local:" + os.path.realpath(path)
    spelt = hub_spelling(text)
    if spelt is not None:
        repo_id, revision = spelt
        return f"hub:{repo_id.lower()}" + (f"@{revision}" if revision else "")
    return "text:" + text


def unique(targets: Iterable[str], hub_only: frozenset[str] = frozenset()) -> list[str]:
    """Each target once, in first-seen order, however it is spelt (the first spelling is kept);
    the texts in `hub_only` are keyed as Hub ids, never as the folders they may look like."""
    kept: dict[str, str] = {}
    for text in targets:
        if text and text.strip():
            kept.setdefault(target_key(text, text in hub_only), text.strip())
    return list(kept.values())


@dataclass(frozen=True)
class HubIdsAsHub:
    """`parse_target`, except that the ids in `hub_ids` (from the Hub's listing) always name Hub
    repos (a value, not a closure, so worker processes can be handed it)."""

    parse_target: Callable[[str, str | None], Target]
    hub_ids: frozenset[str] = frozenset()

    def listed(self, text: str) -> bool:
        """Whether `text` came from the Hub's listing or from a list of Hub ids."""
        return text in self.hub_ids or listed_id(self.parse_target, text)

    def __call__(self, text: str, revision: str | None) -> Target:
        """The Target `text` names."""
        if text in self.hub_ids:
            return Target(TargetKind.HUB, repo_id=text, revision=revision)
        return self.parse_target(text, revision)
