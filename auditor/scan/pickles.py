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
"""

from __future__ import annotations

import _compat_pickle
import pickle  # for its HIGHEST_PROTOCOL constant only: nothing is ever unpickled
import pickletools
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import yaml

from auditor.findings import finding
from auditor.model import Finding
from auditor.scan.base import BudgetExceeded, Stream

_MAX_NAME = 4096  # a string argument longer than this is data, never a module or attribute name


class _Mark:
    """The MARK opcode's marker on the abstract stack."""


@dataclass(frozen=True)
class _Global:
    """A callable or class the pickle imported."""

    name: str


_MARK = _Mark()
_ANY = object()  # any value the walk does not need to know

# Length prefixes of the opcodes whose argument is a counted payload: (size, struct format).
_PREFIX = {
    pickletools.TAKEN_FROM_ARGUMENT1: (1, "<B"),
    pickletools.TAKEN_FROM_ARGUMENT4: (4, "<i"),
    pickletools.TAKEN_FROM_ARGUMENT4U: (4, "<I"),
    pickletools.TAKEN_FROM_ARGUMENT8U: (8, "<Q"),
}
_TEXT_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8"}
_PY2_STRING_OPS = {"SHORT_BINSTRING", "BINSTRING"}  # unpickled as str by Python 3's default encoding


@dataclass
class PickleWalk:
    """What one pickle would import (name -> whether it is also called), in order of first use."""

    imports: dict[str, bool] = field(default_factory=dict)
    protocol: int = 0
    tensors: int = 0
    error: str | None = None
    out_of_budget: bool = False


