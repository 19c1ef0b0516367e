"""Combine licence matches into one SPDX expression (license-expression does the parsing).

Each match contributes its SPDX id (else LicenseRef-<id>); the ids are joined with AND,
duplicates dropped, and the result simplified by license-expression. References to a
licence kept elsewhere and policies are left out: they grant nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from auditor.identify.names import licence_ref
from auditor.model import LicenceKind, LicenceMatch

if TYPE_CHECKING:
    from license_expression import Licensing



@lru_cache(maxsize=1)
def _licensing() -> Licensing:
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def spdx_key(match: LicenceMatch) -> str:
    """The SPDX id to use for a match: its own, else a LicenseRef- built from its id."""
    if match.spdx:
        return match.spdx
    return licence_ref(match.id)


def spdx_expression(matches: Iterable[LicenceMatch]) -> str | None:
    """One SPDX expression for the licences among `matches` (AND), or None when there is none."""
    keys = list(dict.fromkeys(spdx_key(m) for m in matches if m.kind is LicenceKind.LICENCE))
    if not keys:
        return None
    text = " AND ".join(keys)
    try:
        return str(_licensing().parse(text, simple=True))
    except Exception:  # noqa: BLE001 - license-expression raises many types; the plain join is still right
        return text
