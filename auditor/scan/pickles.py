"""List what a pickle would import and call, by walking its opcodes: it is never unpickled.

Why our own walk over the standard library's `pickletools` opcode table rather than a
scanner package: the walk must run on a byte stream fetched by range reads under a budget
(not a whole file on disk), must skip tensor-sized byte payloads without reading them, and
must resolve STACK_GLOBAL exactly. picklescan (`_list_globals`) reads the whole stream,
collects every opcode first, and resolves STACK_GLOBAL by looking back for the two nearest
string opcodes, which a POP or DUP in between defeats (it then reports "unknown"); it also
sorts unlisted imports as merely "suspicious". fickling decompiles the whole pickle into a
Python AST with its own interpreter: far more than we need, a runtime dependency, and it
wants the complete pickle. modelaudit is a large multi-format tool with many dependencies.
`pickletools` is in the standard library, knows every opcode of protocols 0-5, and its
argument readers work on any object with read/readline. On top of it a small abstract stack
machine tracks strings, the memo (PUT/BINPUT/LONG_BINPUT/MEMOIZE, GET/BINGET/LONG_BINGET)
and marks, so STACK_GLOBAL's module and name are the values the unpickler itself would pop.
It also keeps dicts, tuples and (once a loader is imported) small bytes, to follow what only
an attack does: BUILD rewriting an imported module's or class's attributes (later imports of
those attributes resolve to the values written), pickles nested in bytes handed to a loader
(walked in turn), and opcodes straddling a FRAME end, where CPython's loaders disagree.

Over 400 lines: the opcode walk and the abstract stack machine it drives are one algorithm;
split, the stack's invariants would span modules.
"""

from __future__ import annotations

import _compat_pickle
import hashlib
import math
import pickle  # for its HIGHEST_PROTOCOL constant only: nothing is ever unpickled
import pickletools
import re
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from auditor.scan.allowlist import allowlist
from auditor.scan.base import BudgetExceeded, RangeReader, RangeStream, Stream

_MAX_NAME = 4096  # a string argument longer than this is data, never a module or attribute name
_MAX_NESTED = 64 * 1024  # bytes payloads up to this size are kept, to walk a pickle hidden in them
_MAX_DEPTH = 4  # pickles nested in pickles followed this deep
_RESYNC_OFFSETS = 16  # where in a payload straddling a FRAME end a hidden walk is tried
_MAX_HAZARDS = 100  # hazards listed per walk; the rest are counted (a crafted pickle can hold a million)
# One walk, with every pickle nested in it and every resynchronised walk, shares these: a
# crafted pickle (many nested loads of the same bytes, FRAMEs ending inside nested payloads,
# a small zip member inflating to hundreds of MB of opcodes) must end as out of budget.
MAX_STEPS = 2_000_000  # opcodes: a real checkpoint's pickle has a few hundred thousand at most
MAX_SECONDS = 20.0  # wall clock per walk
_CLOCK_EVERY = 1024  # steps between two looks at the clock


