"""The one way a local target's file is read: inside its boundary, a regular file, a capped length.

A local target is hostile: a symlink may lead out of it (to a user's secrets), a FIFO where a
small file is expected would block a read forever, a device or a 1 GiB `refs/main` would cost
without end. `read_inside` resolves every symlink and refuses a path whose real location is
outside the boundary (the target folder, or for a Hugging Face cache its `models--*` folder),
opens without blocking and without following a last symlink, and reads only a regular file,
only up to the length asked. A refusal names the reason, never the file's content.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

SMALL_CAP = 4096  # a git HEAD, a ref, a `refs/main`, a download's `.metadata`: a line of text
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_CHUNK = 1 << 20


class Refused(OSError):
    """A file not read: outside the boundary, not a regular file, or unreadable; `reason` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def inside(boundary: str | Path, path: str | Path) -> bool:
    """Whether `path`, every symlink resolved, is `boundary` (resolved) or within it."""
    real_boundary = os.path.realpath(boundary)
    real = os.path.realpath(path)
    return os.path.commonpath([real_boundary, real]) == real_boundary


def read_inside(path: str | Path, boundary: str | Path, start: int = 0, length: int = SMALL_CAP) -> bytes:
    """At most `length` bytes of `path` from `start`; Refused when it leaves `boundary` or is not a regular file."""
    real = os.path.realpath(path)
    if not inside(boundary, real):
        raise Refused("a symlink leading outside the target")
    try:
        fd = os.open(real, _FLAGS)
    except OSError as error:
        raise Refused(f"unreadable ({error.strerror or type(error).__name__})") from None
    try:
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind):
            raise Refused(f"not a regular file ({_kind(kind)})")
        parts: list[bytes] = []
        got = 0
        while got < length:
            chunk = os.pread(fd, min(_CHUNK, length - got), start + got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)
    except Refused:
        raise
    except OSError as error:
        raise Refused(f"unreadable ({error.strerror or type(error).__name__})") from None
    finally:
        os.close(fd)


def read_or_none(path: str | Path, boundary: str | Path, start: int = 0, length: int = SMALL_CAP) -> bytes | None:
    """`read_inside`, None when refused."""
    try:
        return read_inside(path, boundary, start, length)
    except Refused:
        return None


def read_line(path: str | Path, boundary: str | Path) -> str | None:
    """The first line of a small text file (a ref, HEAD), read up to SMALL_CAP bytes; None when refused."""
    data = read_or_none(path, boundary)
    return None if data is None else data.split(b"\n", 1)[0].decode("utf-8", "replace").strip()


def not_regular(path: str | Path) -> str | None:
    """Why `path` (symlinks followed) is not a regular file to read, or None when it is one."""
    try:
        kind = os.stat(path).st_mode
    except OSError:
        return "broken symlink"
    return None if stat.S_ISREG(kind) else f"not a regular file ({_kind(kind)})"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a file"
