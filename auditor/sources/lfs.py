"""Git LFS pointer files: what a clone without `git lfs pull` holds in place of large files.

A pointer is a small text file (under 1024 bytes by the spec) starting with the spec's
version line, then `oid sha256:<64 hex>` and `size <bytes>`. The local source lists it as the
large file it stands for and never reads it as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

POINTER_MAX = 1024
_VERSION = b"version https://git-lfs.github.com/spec/v1"
_OID = re.compile(r"^oid sha256:([0-9a-f]{64})\s*$", re.M)
_SIZE = re.compile(r"^size (\d+)\s*$", re.M)

NOT_CHECKED_OUT = "Git LFS pointer: content not checked out"


@dataclass(frozen=True)
class Pointer:
    """A Git LFS pointer file: the object's sha256 and size."""

    sha256: str
    size: int


def parse_pointer(data: bytes) -> Pointer | None:
    """The pointer `data` holds, or None when it is not a Git LFS pointer."""
    if len(data) >= POINTER_MAX or not data.startswith(_VERSION):
        return None
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    oid, size = _OID.search(text), _SIZE.search(text)
    if oid is None or size is None:
        return None
    return Pointer(oid.group(1), int(size.group(1)))
