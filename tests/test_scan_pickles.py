"""The pickle walk: imports found without unpickling, on raw pickles of every protocol."""

import pickletools
import struct

import pytest
from fixtures.weights.builders import Call, Ref, dumps, legacy_torch, reader, state_dict

from auditor.model import Severity
from auditor.scan import scan_weight_file
from auditor.scan.base import RangeReader, RangeStream
from auditor.scan.pickles import walk


def _walk(data: bytes):
    return walk(RangeStream(RangeReader(reader(data), len(data), 1 << 20), 0, len(data)))


def _scan(path: str, data: bytes, budget: int = 1 << 20):
    return scan_weight_file(path, len(data), reader(data), budget)


def _codes(scan):
    return [f.code for f in scan.findings]


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_every_protocol_names_the_callable(protocol):
    data = dumps({"x": Call(Ref("os", "system"), ("echo hi",))}, protocol)
    result = _walk(data)
    assert result.error is None
    assert result.imports == {"os.system": True}


def test_stack_global_resolves_through_the_memo():
    # The second Ref reuses the memoized "builtins" string: STACK_GLOBAL gets it from BINGET.
    data = dumps([Ref("builtins", "set"), Call(Ref("builtins", "exec"), ("print(1)",))], protocol=4)
    assert b"\x93" in data and b"h" in data
    assert _walk(data).imports == {"builtins.set": False, "builtins.exec": True}


def test_stack_global_follows_the_stack_not_the_nearest_strings():
    # "os", "junk" POP, "system": a look-back at the two nearest strings would say junk.system.
    su = lambda s: b"\x8c" + bytes([len(s)]) + s  # SHORT_BINUNICODE
    data = b"\x80\x04" + su(b"os") + su(b"junk") + b"0" + su(b"system") + b"\x93" + su(b"x") + b"\x85R."
    assert _walk(data).imports == {"os.system": True}


_STRING_OPCODES = {
    "SHORT_BINUNICODE": lambda t: b"\x8c" + struct.pack("<B", len(t)) + t,
    "BINUNICODE": lambda t: b"X" + struct.pack("<I", len(t)) + t,
    "BINUNICODE8": lambda t: b"\x8d" + struct.pack("<Q", len(t)) + t,
    "UNICODE": lambda t: b"V" + t + b"\n",
    "SHORT_BINSTRING": lambda t: b"U" + struct.pack("<B", len(t)) + t,
}


@pytest.mark.parametrize("opcode", sorted(_STRING_OPCODES))
@pytest.mark.parametrize("memo", ["MEMOIZE", "BINPUT", "LONG_BINPUT"])
def test_stack_global_names_from_every_string_opcode_through_every_memo_opcode(opcode, memo):
    push = _STRING_OPCODES[opcode]
    store = {"MEMOIZE": b"\x94", "BINPUT": b"q\x00", "LONG_BINPUT": b"r\x00\x00\x00\x00"}[memo]
    fetch = b"j\x00\x00\x00\x00" if memo == "LONG_BINPUT" else b"h\x00"
    # store "subprocess", drop it, fetch it back from the memo for STACK_GLOBAL
    data = b"\x80\x04" + push(b"subprocess") + store + b"0" + fetch + push(b"check_output") + b"\x93" + push(b"id") + b"\x85R."
    assert _walk(data).imports == {"subprocess.check_output": True}


def test_stack_global_from_unicode_and_dup_opcodes():
    data = b"\x80\x04Vposix\nVsystem\n\x93\x94" + b"2" + b"0" + b"Vid\n\x85R."
    assert _walk(data).imports == {"posix.system": True}


def test_unresolvable_stack_global_is_reported():
    data = b"\x80\x04K\x01K\x02\x93."  # two ints: nothing the unpickler could import
    scan = _scan("x.pkl", data)
    assert "<unresolved STACK_GLOBAL>" in scan.facts["imports"]
    assert "unsafe-pickle" in _codes(scan)


def test_protocol_2_python2_names_are_mapped_as_pickle_maps_them():
    data = b"\x80\x02c__builtin__\neval\nq\x00X\x01\x00\x00\x001\x85R."
    assert _walk(data).imports == {"builtins.eval": True}


def test_clean_raw_state_dict_has_no_findings_and_counts_tensors():
    sd, _ = state_dict({"w": (2, 3), "b": (3,)})
    scan = _scan("model.pkl", dumps(sd))
    assert scan.format == "pickle"
    assert scan.findings == ()
    assert scan.facts["imports"] == ["collections.OrderedDict", "torch.FloatStorage", "torch._utils._rebuild_tensor_v2"]
    assert scan.facts["tensors"] == 2


def test_raw_pickle_with_os_system_is_an_error_naming_it():
    scan = _scan("weights.pt", dumps({"model": Call(Ref("os", "system"), ("id",))}))
    [found] = scan.findings
    assert found.code == "unsafe-pickle" and found.severity is Severity.ERROR
    assert "os.system" in found.message and "shell commands" in found.message
    assert found.evidence == ("weights.pt",)


def test_training_metadata_classes_are_benign():
    scan = _scan("training_args.bin", dumps(Call(Ref("transformers.training_args", "TrainingArguments"), ())))
    assert scan.findings == ()


def test_any_callable_not_known_benign_is_an_error():
    # The policy is inverted: off the benign list is an error even when nothing says why.
    scan = _scan("model.pkl", dumps(Call(Ref("mylib.layers", "Block"), ())))
    assert [(f.severity.value, f.message) for f in scan.findings] == [("error", "model.pkl: loading would call mylib.layers.Block (not a tensor or container type)")]


