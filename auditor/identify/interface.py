"""The licence identifier's contract, which the built-in engine and ScanCode's both satisfy.

An identifier reads one file's text and returns the licences, policies and references it
holds, each a LicenceMatch whose `source` is the path given; it never raises on odd input.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from auditor.model import LicenceMatch

if TYPE_CHECKING:
    from auditor.identify.kb import KnowledgeBase

ENGINES = ("builtin", "scancode")  # the names --licence-engine accepts


class LicenceIdentifier(Protocol):
    """identify(text, source, kb): the matches found in one text (engine.identify_text, scancode_engine)."""

    def __call__(self, text: str, source: str, kb: KnowledgeBase, /) -> Iterable[LicenceMatch]:
        """The matches in `text`, each with `source` as where it was found."""
        ...


def licence_engine(name: str) -> LicenceIdentifier:
    """The identifier `--licence-engine NAME` chooses; ScanCode's is imported only when chosen."""
    if name == "scancode":
        from auditor.identify.scancode_engine import identify_text_scancode

        return identify_text_scancode
    from auditor.identify.engine import identify_text

    return identify_text