class _Steps:
    """The opcode and wall-clock budget one walk and its nested walks draw on, and the hidden
    payloads they have walked: a payload nested in payloads is reached from every resync offset
    of each one around it, and walking it again each time would multiply the walks."""

    def __init__(self) -> None:
        self.left = MAX_STEPS
        self.deadline = time.monotonic() + MAX_SECONDS
        self.hidden: dict[tuple[bytes, int, int], PickleWalk | None] = {}

    def take(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise BudgetExceeded(f"step budget of {MAX_STEPS} opcodes exhausted (nested pickles included)")
        if self.left % _CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise BudgetExceeded(f"time budget of {MAX_SECONDS:g} s exhausted (nested pickles included)")


class _Mark:
    """The MARK opcode's marker on the abstract stack."""


@dataclass(frozen=True)
class _Global:
    """A callable, class or module the pickle imported."""

    name: str


class _Dict(dict):
    """A dict the pickle built, with the keys and values the walk knows."""


@dataclass(eq=False)
class _Instance:
    """An object the pickle built by calling an imported class (kept only for the classes the walk follows)."""

    name: str
    itemsize: int | None = None  # numpy.dtype: bytes per element, when the walk can tell
    has_object: bool = False  # numpy.dtype: elements are Python objects


@dataclass(frozen=True)
class _Storage:
    """A tensor storage a persistent id names: (key, storage type, element count)."""

    key: str
    kind: str
    numel: int


@dataclass(frozen=True)
class InlineArray:
    """Bytes a joblib array wrapper puts in the stream after its BUILD: raw elements, or a pickle."""

    nbytes: int
    aligned: bool
    pickled: bool


_MARK = _Mark()
_ANY = object()  # any value the walk does not need to know

# Length prefixes of the opcodes whose argument is a counted payload: (size, struct format).
_PREFIX = {
    pickletools.TAKEN_FROM_ARGUMENT1: (1, "<B"),
    pickletools.TAKEN_FROM_ARGUMENT4: (4, "<i"),
    pickletools.TAKEN_FROM_ARGUMENT4U: (4, "<I"),
    pickletools.TAKEN_FROM_ARGUMENT8U: (8, "<Q"),
}
_TEXT_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"}
# Python 2 str opcodes: Python 3's unpickler decodes them to str, so they can name an import too.
_PY2_STRING_OPS = {"SHORT_BINSTRING", "BINSTRING", "STRING"}
_CALLS_FIRST_POPPED = {"REDUCE", "NEWOBJ", "NEWOBJ_EX"}
_BYTES_OPS = {"SHORT_BINBYTES", "BINBYTES", "BINBYTES8", "BYTEARRAY8"}
_TUPLE_OPS = {"EMPTY_TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "TUPLE"}
# Calls that unpickle the bytes they are given: the pickle inside is walked too.
_LOADERS = frozenset({
    "pickle.loads", "_pickle.loads", "pickle._loads", "dill.loads", "dill._dill.loads", "cloudpickle.loads",
    "torch.load", "torch.serialization.load", "joblib.load", "joblib.numpy_pickle.load",
    "torch.storage._load_from_bytes", "numpy.loads",
})
# joblib writes each numpy array as this wrapper followed by the array's raw bytes (or, for
# object arrays, by a pickle of the array), which its unpickler reads right after the BUILD.
_JOBLIB_WRAPPER = "joblib.numpy_pickle.NumpyArrayWrapper"
_DTYPE = "numpy.dtype"
_DTYPE_SIZE = re.compile(r"^[<>|=]?([a-zA-Z])(\d+)$")
_INT_OPS = {"BININT", "BININT1", "BININT2", "INT", "LONG1"}
# Calls whose result is the bytes of their first argument, as far as a nested pickle goes.
_BYTES_PASSING = frozenset({"_codecs.encode", "codecs.encode", "io.BytesIO", "_io.BytesIO", "builtins.bytes", "builtins.bytearray"})


@dataclass
class PickleWalk:
    """What one pickle would import (name -> whether it is also called), in order of first use."""

    imports: dict[str, bool] = field(default_factory=dict)
    protocol: int = 0
    tensors: int = 0
    error: str | None = None
    out_of_budget: bool = False
    # What the opcodes do besides importing that only an attack does (each an error), in order.
    hazards: list[str] = field(default_factory=list)
    hazards_unlisted: int = 0  # distinct hazards past the first _MAX_HAZARDS
    # Storages named by persistent ids (key -> storage type, element count), and tensors reaching past theirs.
    storages: dict[str, tuple[str, int]] = field(default_factory=dict)
    extent_errors: list[str] = field(default_factory=list)
    inline_arrays: int = 0  # joblib arrays whose bytes were skipped by their declared size


def _py3_name(module: str, name: str, protocol: int) -> str:
    # The unpickler maps Python 2 names (`__builtin__.set`) for protocols below 3; so do we.
    if protocol < 3:
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
    return f"{module}.{name}"


@dataclass(frozen=True)
class _Op:
    """One opcode, with its argument's layout and its stack effect precomputed from pickletools."""

    name: str
    reader: Any  # pickletools' reader, for newline-terminated arguments
    fixed: int  # byte size of a fixed-size argument (0: none or not fixed)
    prefix: tuple[int, str] | None
    mark: bool  # pops everything down to a MARK
    below: int  # items popped besides (below the mark, or all when there is no mark)
    pushes: int
    handler: Any = None  # the _Machine method that plays it


def _number(arg: Any) -> int:
    """A fixed-size argument's little-endian bytes, or a text argument already read as an int."""
    return int.from_bytes(arg, "little") if isinstance(arg, bytes) else int(arg)


class _StackError(ValueError):
    """The opcodes do not fit the stack or memo: the unpickler would stop here."""


class _Machine:
    """The stack and memo of one pickle, with just enough values kept to resolve imports.

    After a first stack error the machine goes on `lenient`ly (an empty stack pops unknown
    values), so that the imports written after the damage are still listed.
    """

    def __init__(self, walk: PickleWalk, depth: int = 0, steps: _Steps | None = None):
        self.walk = walk
        self.steps = steps or _Steps()
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}
        self.lenient = False
        self.rebuilders = allowlist()["tensor_rebuilders"]
        self.depth = depth
        # Attributes the pickle rewrote on imported modules and classes (BUILD): module.name -> value.
        self.overrides: dict[str, Any] = {}
        self.loads_nested = False  # a loader was imported: keep bytes payloads to walk the pickles in them
        self.inline: InlineArray | None = None  # bytes the stream holds right after the last BUILD
        self.hazards_seen: set[str] = set()

    def hazard(self, message: str) -> None:
        if message in self.hazards_seen:
            return
        self.hazards_seen.add(message)
        if len(self.walk.hazards) < _MAX_HAZARDS:
            self.walk.hazards.append(message)
        else:
            self.walk.hazards_unlisted += 1

    def _fail(self, message: str) -> Any:
        if not self.lenient:
            raise _StackError(message)
        return _ANY

    def pop_mark(self) -> list[Any]:
        stack = self.stack
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is _MARK:
                items = stack[i + 1:]
                del stack[i:]
                return items
        self._fail("no MARK on the stack")
        items, self.stack = stack, []
        return items

    def pop_n(self, count: int) -> list[Any]:
        stack = self.stack
        popped = stack[len(stack) - count:] if count else []
        if len(popped) < count or any(item is _MARK for item in popped):
            self._fail("stack underflow")
            return [_ANY] * count
        del stack[len(stack) - count:]
        return popped

    def imported(self, name: str) -> Any:
        self.walk.imports.setdefault(name, False)
        self.loads_nested = self.loads_nested or name in _LOADERS
        if name in self.overrides:  # find_class returns what BUILD put there, as getattr would
            return self.overrides[name]
        return _Global(name)

    def called(self, target: Any, args: Any = None) -> Any:
        """Note a call of `target`; the result, when the walk can know it (bytes passed on)."""
        if not isinstance(target, _Global):
            return _ANY
        self.walk.imports[target.name] = True
        if target.name in self.rebuilders:
            self.walk.tensors += 1
        first = args[0] if isinstance(args, tuple) and args else None
        if target.name in _LOADERS and isinstance(first, bytes):
            self.nested(target.name, first)
        elif target.name in _BYTES_PASSING and isinstance(first, (bytes, str)):
            return first if isinstance(first, bytes) else first.encode("latin-1", "replace")
        elif target.name in self.rebuilders and isinstance(args, tuple):
            self.check_extent(target.name, args)
        elif target.name == "copyreg._reconstructor" and isinstance(first, _Global) and first.name == _JOBLIB_WRAPPER:
            return _Instance(first.name)
        elif target.name == _JOBLIB_WRAPPER:
            return _Instance(target.name)
        elif target.name == _DTYPE and isinstance(first, str):
            return _dtype(first)
        return _ANY

    def check_extent(self, rebuilder: str, args: tuple) -> None:
        """A tensor (storage, offset, sizes, strides, ...) must lie within its storage's elements."""
        if len(args) < 4 or not isinstance(args[0], _Storage):
            return
        storage, offset, sizes, strides = args[:4]
        if not (isinstance(offset, int) and _ints(sizes) and _ints(strides) and len(sizes) == len(strides)):
            return
        if any(n < 0 for n in sizes) or any(st < 0 for st in strides) or offset < 0:
            self.walk.extent_errors.append(f"a tensor of storage {storage.key} has a negative offset, size or stride")
            return
        if 0 in sizes:
            return
        last = offset + sum((n - 1) * st for n, st in zip(sizes, strides, strict=True))
        if last >= storage.numel:
            self.walk.extent_errors.append(
                f"a tensor of shape {tuple(sizes)} at offset {offset} reaches element {last} of storage {storage.key}, "
                f"which holds {storage.numel}")

    def nested(self, loader: str, data: bytes) -> None:
        """Walk the pickle inside bytes handed to a loader, and add what it would import."""
        if self.depth >= _MAX_DEPTH:
            self.hazard(f"pickles nested more than {_MAX_DEPTH} deep were not followed")
            return
        inner = _walk_bytes(data, self.depth + 1, self.steps)
        _raise_if_out_of_budget(inner)
        self.hazard(f"{loader} unpickles a nested pickle of {len(data)} bytes")
        self.merge(inner)

    def hidden(self, payload: bytes, frame_offset: int) -> None:
        """Imports in a payload that straddles a FRAME end, walked from where a loader may resume.

        Such a walk is a nested pickle: a straddle inside it is followed in turn, down to
        `_MAX_DEPTH`, past which the walk ends out of budget (never a pass of what was not
        walked). Each payload is walked once per walk tree (`_Steps.hidden`)."""
        if self.depth >= _MAX_DEPTH:
            raise BudgetExceeded(f"depth budget: payloads straddling FRAME ends nested more than {_MAX_DEPTH} deep")
        key = (hashlib.blake2b(payload, digest_size=16).digest(), frame_offset, self.depth)
        if key not in self.steps.hidden:
            self.steps.hidden[key] = self._resynchronised(payload, frame_offset)
        found = self.steps.hidden[key]
        if found is not None:
            self.merge(found)

    def _resynchronised(self, payload: bytes, frame_offset: int) -> PickleWalk | None:
        """The first walk of the payload, from the frame's end or one of its first bytes, that imports something."""
        for offset in dict.fromkeys([frame_offset, *range(min(_RESYNC_OFFSETS, len(payload)))]):
            inner = _walk_bytes(payload[offset:], self.depth + 1, self.steps)
            _raise_if_out_of_budget(inner)
            if inner.imports:
                return inner
        return None

    def merge(self, inner: PickleWalk) -> None:
        """Add what another walk would import (and call), and its hazards (with its count of
        those unlisted), to this one's."""
        for name, was_called in inner.imports.items():
            self.walk.imports[name] = self.walk.imports.get(name, False) or was_called
        for message in inner.hazards:
            self.hazard(message)
        self.walk.hazards_unlisted += inner.hazards_unlisted

    def generic(self, op: _Op, arg: Any) -> None:
        """Pop and push as pickletools' stack description says; note which import is called."""
        items = self.pop_mark() if op.mark else ()
        popped = self.pop_n(op.below)
        result = _ANY
        if op.name in _CALLS_FIRST_POPPED:
            result = self.called(popped[0], popped[1] if len(popped) > 1 else None)
        elif op.name == "OBJ" and items:
            self.called(items[0], tuple(items[1:]))
        elif op.name in _TUPLE_OPS:
            result = tuple(items) if op.mark else tuple(popped)
        self.stack.extend([result] * op.pushes)

    def bytes_(self, op: _Op, arg: Any) -> None:
        self.stack.append(arg if isinstance(arg, bytes) else _ANY)

    def empty_dict(self, op: _Op, arg: Any) -> None:
        self.stack.append(_Dict())

    def dict_(self, op: _Op, arg: Any) -> None:
        items = self.pop_mark()
        self.stack.append(self._fill_dict(_Dict(), items))

    def setitems(self, op: _Op, arg: Any) -> None:
        items = self.pop_mark() if op.mark else self.pop_n(2)
        if not self.stack:
            self._fail("SETITEM without a dict")
            return
        if isinstance(self.stack[-1], _Dict):
            self._fill_dict(self.stack[-1], items)

    @staticmethod
    def _fill_dict(target: _Dict, items: list[Any]) -> _Dict:
        for key, value in zip(items[::2], items[1::2], strict=False):
            if isinstance(key, str):
                target[key] = value
        return target

    def build(self, op: _Op, arg: Any) -> None:
        """BUILD sets state on the object below it: on an imported module or class, an attack."""
        state = self.pop_n(1)[0]
        target = self.stack[-1] if self.stack else self._fail("BUILD on an empty stack")
        if isinstance(target, _Instance):
            self.build_instance(target, state)
            return
        if not isinstance(target, _Global):
            return
        self.hazard(f"BUILD rewrites attributes of {target.name} on load")
        states = state if isinstance(state, tuple) else (state,)
        for one in states:
            if isinstance(one, _Dict):
                for key, value in one.items():
                    self.overrides[f"{target.name}.{key}"] = value

    def build_instance(self, target: _Instance, state: Any) -> None:
        """A dtype's element size from its state; a joblib wrapper's array bytes, which follow in the stream."""
        if target.name == _DTYPE:
            if isinstance(state, tuple) and len(state) > 5:
                if isinstance(state[5], int) and state[5] > 0:
                    target.itemsize = state[5]
                fields = state[4]
                if isinstance(fields, _Dict):  # a record dtype: an object field makes joblib pickle the array
                    target.has_object = target.has_object or any(
                        isinstance(v, tuple) and v and isinstance(v[0], _Instance) and v[0].has_object for v in fields.values())
                elif fields is not None:
                    target.itemsize = None  # fields the walk cannot see: their objects are unknown
            return
        if not isinstance(state, _Dict):
            self.inline = InlineArray(-1, False, False)  # the unpickler will read bytes whose size we cannot know
            return
        dtype, shape = state.get("dtype"), state.get("shape")
        aligned = isinstance(state.get("numpy_array_alignment_bytes"), int)
        if isinstance(dtype, _Instance) and dtype.has_object:
            self.inline = InlineArray(0, False, True)
        elif isinstance(dtype, _Instance) and dtype.itemsize is not None and isinstance(shape, tuple) and _ints(shape):
            self.inline = InlineArray(math.prod(shape) * dtype.itemsize, aligned, False)
        else:
            self.inline = InlineArray(-1, aligned, False)

    def persistent(self, op: _Op, arg: Any) -> None:
        """A persistent id: torch's ('storage', type, key, location, numel) names a tensor storage."""
        ref = self.pop_n(1)[0] if op.name == "BINPERSID" else arg
        if isinstance(ref, tuple) and len(ref) >= 5 and ref[0] == "storage" and isinstance(ref[2], str) and isinstance(ref[4], int):
            kind = ref[1].name if isinstance(ref[1], _Global) else "?"
            self.walk.storages[ref[2]] = (kind, ref[4])
            self.stack.append(_Storage(ref[2], kind, ref[4]))
        else:
            self.stack.append(_ANY)

    def none(self, op: _Op, arg: Any) -> None:
        self.stack.append(None)

    def integer(self, op: _Op, arg: Any) -> None:
        if isinstance(arg, bytes):
            arg = int.from_bytes(arg, "little", signed=op.name == "BININT")
        self.stack.append(arg if isinstance(arg, int) else _ANY)

    def string(self, op: _Op, arg: Any) -> None:
        self.stack.append(arg if isinstance(arg, str) else _ANY)

    def mark(self, op: _Op, arg: Any) -> None:
        self.stack.append(_MARK)

    def global_(self, op: _Op, arg: Any) -> None:
        module, _, attr = str(arg).partition(" ")
        ref = self.imported(_py3_name(module, attr, self.walk.protocol))
        if op.name == "INST":
            self.pop_mark()
            self.called(ref)
            ref = _ANY
        self.stack.append(ref)

    def stack_global(self, op: _Op, arg: Any) -> None:
        module, attr = self.pop_n(2)
        if isinstance(module, str) and isinstance(attr, str):
            self.stack.append(self.imported(_py3_name(module, attr, self.walk.protocol)))
        else:
            self.stack.append(self.imported("<unresolved STACK_GLOBAL>"))

    def extension(self, op: _Op, arg: Any) -> None:
        # The copyreg extension registry maps the code to a callable only at load time.
        self.stack.append(self.imported(f"<extension code {_number(arg)}>"))

    def put(self, op: _Op, arg: Any) -> None:
        key = len(self.memo) if op.name == "MEMOIZE" else _number(arg)
        self.memo[key] = self.stack[-1] if self.stack else self._fail("memo store from an empty stack")

    def get(self, op: _Op, arg: Any) -> None:
        key = _number(arg)
        self.stack.append(self.memo[key] if key in self.memo else self._fail(f"memo key {key} was never stored"))

    def dup(self, op: _Op, arg: Any) -> None:
        self.stack.append(self.stack[-1] if self.stack else self._fail("DUP on an empty stack"))

    def pop(self, op: _Op, arg: Any) -> None:
        if self.stack and self.stack[-1] is _MARK:
            self.stack.pop()  # as the unpickler does: POP right after MARK discards the mark
        else:
            self.pop_n(1)

    def proto(self, op: _Op, arg: Any) -> None:
        self.walk.protocol = _number(arg)
        if self.walk.protocol > pickle.HIGHEST_PROTOCOL:
            raise ValueError(f"unsupported pickle protocol {self.walk.protocol}")


_HANDLERS = {
    **{name: _Machine.string for name in _TEXT_OPS | _PY2_STRING_OPS},
    "MARK": _Machine.mark,
    "GLOBAL": _Machine.global_,
    "INST": _Machine.global_,
    "STACK_GLOBAL": _Machine.stack_global,
    **{name: _Machine.extension for name in ("EXT1", "EXT2", "EXT4")},
    **{name: _Machine.put for name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE")},
    **{name: _Machine.get for name in ("GET", "BINGET", "LONG_BINGET")},
    "DUP": _Machine.dup,
    "POP": _Machine.pop,
    "PROTO": _Machine.proto,
    **{name: _Machine.bytes_ for name in _BYTES_OPS},
    "EMPTY_DICT": _Machine.empty_dict,
    "DICT": _Machine.dict_,
    "SETITEM": _Machine.setitems,
    "SETITEMS": _Machine.setitems,
    "BUILD": _Machine.build,
    "NONE": _Machine.none,
    "BINPERSID": _Machine.persistent,
    "PERSID": _Machine.persistent,
    **{name: _Machine.integer for name in _INT_OPS},
}


def _table() -> dict[int, _Op]:
    table = {}
    for info in pickletools.opcodes:
        desc, before = info.arg, info.stack_before
        mark = pickletools.markobject in before
        table[ord(info.code)] = _Op(
            name=info.name,
            reader=desc.reader if desc is not None and desc.n < 0 and desc.n not in _PREFIX else None,
            fixed=desc.n if desc is not None and desc.n > 0 else 0,
            prefix=_PREFIX.get(desc.n) if desc is not None else None,
            mark=mark,
            below=before.index(pickletools.markobject) if mark else len(before),
            pushes=len(info.stack_after),
            handler=_HANDLERS.get(info.name, _Machine.generic),
        )
    return table


_OPS = _table()


class _Straddle(Exception):
    """A counted argument runs across the end of its FRAME; carries the payload and where the frame ended in it."""

    def __init__(self, value: Any, payload: bytes, frame_offset: int):
        super().__init__("straddles a FRAME end")
        self.value, self.payload, self.frame_offset = value, payload, frame_offset


def _counted(op: _Op, stream: Stream, frame_end: int | None, op_start: int, keep_bytes: bool) -> Any:
    """A length-prefixed argument; payloads that cannot be a name or a nested pickle are skipped, not read.

    When the argument runs across the end of the FRAME it starts in, CPython's loaders
    disagree on the bytes that follow (cpython#154848: `pickle.load` on a file can parse
    the payload as opcodes), so the payload is read and raised with `_Straddle` for the walk
    to look inside it. Bytes payloads are read only when `keep_bytes` (a loader was imported,
    and a loader's callable is always pushed before its arguments); otherwise skipped unread.
    """
    assert op.prefix is not None  # only counted opcodes get here
    size, fmt = op.prefix
    raw = stream.read(size)
    if len(raw) < size:
        raise ValueError(f"{op.name}: truncated length")
    length = struct.unpack(fmt, raw)[0]
    if length < 0:
        raise ValueError(f"{op.name}: negative length")
    payload_at = stream.tell()
    textual = op.name in _TEXT_OPS or op.name in _PY2_STRING_OPS
    straddles = frame_end is not None and op_start < frame_end < payload_at + length
    wanted = textual or op.name == "LONG1" or (keep_bytes and op.name in _BYTES_OPS)
    if straddles or (length <= (_MAX_NAME if textual else _MAX_NESTED) and wanted):
        data = stream.read(min(length, _MAX_NESTED))
        if len(data) < min(length, _MAX_NESTED) or stream.skip(length - len(data)) < length - len(data):
            raise ValueError(f"{op.name}: payload truncated")
    else:
        if stream.skip(length) < length:
            raise ValueError(f"{op.name}: payload truncated")
        return _ANY
    value: Any = data
    if length > (_MAX_NAME if textual else _MAX_NESTED):
        value = _ANY
    elif textual:
        try:
            value = data.decode("utf-8", "surrogatepass") if op.name in _TEXT_OPS else data.decode("latin-1")
        except UnicodeDecodeError:
            if not straddles:
                raise
            value = _ANY  # a loader that reads past the frame runs these bytes as opcodes instead
    elif op.name == "LONG1":
        value = int.from_bytes(data, "little", signed=True)
    if straddles and frame_end is not None:
        raise _Straddle(value, data, max(0, frame_end - payload_at))
    return value


def _argument(op: _Op, stream: Stream, frame_end: int | None = None, op_start: int = 0, keep_bytes: bool = False) -> Any:
    if op.fixed:
        raw = stream.read(op.fixed)
        if len(raw) < op.fixed:
            raise ValueError(f"{op.name}: argument truncated")
        return raw
    if op.prefix:
        return _counted(op, stream, frame_end, op_start, keep_bytes)
    if op.reader:
        arg = op.reader(stream)
        return arg.decode("latin-1") if isinstance(arg, bytes) else arg
    return None


def _ints(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(n, int) and not isinstance(n, bool) for n in value)


def _dtype(spec: str) -> _Instance:
    """numpy.dtype(spec, ...): its element size from the spec ('<f8', 'O8', 'U40'), refined by BUILD."""
    found = _DTYPE_SIZE.match(spec)
    kind = found.group(1) if found else spec[:1]
    return _Instance(_DTYPE, int(found.group(2)) if found else None, has_object=kind == "O")


def _pass_inline(stream: Stream, inline: InlineArray, machine: _Machine, depth: int) -> str | None:
    """Move past a joblib array's bytes as joblib's unpickler reads them; what went wrong, if anything."""
    if inline.pickled:  # an object array: pickled in turn, and run on load like the rest
        inner = walk(stream, depth + 1, machine.steps)
        _raise_if_out_of_budget(inner)
        machine.merge(inner)
        machine.walk.inline_arrays += 1
        return f"object array: {inner.error}" if inner.error else None
    if inline.nbytes < 0:
        return "an array wrapper whose dtype or shape the walk cannot size, so its bytes cannot be passed"
    if inline.aligned:
        padding = stream.read_byte()
        if padding < 0 or stream.skip(padding) < padding:
            return "array padding truncated"
    if stream.skip(inline.nbytes) < inline.nbytes:
        return f"array of {inline.nbytes} bytes truncated"
    machine.walk.inline_arrays += 1
    return None


def _walk_bytes(data: bytes, depth: int, steps: _Steps) -> PickleWalk:
    """Walk a pickle held in bytes the walk already read."""
    return walk(RangeStream(RangeReader(lambda at, size: data[at:at + size], len(data), len(data)), 0, len(data)), depth, steps)


def _raise_if_out_of_budget(inner: PickleWalk) -> None:
    """A nested walk that ran out of budget ends the walk it is part of, out of budget too."""
    if inner.out_of_budget:
        raise BudgetExceeded(inner.error or "budget exhausted in a nested pickle")


def walk(stream: Stream, depth: int = 0, steps: _Steps | None = None) -> PickleWalk:
    """Walk one pickle from the stream's position to its STOP; `error` says what went wrong on the way.

    Opcodes are followed across FRAME boundaries as the unpickler reads them; an opcode that
    straddles a frame's end, or a frame opening inside another, is a hazard: no pickler
    writes one, and CPython's loaders disagree on what such bytes mean.
    """
    result = PickleWalk()
    machine = _Machine(result, depth, steps)
    start = stream.tell()
    frame_end: int | None = None
    while True:
        at = stream.tell()
        try:
            machine.steps.take()
            code = stream.read_byte()
            if code < 0:
                result.error = f"pickle truncated at byte {at - start}: no STOP opcode"
                return result
            op = _OPS.get(code)
            if op is None:
                result.error = f"unknown opcode 0x{code:02x} at byte {at - start}"
                return result
            try:
                arg = _argument(op, stream, frame_end, at, machine.loads_nested)
            except _Straddle as straddle:
                machine.hazard(f"{op.name} at byte {at - start} runs past the end of its FRAME; loaders may run its payload as opcodes")
                machine.hidden(straddle.payload, straddle.frame_offset)
                arg = straddle.value
            if frame_end is not None and at < frame_end < stream.tell() and op.prefix is None:
                machine.hazard(f"{op.name} at byte {at - start} straddles the end of its FRAME")
            if op.name == "FRAME":
                if frame_end is not None and at < frame_end:
                    machine.hazard(f"a FRAME opens at byte {at - start} inside another")
                frame_end = stream.tell() + _number(arg)
            if op.name == "STOP":
                return result
            try:
                op.handler(machine, op, arg)
            except _StackError as exc:
                result.error = result.error or f"malformed pickle at byte {at - start}: {exc}"
                machine.lenient = True
            if machine.inline is not None:
                inline, machine.inline = machine.inline, None
                problem = _pass_inline(stream, inline, machine, depth)
                if problem:
                    result.error = f"{problem} (joblib array at byte {stream.tell() - start})"
                    return result
        except BudgetExceeded as exc:
            result.error, result.out_of_budget = str(exc), True
            return result
        except (ValueError, UnicodeDecodeError, struct.error) as exc:
            try:
                truncated = stream.at_end()
            except (BudgetExceeded, ValueError):
                truncated = False
            what = "pickle truncated" if truncated else "malformed pickle"
            result.error = f"{what} at byte {at - start}: {exc}"
            return result