def test_scanning_never_unpickles(tmp_path):
    marker = tmp_path / "pwned"
    data = dumps(Call(Ref("os", "system"), (f"touch {marker}",)), protocol=4)
    scan = _scan("evil.pkl", data)
    assert "os.system" in scan.facts["calls"]
    assert not marker.exists()


def test_legacy_torch_save_walks_all_five_pickles_and_stops_before_tensor_bytes():
    sd, sizes = state_dict({"w": (64, 64)})
    sd["extra"] = Call(Ref("subprocess", "Popen"), (["id"],))
    data = legacy_torch(sd, sizes)
    scan = _scan("pytorch_model.bin", data)
    assert scan.facts["legacy_torch"] is True
    assert scan.facts["pickles"] == 5
    assert scan.facts["tensors"] == 1
    assert [f.code for f in scan.findings] == ["unsafe-pickle"]
    assert "subprocess.Popen" in scan.findings[0].message


def test_pickles_written_back_to_back_are_all_scanned():
    data = dumps([1, 2]) + dumps(Call(Ref("runpy", "run_path"), ("x.py",)))
    scan = _scan("two.pkl", data)
    assert scan.facts["pickles"] == 2
    assert "runpy.run_path" in scan.findings[0].message


def test_truncated_pickle_is_unscannable_but_keeps_what_it_saw():
    data = dumps([Call(Ref("os", "system"), ("id",)), list(range(50))])
    scan = _scan("cut.pkl", data[:-20])
    assert sorted(_codes(scan)) == ["pickle-unscannable", "unsafe-pickle"]
    assert "truncated" in next(f.message for f in scan.findings if f.code == "pickle-unscannable")


def test_budget_exhausted_is_unscannable_and_reads_no_more_than_the_budget():
    data = dumps([str(i) * 3 for i in range(20000)])
    scan = _scan("big.pkl", data, budget=4096)
    assert _codes(scan) == ["pickle-unscannable"]
    assert "budget" in scan.findings[0].message
    assert scan.bytes_read <= 4096 and scan.budget == 4096


def test_large_byte_payloads_are_skipped_not_read():
    blob = bytes(8 << 20)  # 8 MiB inline, like a numpy array pickled whole
    data = b"\x80\x04B" + struct.pack("<I", len(blob)) + blob + b"0" + dumps(Call(Ref("os", "system"), ("id",)), 4)[2:]
    scan = _scan("inline.pkl", data)
    assert scan.facts["imports"] == ["os.system"]
    assert scan.bytes_read < 256 * 1024


def test_compressed_pkl_is_decompressed_and_walked():
    import gzip

    scan = _scan("model.pkl", gzip.compress(dumps(Call(Ref("os", "system"), ("id",)))))
    assert _codes(scan) == ["unsafe-pickle"]
    assert scan.facts["compression"] == "gzip" and scan.facts["imports"] == ["os.system"]


def test_pkl_that_is_no_pickle_and_no_known_compression_is_unscannable():
    scan = _scan("model.pkl", b"\xff\xfe" + bytes(64))
    assert _codes(scan) == ["pickle-unscannable"]
    assert "compressed or not a pickle" in scan.findings[0].message


def test_files_with_pickle_extensions_that_are_not_pickles():
    assert _scan("ggml-model-q4_0.bin", b"lmgg" + bytes(100)) is None
    assert _scan("vectors.bin", b"\xff\xfe" + bytes(10)) is None  # no pickle opcode starts like this
    assert _scan("notes.txt", b"hello") is None


def test_malformed_memo_reference_is_unscannable():
    scan = _scan("bad.pkl", b"\x80\x02h\x07.")
    assert _codes(scan) == ["pickle-unscannable"]
    assert "memo" in scan.findings[0].message


def test_unsupported_protocol_is_unscannable():
    assert _codes(_scan("p6.pkl", b"\x80\x09N.")) == ["pickle-unscannable"]


def test_builder_writes_stack_global_at_protocol_4():
    # The fixtures stand for what pickle writes: check them with the standard disassembler.

    ops = [op.name for op, _, _ in pickletools.genops(dumps(Call(Ref("builtins", "exec"), ("x",)), 4))]
    assert "STACK_GLOBAL" in ops and "REDUCE" in ops


def test_imports_after_damage_are_still_listed():
    # POP on an empty stack: the walk notes the damage, then goes on and still finds os.system.
    data = b"\x80\x02" + b"0" + b"0" + b"cos\nsystem\n" + b"N\x85R."
    scan = _scan("damaged.pkl", data)
    assert sorted(_codes(scan)) == ["pickle-unscannable", "unsafe-pickle"]
    assert "os.system" in scan.facts["calls"]


def test_pop_right_after_mark_discards_the_mark_as_the_unpickler_does():
    data = b"\x80\x02(0cos\nsystem\nN\x85R."
    result = _walk(data)
    assert result.error is None and result.imports == {"os.system": True}


def test_thousands_of_imports_give_a_bounded_number_of_findings():
    data = dumps([Ref("evil", f"f{i}") for i in range(500)])
    scan = _scan("many.pkl", data)
    assert len(scan.findings) == 21 and "480 more" in scan.findings[-1].message
    assert len(scan.facts["imports"]) == 500
