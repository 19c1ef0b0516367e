"""The optional deep engine: ScanCode's licence detection, answered in our profiles' terms.

`identify_text_scancode` has the signature of `identify_text`. It needs the `scancode` extra
(scancode-toolkit-mini; pluggy<1.6, since 32.5 does not start with pluggy 1.7) and loads
ScanCode's licence index on first use, which takes seconds. Each ScanCode detection is
mapped to the profile whose `scancode_key` it names (or whose id / SPDX id it is); keys the
knowledge base lacks come back as LicenseRef-scancode-<key> with a lower confidence, and
ScanCode's "unknown-license-reference" becomes a reference.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from typing import Any

from auditor.errors import UsageError
from auditor.identify.kb import KnowledgeBase, LicenceProfile
from auditor.identify.names import match_from_profile
from auditor.identify.normalise import looks_like_text
from auditor.model import LicenceKind, LicenceMatch, MatchMethod

_KEY = re.compile(r"[\w.+-]+")
_OPERATORS = {"and", "or", "with"}
_UNKNOWN_CONFIDENCE = 0.5


def _get_licenses() -> Callable[[str], dict[str, Any]]:
    try:
        from scancode.api import get_licenses
    except ImportError as error:
        raise UsageError(
            "the scancode licence engine needs scancode-toolkit: pip install 'auditor[scancode]' "
            f"(scancode-toolkit-mini with pluggy<1.6) ({error})"
        ) from None
    return get_licenses


def _profile_for_key(key: str, kb: KnowledgeBase) -> LicenceProfile | None:
    return kb.by_scancode_key.get(key) or kb.lookup(key)


def identify_text_scancode(text: str, source: str, kb: KnowledgeBase) -> tuple[LicenceMatch, ...]:
    """identify_text through ScanCode: one match per licence key, in the order found."""
    get_licenses = _get_licenses()
    if not isinstance(text, str) or not looks_like_text(text):
        return ()
    # ScanCode reads files: hand it the text through a temporary one
    handle, path = tempfile.mkstemp(suffix=".txt")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        detected = get_licenses(path)
    finally:
        os.unlink(path)
    found: dict[str, LicenceMatch] = {}
    for detection in detected.get("license_detections", []):
        for match in detection.get("matches", []):
            keys = [k for k in _KEY.findall(match.get("license_expression", "")) if k.lower() not in _OPERATORS]
            score = float(match.get("score") or 0) / 100
            span = (match.get("start_line"), match.get("end_line"))
            for key in keys:
                if key in found:
                    continue
                found[key] = _to_match(key, score, span, source, kb)
    return tuple(found.values())


def _to_match(key: str, score: float, lines: tuple[int | None, int | None], source: str, kb: KnowledgeBase) -> LicenceMatch:
    profile = _profile_for_key(key, kb)
    first, last = lines
    span = (first, last) if first is not None and last is not None else None
    if profile is not None:
        return match_from_profile(profile, source, score, MatchMethod.SCANCODE, span, modified=score < 0.95)
    kind = LicenceKind.REFERENCE if key.startswith("unknown") else LicenceKind.LICENCE
    return LicenceMatch(
        id=f"scancode:{key}", name=key, spdx=f"LicenseRef-scancode-{key}", kind=kind, source=source,
        confidence=min(round(score, 2), _UNKNOWN_CONFIDENCE), method=MatchMethod.SCANCODE, span=span,
    )
