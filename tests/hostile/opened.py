"""Which files and folders under some roots a run opened, from the kernel's own record (inotify).

Comparing a tree before and after a run shows what was written; only the kernel sees what was
read. Every folder under each root is watched (links not followed) for opens and reads of its
files and of itself (a listing opens the folder), before the run starts; the events are
queued at the system call, so they are all there once the run has exited."""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

IN_ACCESS, IN_OPEN = 0x1, 0x20
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len, then len bytes of name


class Opened:
    """The paths opened or read under the watched roots, filled in when the watch ends."""

    def __init__(self) -> None:
        self.paths: set[str] = set()


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    return libc


@contextmanager
def opened_under(*roots: Path) -> Iterator[Opened]:
    """Watch `roots` for the block's duration; `Opened.paths` names what was opened or read."""
    libc = _libc()
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1 failed")
    watched: dict[int, str] = {}
    opened = Opened()
    try:
        folders = [base for root in roots for base, _dirs, _names in os.walk(root)]  # listed before any watch
        for base in folders:
            wd = libc.inotify_add_watch(fd, os.fsencode(base), IN_OPEN | IN_ACCESS)
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"cannot watch {base}")
            watched[wd] = base
        yield opened
        opened.paths = _drain(fd, watched)
    finally:
        os.close(fd)


def _drain(fd: int, watched: dict[int, str]) -> set[str]:
    paths: set[str] = set()
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return paths
        offset = 0
        while offset < len(data):
            wd, _mask, _cookie, length = _EVENT.unpack_from(data, offset)
            offset += _EVENT.size
            name = data[offset:offset + length].rstrip(b"\0").decode("utf-8", "replace")
            offset += length
            if wd in watched:
                paths.add(os.path.join(watched[wd], name) if name else watched[wd])
