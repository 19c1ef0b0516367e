"""Read a zip archive (a PyTorch checkpoint) through range reads: its directory, then one member.

The End Of Central Directory record, the ZIP64 locator before it and usually the central
directory itself all sit in the file's last 64 KiB, so one tail read finds every member.
A member is then read from its local header on, as a stream: stored members as a plain
window of the file, deflated ones inflated on the fly. Nothing else of the archive (the
tensor data) is ever read. Malformed or truncated archives raise ZipError with the reason.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from auditor.scan.base import InflateStream, RangeReader, RangeStream, Stream

_EOCD = struct.Struct("<4s4H2LH")
_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_LOCAL = struct.Struct("<4s5H3L2H")
_MAX_COMMENT = 0xFFFF
_STORED, _DEFLATED = 0, 8
_ZIP64_EXTRA = 0x0001


class ZipError(ValueError):
    """The archive cannot be read as a zip: the message says why."""


@dataclass(frozen=True)
class ZipMember:
    """One member of a zip archive's central directory."""

    name: str
    method: int
    flags: int
    compressed_size: int
    size: int
    header_offset: int


def _eocd(ranges: RangeReader) -> tuple[int, tuple]:
    """The EOCD record's offset and fields, found in one read of the file's tail."""
    tail_len = min(ranges.size, _EOCD.size + _MAX_COMMENT + _LOCATOR.size)
    tail_at = ranges.size - tail_len
    tail = ranges.read(tail_at, tail_len)
    if len(tail) < tail_len:
        raise ZipError("the file is shorter than listed (truncated)")
    pos = tail.rfind(b"PK\x05\x06")
    while pos >= 0:
        fields = _EOCD.unpack_from(tail, pos) if pos + _EOCD.size <= len(tail) else None
        # A signature inside a comment does not count: the comment must end the file.
        if fields and pos + _EOCD.size + fields[7] <= len(tail):
            return tail_at + pos, fields
        pos = tail.rfind(b"PK\x05\x06", 0, pos)
    raise ZipError("no end-of-central-directory record: the archive is truncated or not a zip")


def _directory_extent(ranges: RangeReader) -> tuple[int, int, int, int]:
    """(offset, size, entry count, shift of all offsets) of the central directory."""
    eocd_at, (_, _, _, _, count, cd_size, cd_offset, _) = _eocd(ranges)
    end = eocd_at
    needs64 = count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF
    # Writers such as PyTorch's add ZIP64 records even to small archives; they then hold
    # the authoritative values, as zipfile assumes whenever the locator is present.
    locator = ranges.read(eocd_at - _LOCATOR.size, _LOCATOR.size) if eocd_at >= _LOCATOR.size else b""
    if locator[:4] == b"PK\x06\x07":
        eocd64_at = _LOCATOR.unpack(locator)[2]
        record = ranges.read(eocd64_at, _EOCD64.size)
        if len(record) < _EOCD64.size or record[:4] != b"PK\x06\x06":
            raise ZipError("ZIP64 end-of-central-directory record missing")
        count, cd_size, cd_offset = _EOCD64.unpack(record)[7:10]
        end = eocd64_at
    elif needs64:
        raise ZipError("ZIP64 archive without its end-of-central-directory locator")
    # Bytes prepended to the archive shift every offset by the same amount (as zipfile allows).
    shift = end - cd_size - cd_offset
    if shift < 0:
        raise ZipError("the central directory's recorded offset and size overrun its end")
    return cd_offset + shift, cd_size, count, shift


def _zip64_sizes(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    """Replace the 0xFFFFFFFF fields by the 64-bit values of the ZIP64 extra field."""
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, pos)
        body = extra[pos + 4:pos + 4 + length]
        if kind == _ZIP64_EXTRA:
            values = [v[0] for v in struct.iter_unpack("<Q", body[:len(body) // 8 * 8])]
            fields = [usize, csize, offset]
            for i, value in enumerate(fields):
                if value == 0xFFFFFFFF:
                    if not values:
                        raise ZipError("ZIP64 extra field too short")
                    fields[i] = values.pop(0)
            return fields[0], fields[1], fields[2]
        pos += 4 + length
    return usize, csize, offset


def members(ranges: RangeReader) -> list[ZipMember]:
    """Every member the central directory lists."""
    cd_at, cd_size, count, shift = _directory_extent(ranges)
    directory = ranges.read(cd_at, cd_size)
    if len(directory) < cd_size:
        raise ZipError("the central directory is cut short (truncated)")
    found: list[ZipMember] = []
    pos = 0
    for _ in range(count):
        if pos + _CENTRAL.size > len(directory):
            raise ZipError(f"the central directory ends after {len(found)} of {count} entries")
        fields = _CENTRAL.unpack_from(directory, pos)
        if fields[0] != b"PK\x01\x02":
            raise ZipError(f"bad central directory entry {len(found)}")
        flags, method, csize, usize = fields[3], fields[4], fields[8], fields[9]
        name_len, extra_len, comment_len, offset = fields[10], fields[11], fields[12], fields[16]
        start = pos + _CENTRAL.size
        raw_name = directory[start:start + name_len]
        extra = directory[start + name_len:start + name_len + extra_len]
        usize, csize, offset = _zip64_sizes(extra, usize, csize, offset)
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        found.append(ZipMember(name, method, flags, csize, usize, offset + shift))
        pos = start + name_len + extra_len + comment_len
    return found


def member_head(ranges: RangeReader, member: ZipMember, size: int) -> bytes:
    """The first `size` bytes of a member's content, in one small read where the layout allows."""
    guess = _LOCAL.size + len(member.name.encode()) + 64 + size  # header, name, a typical extra field, content
    raw = ranges.read(member.header_offset, guess)
    if len(raw) < _LOCAL.size or raw[:4] != b"PK\x03\x04":
        raise ZipError(f"{member.name}: no local file header at offset {member.header_offset}")
    name_len, extra_len = _LOCAL.unpack_from(raw)[9:11]
    start = _LOCAL.size + name_len + extra_len
    want = min(size if member.method == _STORED else 1024, member.compressed_size)
    data = raw[start:start + want] if start + want <= len(raw) else ranges.read(member.header_offset + start, want)
    if member.method == _STORED:
        return data
    if member.method == _DEFLATED:
        try:
            return zlib.decompressobj(-zlib.MAX_WBITS).decompress(data, size)
        except zlib.error as exc:
            raise ZipError(f"{member.name}: corrupt deflate data: {exc}") from None
    raise ZipError(f"{member.name} uses compression method {member.method}, which cannot be read")


def open_member(ranges: RangeReader, member: ZipMember) -> Stream:
    """A stream of the member's uncompressed content, read from its local header on."""
    # The encryption flag is not refused here: stored data is read as is, as lenient loaders do.
    header = ranges.read(member.header_offset, _LOCAL.size)
    if len(header) < _LOCAL.size or header[:4] != b"PK\x03\x04":
        raise ZipError(f"{member.name}: no local file header at offset {member.header_offset}")
    name_len, extra_len = _LOCAL.unpack(header)[9:11]
    data_at = member.header_offset + _LOCAL.size + name_len + extra_len
    if data_at + member.compressed_size > ranges.size:
        raise ZipError(f"{member.name} runs past the end of the file (truncated)")
    if member.method == _STORED:
        return RangeStream(ranges, data_at, member.compressed_size)
    if member.method == _DEFLATED:
        return InflateStream(ranges, data_at, member.compressed_size, limit=member.size)
    raise ZipError(f"{member.name} uses compression method {member.method}, which cannot be read")
