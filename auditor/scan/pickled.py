"""Scan a pickle-based weight file: a PyTorch zip or tar checkpoint, a legacy torch.save file, or a raw pickle.

A zip archive (torch.save since 1.6, TorchScript, or any .zip) is read through its central
directory and every `*.pkl` member is walked, `data.pkl` first, as is any other member that
starts like a pickle; a member flagged as encrypted is still walked (lenient loaders read it)
and, like an archive that cannot be read, is an error. A tar archive (torch.save before 0.4)
has its `pickle`, `tensors` and `storages` members walked. Anything else is walked from
byte 0: the legacy torch.save layout is five pickles in a row (magic number, protocol,
system info, the object, the storage keys) followed by raw tensor bytes, recognised by its
magic number; any other file is one pickle, plus the pickles that directly follow it (some
tools write several). Every import off the benign list, and every trick the walk sees, is an
`unsafe-pickle` error; a file that cannot be walked to its end within the byte budget is
`pickle-unscannable`, with the imports seen before that point still reported.
"""

from __future__ import annotations

import pickletools
import posixpath
import re
from collections.abc import Callable
from dataclasses import replace

from auditor.findings import finding
from auditor.model import Finding, Severity
from auditor.scan.allowlist import import_findings
from auditor.scan.base import CHUNK, BudgetExceeded, RangeReader, RangeStream, Stream, WeightScan, held, window
from auditor.scan.pickles import PickleWalk, walk
from auditor.scan.ziprange import ZipError, ZipMember, member_head, members, open_member

# Scans a member of an archive (display path, member name, its bytes) as a file of its own; None: not scanned.
MemberScanner = Callable[[str, str, RangeReader], "WeightScan | None"]
_MAX_MEMBER_INFLATE = 16 << 20  # a deflated zip member of another format is inflated into memory up to this size
_MAX_TAR_MEMBERS = 10_000

_OPCODE_CODES = frozenset(op.code for op in pickletools.opcodes)  # the first byte of any pickle

# torch.save's legacy files open with the pickled long 0x1950a86a20f9469cfc6c at protocol 2.
LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
_LEGACY_PICKLES = 5
# Files sharing pickle extensions (.bin above all) that are not pickles at all.
_OTHER_MAGIC = (b"lmgg", b"fmgg", b"tjgg", b"GGUF", b"\x93NUMPY", b"\x89HDF")
_MAX_IMPORT_FINDINGS = 20
_TAR_BLOCK = 512
_TAR_PICKLES = frozenset({"pickle", "storages", "tensors", "sys_info"})
_ELEMENT_SIZES = {
    "DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8, "IntStorage": 4,
    "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1, "ComplexFloatStorage": 8,
    "ComplexDoubleStorage": 16, "QInt8Storage": 1, "QUInt8Storage": 1, "QInt32Storage": 4,
    "UntypedStorage": 1,
}
_NOT_A_PICKLE_WITHIN = 16  # an unknown opcode this early, with nothing imported: the file is no pickle
_STORAGE_MEMBER = re.compile(r"(^|/)data/\d+$")
# A protocol 0-1 pickle opening with an import: GLOBAL module\nname\n, perhaps after MARK.
_PROTOCOL_0_CALL = re.compile(rb"\(?c[A-Za-z_][\w.]*\n[A-Za-z_][\w.]*\n")


def scan_pickle_file(path: str, ranges: RangeReader, pickle_only: bool = False, scan_member: MemberScanner | None = None) -> WeightScan | None:
    """The scan of a file with a pickle extension; None when it is not a pickle at all.

    `pickle_only` is for extensions that promise a pickle (.pkl, .pickle): there a file that
    is not one (compressed, say) is reported unscannable rather than set aside, since the
    tool that wrote it will unpickle whatever it decompresses.
    """
    head = ranges.read(0, min(CHUNK, max(ranges.remaining(), 8)))
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _scan_zip(path, ranges, scan_member)
    if head[257:262] == b"ustar":
        return scan_tar(path, ranges, scan_member)
    if head and (head.startswith(_OTHER_MAGIC) or head[:1].decode("latin-1") not in _OPCODE_CODES):
        if pickle_only:
            return _result(path, "pickle", ranges, [], [f"does not start with a pickle opcode (byte 0x{head[0]:02x}): compressed or not a pickle"], {})
        return None
    return _scan_raw(path, ranges, head, pickle_only)


