"""What a file's first bytes say it is, whatever its name says: the magic numbers models ship under.

Names lie (a PyTorch checkpoint packed with 7z keeps its `.pt`; a joblib dump compressed
with zlib keeps its `.joblib`), so the scanner that reads a file is chosen from its content
where the content has a signature, and from the classifier's format by name where it has
none (protobuf, raw tensor bytes).
"""

from __future__ import annotations

HEAD = 512  # enough for every signature below (a tar's "ustar" sits at byte 257)

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x93NUMPY", "numpy"),
    (b"\x89HDF\r\n\x1a\n", "hdf5"),
    (b"GGUF", "gguf"),
    (b"FUGG", "gguf"),  # big-endian GGUF
)
# zlib streams (joblib's default compressor) open with CMF 0x78 and a FLG making CMF*256+FLG divisible by 31.
_ZLIB_FLAGS = frozenset({0x01, 0x5E, 0x9C, 0xDA})
# A raw LZMA ("alone") stream as Python's lzma module writes it: properties byte 0x5D, a
# dictionary size, and an unknown (all ones) uncompressed size.
_LZMA_PROPERTIES = 0x5D


def sniff(head: bytes) -> str | None:
    """The content format the head's signature names, or None when it has none we know."""
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    if head[257:262] == b"ustar" or _old_tar(head):
        return "tar"
    if len(head) >= 2 and head[0] == 0x78 and head[1] in _ZLIB_FLAGS:
        return "zlib"
    if len(head) >= 13 and head[0] == _LZMA_PROPERTIES and head[5:13] == b"\xff" * 8:
        return "lzma"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    return None


def _old_tar(head: bytes) -> bool:
    """A pre-POSIX tar header (no "ustar" magic): a valid octal checksum over the 512-byte block."""
    if len(head) < 512 or not head[:1].strip(b"\0"):
        return False
    field = head[148:156].split(b"\0", 1)[0].strip()
    if not field or any(c not in b"01234567" for c in field):
        return False
    block = head[:148] + b" " * 8 + head[156:512]
    return int(field, 8) == sum(block)