@lru_cache(maxsize=1)
def allowlist() -> Mapping[str, Any]:
    text = resources.files("auditor.scan").joinpath("pickle_allowlist.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    allowed = {f"{module}.{name}" for module, names in data["allowed"].items() for name in names}
    return {
        "allowed": frozenset(allowed),
        "tensor_rebuilders": frozenset(data["tensor_rebuilders"]),
        "known_dangerous": data["known_dangerous"],
        "torchscript_classes": data["torchscript_classes"],
    }


def _py3_name(module: str, name: str, protocol: int) -> str:
    # The unpickler maps Python 2 names (`__builtin__.set`) for protocols below 3; so do we.
    if protocol < 3:
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
    return f"{module}.{name}"


class _Machine:
    """The stack and memo of one pickle, with just enough values kept to resolve imports."""

    def __init__(self, walk: PickleWalk):
        self.walk = walk
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}

    def pop(self) -> Any:
        if not self.stack or self.stack[-1] is _MARK:
            raise ValueError("stack underflow")
        return self.stack.pop()

    def pop_mark(self) -> list[Any]:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i] is _MARK:
                items = self.stack[i + 1:]
                del self.stack[i:]
                return items
        raise ValueError("no MARK on the stack")

    def imported(self, name: str) -> _Global:
        self.walk.imports.setdefault(name, False)
        return _Global(name)

    def called(self, target: Any) -> None:
        if isinstance(target, _Global):
            self.walk.imports[target.name] = True
            if target.name in allowlist()["tensor_rebuilders"]:
                self.walk.tensors += 1

    def step(self, op: pickletools.OpcodeInfo, arg: Any) -> None:
        name = op.name
        if name in ("GLOBAL", "INST"):
            module, _, attr = str(arg).partition(" ")
            ref = self.imported(_py3_name(module, attr, self.walk.protocol))
            if name == "INST":
                self.pop_mark()
                self.called(ref)
                ref = _ANY
            self.stack.append(ref)
        elif name == "STACK_GLOBAL":
            attr, module = self.pop(), self.pop()
            if isinstance(module, str) and isinstance(attr, str):
                self.stack.append(self.imported(_py3_name(module, attr, self.walk.protocol)))
            else:
                self.stack.append(self.imported("<unresolved STACK_GLOBAL>"))
        elif name in ("EXT1", "EXT2", "EXT4"):
            # The copyreg extension registry maps the code to a callable only at load time.
            self.stack.append(self.imported(f"<extension code {arg}>"))
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            if not self.stack:
                raise ValueError("memo put on an empty stack")
            self.memo[int(arg)] = self.stack[-1]
        elif name == "MEMOIZE":
            if not self.stack:
                raise ValueError("memoize on an empty stack")
            self.memo[len(self.memo)] = self.stack[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            if int(arg) not in self.memo:
                raise ValueError(f"memo key {arg} was never stored")
            self.stack.append(self.memo[int(arg)])
        elif name == "DUP":
            self.stack.append(self.stack[-1] if self.stack else _ANY)
        elif name == "PROTO":
            self.walk.protocol = int(arg)
            if not 0 <= self.walk.protocol <= pickle.HIGHEST_PROTOCOL:
                raise ValueError(f"unsupported pickle protocol {arg}")
        else:
            self._generic(op, arg)

    def _generic(self, op: pickletools.OpcodeInfo, arg: Any) -> None:
        """Pop and push as pickletools' stack description says; note which import is called."""
        before = op.stack_before
        items: list[Any] = []
        if pickletools.markobject in before:
            items = self.pop_mark()
            below = before.index(pickletools.markobject)
        else:
            below = len(before)
        popped = [self.pop() for _ in range(below)][::-1]
        if op.name in ("REDUCE", "NEWOBJ", "NEWOBJ_EX"):
            self.called(popped[0])
        elif op.name == "OBJ" and items:
            self.called(items[0])
        for produced in op.stack_after:
            if produced is pickletools.markobject:
                self.stack.append(_MARK)
            elif op.name in _TEXT_OPS | _PY2_STRING_OPS | {"UNICODE", "STRING"} and isinstance(arg, str):
                self.stack.append(arg)
            else:
                self.stack.append(_ANY)


def _read_arg(op: pickletools.OpcodeInfo, stream: Stream) -> Any:
    """The opcode's argument; counted payloads too long to be a name are skipped, not read."""
    desc = op.arg
    if desc is None:
        return None
    if desc.n not in _PREFIX:
        return desc.reader(stream)
    size, fmt = _PREFIX[desc.n]
    raw = stream.read(size)
    if len(raw) < size:
        raise ValueError(f"{op.name}: truncated length")
    length = struct.unpack(fmt, raw)[0]
    if length < 0:
        raise ValueError(f"{op.name}: negative length")
    wanted = op.name in _TEXT_OPS or op.name in _PY2_STRING_OPS
    if not wanted or length > _MAX_NAME:
        if stream.skip(length) < length:
            raise ValueError(f"{op.name}: payload truncated")
        return _ANY
    data = stream.read(length)
    if len(data) < length:
        raise ValueError(f"{op.name}: payload truncated")
    return data.decode("utf-8", "surrogatepass") if op.name in _TEXT_OPS else data.decode("latin-1")


def walk(stream: Stream) -> PickleWalk:
    """Walk one pickle from the stream's position to its STOP; `error` says why it stopped short."""
    result = PickleWalk()
    machine = _Machine(result)
    start = stream.tell()
    while True:
        at = stream.tell()
        try:
            code = stream.read(1)
            if not code:
                result.error = f"pickle truncated at byte {at - start}: no STOP opcode"
                return result
            op = pickletools.code2op.get(code.decode("latin-1"))
            if op is None:
                result.error = f"unknown opcode 0x{code[0]:02x} at byte {at - start}"
                return result
            arg = _read_arg(op, stream)
            if op.name == "STOP":
                return result
            if op.name in ("STRING", "UNICODE") and isinstance(arg, bytes):
                arg = arg.decode("latin-1")
            machine.step(op, arg)
        except BudgetExceeded as exc:
            result.error, result.out_of_budget = str(exc), True
            return result
        except (ValueError, UnicodeDecodeError, struct.error) as exc:
            try:
                truncated = stream.at_end()
            except BudgetExceeded:
                truncated = False
            what = "pickle truncated" if truncated else "malformed pickle"
            result.error = f"{what} at byte {at - start}: {exc}"
            return result


def import_findings(path: str, where: str, imports: Mapping[str, bool], torchscript: bool = False) -> list[Finding]:
    """One `unsafe-pickle` finding per import outside the allowlist, naming module.callable.

    In a TorchScript archive, `__torch__.*` names are the archive's own compiled classes,
    resolved by torch.jit from its code/ folder rather than imported from Python.
    """
    rules = allowlist()
    found = []
    for name, called in imports.items():
        if name in rules["allowed"] or (torchscript and name.startswith(rules["torchscript_classes"])):
            continue
        verb = "call" if called else "import"
        risk = _danger(name, rules["known_dangerous"])
        message = f"{where}: loading would {verb} {name}" + (f" ({risk})" if risk else "")
        found.append(finding("unsafe-pickle", message, [path]))
    return found


def _danger(name: str, known: Mapping[str, str]) -> str | None:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        risk = known.get(".".join(parts[:cut]))
        if risk:
            return risk
    return None