def scan_pickle_archive(path: str, ranges: RangeReader, scan_member: MemberScanner | None = None) -> WeightScan | None:
    """The scan of a plain zip archive (.zip, .mar): its pickles and the members of other scanned formats."""
    head = ranges.read(0, min(4, ranges.size))
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return None
    scan = _scan_zip(path, ranges, scan_member)
    if not (scan.findings or scan.facts.get("pickle_members") or scan.facts.get("scanned_members")):
        return None  # an archive of data files: nothing in it runs on load
    return replace(scan, format="zip")


def scan_pickle_stream(path: str, fmt: str, stream: Stream, ranges: RangeReader) -> WeightScan:
    """Every pickle of a stream (a decompressed joblib dump), one after the other."""
    walks: list[tuple[str, PickleWalk]] = []
    problems: list[str] = []
    while True:
        one = walk(stream)
        walks.append((path if not walks else f"{path} (pickle {len(walks) + 1})", one))
        if one.error:
            problems.append(f"pickle {len(walks)}: {one.error}")
            break
        if not _pickle_follows(stream):
            break
    return _result(path, fmt, ranges, walks, problems, {})


def _result(path: str, fmt: str, ranges: RangeReader, walks: list[tuple[str, PickleWalk]], problems: list[str], facts: dict, unreadable: list[str] | None = None) -> WeightScan:
    imports: dict[str, bool] = {}
    findings: list[Finding] = []
    hazards: list[Finding] = []
    for where, one in walks:
        # What would run comes first: thousands of tricks in one file must not push a call out of the list.
        findings.extend(import_findings(path, where, one.imports, torchscript=bool(facts.get("torchscript"))))
        hazards.extend(finding("unsafe-pickle", f"{where}: {hazard}", [path]) for hazard in one.hazards)
        if one.hazards_unlisted:
            hazards.append(finding("unsafe-pickle", f"{where}: and {one.hazards_unlisted} more tricks in the opcodes, like those above", [path]))
        for name, called in one.imports.items():
            imports[name] = imports.get(name, False) or called
    findings.extend(hazards)
    if len(findings) > _MAX_IMPORT_FINDINGS:  # a crafted pickle can import thousands of names
        rest = len(findings) - _MAX_IMPORT_FINDINGS
        findings = findings[:_MAX_IMPORT_FINDINGS]
        findings.append(finding("unsafe-pickle", f"{path}: and {rest} more findings of imports that are not tensor or container types "
                                                 "(listed in the scan's facts) or of tricks in the opcodes", [path]))
    findings.extend(finding("tensor-extent-invalid", f"{where}: {problem}", [path]) for where, one in walks for problem in one.extent_errors[:_MAX_IMPORT_FINDINGS])
    findings.extend(finding("pickle-unscannable", f"{path}: {problem}", [path]) for problem in problems)
    # An archive whose directory or members cannot be read hides what a lenient loader may still run.
    findings.extend(finding("pickle-unscannable", f"{path}: {problem}", [path], severity=Severity.ERROR) for problem in unreadable or ())
    facts = {
        **facts,
        "imports": sorted(imports),
        "calls": sorted(name for name, called in imports.items() if called),
        "pickles": len(walks),
        "protocol": max((one.protocol for _, one in walks), default=None),
        "tensors": sum(one.tensors for _, one in walks),
        **({"inline_arrays": inline} if (inline := sum(one.inline_arrays for _, one in walks)) else {}),
    }
    return WeightScan(path, fmt, facts, tuple(findings), ranges.bytes_read, ranges.budget)


def _scan_raw(path: str, ranges: RangeReader, head: bytes, pickle_only: bool = False) -> WeightScan | None:
    if not head:
        return _result(path, "pickle", ranges, [], ["the file is empty"], {})
    legacy = head.startswith(LEGACY_TORCH_MAGIC)
    required = _LEGACY_PICKLES if legacy else 1
    stream = RangeStream(ranges, 0, ranges.size)
    walks: list[tuple[str, PickleWalk]] = []
    problems: list[str] = []
    facts: dict = {"legacy_torch": legacy}
    while True:
        one = walk(stream)
        index = len(walks)
        walks.append((path if index == 0 else f"{path} (pickle {index + 1})", one))
        if one.error:
            if index == 0 and not pickle_only and not one.imports and one.error.startswith("unknown opcode") and stream.tell() <= _NOT_A_PICKLE_WITHIN:
                return None  # a few bytes that only began like a pickle (a PNG named .pt): not a pickle
            if index < required or one.out_of_budget:
                problems.append(f"pickle {index + 1}: {one.error}")
            else:  # bytes after the expected pickles that only looked like one
                walks.pop()
                facts["trailing_bytes"] = True
            break
        if index + 1 < required:
            continue
        if legacy or not _pickle_follows(stream):
            break
    return _result(path, "pickle", ranges, walks, problems, facts)


def _pickle_follows(stream: Stream) -> bool:
    """Whether another protocol 2+ pickle starts right here (pickle.load reads them one by one)."""
    try:
        nxt = stream.peek(2)
    except BudgetExceeded:
        return False
    return len(nxt) == 2 and nxt[0] == 0x80 and 2 <= nxt[1] <= 5


def _scan_zip(path: str, ranges: RangeReader, scan_member: MemberScanner | None = None) -> WeightScan:
    try:
        listed = members(ranges)
    except BudgetExceeded as exc:
        return _result(path, "pytorch-zip", ranges, [], [f"zip archive: {exc}"], {})
    except ZipError as exc:
        return _result(path, "pytorch-zip", ranges, [], [], {}, unreadable=[f"zip archive: {exc}"])
    pickles = sorted((m for m in listed if m.name.endswith(".pkl") or _holds_pickle(ranges, m)), key=lambda m: (not m.name.endswith("/data.pkl"), m.name))
    facts = {
        "members": len(listed),
        "pickle_members": [m.name for m in pickles],
        "storages": sum(1 for m in listed if _STORAGE_MEMBER.search(m.name)),
        # TorchScript archives also carry Python source (code/) that torch.jit.load compiles.
        "torchscript": any("/code/" in f"/{m.name}" for m in listed),
    }
    walks: list[tuple[str, PickleWalk]] = []
    problems: list[str] = []
    unreadable: list[str] = []
    for member in pickles:
        if member.flags & 0x1:
            # No checkpoint writer encrypts; loaders that ignore the flag read a stored member as is.
            unreadable.append(f"{member.name} is flagged as encrypted")
        try:
            one = walk(open_member(ranges, member))
        except ZipError as exc:
            unreadable.append(f"{member.name}: {exc}")
            continue
        except BudgetExceeded as exc:
            problems.append(f"{member.name}: {exc}")
            break
        walks.append((f"{path} ({member.name})", one))
        _check_storages(path, member, one, listed)
        if one.error:
            problems.append(f"{member.name}: {one.error}")
            if one.out_of_budget:
                break
    inner: list[WeightScan] = []
    if scan_member is not None:
        inner = _zip_members(path, ranges, [m for m in listed if m not in pickles and not _STORAGE_MEMBER.search(m.name)], scan_member, problems)
    return with_members(_result(path, "pytorch-zip", ranges, walks, problems, facts, unreadable), inner, ranges)


def _check_storages(path: str, pickle_member: ZipMember, one: PickleWalk, listed: list[ZipMember]) -> None:
    """Each storage a checkpoint's pickle names must fit in its data/<key> member (torch reads numel elements from it)."""
    folder = posixpath.dirname(pickle_member.name)
    sizes = {m.name: m.size for m in listed}
    for key, (kind, numel) in one.storages.items():
        name = posixpath.join(folder, "data", key)
        element = _ELEMENT_SIZES.get(kind.rsplit(".", 1)[-1])
        if element is None or name not in sizes:
            continue
        if numel * element > sizes[name]:
            one.extent_errors.append(f"storage {key} declares {numel} {kind.rsplit('.', 1)[-1]} elements ({numel * element} bytes) but {name} holds {sizes[name]} bytes")


def _zip_members(path: str, ranges: RangeReader, others: list[ZipMember], scan_member: MemberScanner, problems: list[str]) -> list[WeightScan]:
    """Members of other scanned formats (a nested archive, a numpy file), each scanned as a file of its own."""
    found = []
    for member in others:
        if member.name.endswith("/") or member.size == 0:
            continue
        try:
            if member.method == 0 and member.size == member.compressed_size:
                reader = window(ranges, _member_data_start(ranges, member), member.size)
            elif member.size <= _MAX_MEMBER_INFLATE:
                reader = held(open_member(ranges, member).read(member.size))
            else:
                reader = None
        except (ZipError, ValueError) as exc:
            problems.append(f"{member.name}: {exc}")
            continue
        if reader is None:
            problems.append(f"{member.name}: a deflated member of {member.size} bytes, more than is scanned in memory")
            continue
        scan = scan_member(f"{path} ({member.name})", member.name, reader)
        if scan is not None:
            found.append(scan)
    return found


def _member_data_start(ranges: RangeReader, member: ZipMember) -> int:
    local = ranges.read(member.header_offset, 30)
    if len(local) < 30 or not local.startswith(b"PK\x03\x04"):
        raise ZipError(f"{member.name}: no local header at {member.header_offset}")
    return member.header_offset + 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")


def with_members(scan: WeightScan, inner: list[WeightScan], ranges: RangeReader) -> WeightScan:
    """An archive's scan with its members' findings (evidence: the archive itself) and the bytes read for all."""
    findings = list(scan.findings)
    for one in inner:
        findings.extend(replace(f, evidence=(scan.path,)) for f in one.findings)
    facts = dict(scan.facts)
    if inner:
        facts["scanned_members"] = {one.path: one.format for one in inner}
    return WeightScan(scan.path, scan.format, facts, tuple(findings), ranges.bytes_read, ranges.budget)


def scan_tar(path: str, ranges: RangeReader, scan_member: MemberScanner | None = None) -> WeightScan:
    """A tar archive: torch.save's legacy format (torch < 0.4, which torch.load still reads), a
    `.nemo` or `.pth.tar` package, or any tar. torch's members `pickle` (the object), `storages`
    and `tensors` each open with a pickle and are walked as torch reads them; every other member
    is scanned as a file of its own (a checkpoint inside a .nemo, a pickle, a numpy file).
    Headers are read one 512-byte block at a time; member contents only as their scanners need.
    """
    walks: list[tuple[str, PickleWalk]] = []
    problems: list[str] = []
    inner: list[WeightScan] = []
    at, long_name = 0, None
    names: list[str] = []
    try:
        while at + _TAR_BLOCK <= ranges.size and len(names) < _MAX_TAR_MEMBERS:
            header = ranges.read(at, _TAR_BLOCK)
            if not header.strip(b"\0"):
                break  # the end-of-archive blocks
            name = long_name or _tar_name(header)
            long_name = None
            size = int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
            data_at = at + _TAR_BLOCK
            kind = header[156:157]
            if kind in (b"L", b"x"):  # a GNU long name or a pax header for the next member
                long_name = _extended_name(kind, ranges.read(data_at, min(size, 64 * 1024)))
            elif kind in (b"0", b"\0", b"7"):
                names.append(name)
                base = name.rsplit("/", 1)[-1]
                if base in _TAR_PICKLES:
                    for one in _tar_member_pickles(RangeStream(ranges, data_at, size), base):
                        walks.append((f"{path} ({name})", one))
                        if one.error:
                            problems.append(f"{name}: {one.error}")
                elif scan_member is not None and size:
                    scan = scan_member(f"{path} ({name})", name, window(ranges, data_at, size))
                    if scan is not None:
                        inner.append(scan)
            at = data_at + (size + _TAR_BLOCK - 1) // _TAR_BLOCK * _TAR_BLOCK
    except BudgetExceeded as exc:
        problems.append(str(exc))
    except ValueError as exc:
        return with_members(_result(path, "tar", ranges, walks, problems, {"members": names[:100]}, unreadable=[f"tar archive: {exc}"]), inner, ranges)
    legacy = any(n.rsplit("/", 1)[-1] in _TAR_PICKLES for n in names)
    facts = {"members": names[:100], "legacy_torch": legacy}
    return with_members(_result(path, "pytorch-tar" if legacy else "tar", ranges, walks, problems, facts), inner, ranges)


def _tar_name(header: bytes) -> str:
    name = header[:100].split(b"\0", 1)[0].decode("utf-8", "replace")
    prefix = header[345:500].split(b"\0", 1)[0].decode("utf-8", "replace") if header[257:262] == b"ustar" else ""
    return f"{prefix}/{name}" if prefix else name


def _extended_name(kind: bytes, data: bytes) -> str | None:
    if kind == b"L":
        return data.split(b"\0", 1)[0].decode("utf-8", "replace")
    for line in data.split(b"\n"):  # pax records: "<length> key=value"
        key, _, value = line.partition(b" ")[2].partition(b"=")
        if key == b"path":
            return value.decode("utf-8", "replace")
    return None


def _tar_member_pickles(stream: RangeStream, member: str) -> list[PickleWalk]:
    """Every pickle of one tar member, skipping the raw bytes torch writes between them.

    `storages`: a pickled count, then per storage a pickled (key, location, storage type), an
    8-byte element count and the elements. `tensors`: a pickled count, then per tensor a
    pickled (key, storage id, type) and its ndim, sizes, strides and offset as raw integers.
    """
    found = [walk(stream)]
    while member in ("storages", "tensors") and not found[-1].error and _pickle_follows(stream):
        one = walk(stream)
        found.append(one)
        if one.error:
            break
        if member == "storages":
            kinds = [name for name in one.imports if name.rsplit(".", 1)[-1] in _ELEMENT_SIZES]
            raw = stream.read(8)
            if not kinds or len(raw) < 8:
                one.error = "storage record without a known storage type or element count"
                break
            stream.skip(int.from_bytes(raw, "little") * _ELEMENT_SIZES[kinds[-1].rsplit(".", 1)[-1]])
        else:
            raw = stream.read(8)
            if len(raw) < 8:
                one.error = "tensor record cut short"
                break
            stream.skip(16 * int.from_bytes(raw[:4], "little", signed=True) + 8)
    return found


def _holds_pickle(ranges: RangeReader, member: ZipMember) -> bool:
    """Whether a member not named *.pkl (nor a tensor storage) starts like a protocol 2+ pickle."""
    if _STORAGE_MEMBER.search(member.name) or member.size < 2 or member.name.endswith("/"):
        return False
    try:
        head = member_head(ranges, member, 128)
    except (ZipError, BudgetExceeded):
        return False
    return (len(head) >= 2 and head[0] == 0x80 and head[1] <= 5) or _PROTOCOL_0_CALL.match(head) is not None
