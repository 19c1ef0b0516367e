"""The inverted pickle policy and the bytes CPython follows: hand-built pickles for each gap, and the sample set."""

import io
import struct
import zipfile
from pathlib import Path

import pytest
from fixtures.pickles.opcodes import Calling, Raw, call, global_, pickle_of, text
from fixtures.pickles.samples import SAMPLES, by_name
from fixtures.weights.builders import CallState, Ref, dumps, reader, state_dict, torch_zip

from auditor.model import Severity
from auditor.scan import scan_weight_file


def _scan(path: str, data: bytes):
    return scan_weight_file(path, len(data), reader(data))


def _errors(scan) -> list[str]:
    return [f.message for f in scan.findings if f.severity is Severity.ERROR]


# ---------------------------------------------------------------- the policy


@pytest.mark.parametrize("module, name", [
    ("idlelib.pyshell", "ModifiedInterpreter.runcode"), ("lib2to3.pgen2.grammar", "Grammar.loads"), ("pydoc", "pipepager"),
    ("doctest", "debug_script"), ("ensurepip", "_run_pip"), ("pkgutil", "resolve_name"), ("uuid", "_get_command_stdout"),
    ("_osx_support", "_read_output"), ("_aix_support", "_read_cmd_output"), ("asyncio.unix_events", "_UnixSubprocessTransport._start"),
    ("io", "FileIO"), ("logging", "FileHandler"), ("tarfile", "open"), ("sqlite3", "connect"), ("smtplib", "SMTP"), ("imaplib", "IMAP4_stream"),
    ("ftplib", "FTP"), ("cloudpickle", "loads"), ("joblib", "load"), ("numpy.f2py.crackfortran", "getlincoef"),
    ("torch._inductor.codecache", "compile_file"), ("torch._dynamo.guards", "GuardBuilder.get"), ("torch.fx.experimental.symbolic_shapes", "ShapeEnv"),
    ("torch.jit.unsupported_tensor_ops", "execWrapper"), ("torch.utils.bottleneck.__main__", "run_cprofile"), ("torch.utils.collect_env", "run"),
    ("torch.utils.data.datapipes.utils.decoder", "basichandlers"), ("torch.utils._config_module", "ConfigModule.load_config"),
    ("torch.storage", "_load_from_bytes"),
])
def test_callables_that_run_code_are_errors_saying_why(module, name):
    [message] = _errors(_scan("x.pkl", call(module, name, "id")))
    assert f"{module}.{name} (" in message and "not a tensor" not in message


def test_a_dangerous_name_matches_anywhere_in_a_dotted_path():
    # pickle resolves GLOBAL pathlib / os.system by getattr: pathlib.os is the os module.
    [message] = _errors(_scan("x.pkl", call("pathlib", "os.system", "id")))
    assert "pathlib.os.system (operating-system calls" in message


def test_an_unknown_callable_is_an_error_not_a_warning():
    scan = _scan("x.pkl", call("somelib.tools", "Helper", proto=2))
    assert [(f.code, f.severity) for f in scan.findings] == [("unsafe-pickle", Severity.ERROR)]
    assert scan.findings[0].message.endswith("somelib.tools.Helper (not a tensor or container type)")


def test_an_extension_code_is_an_error_saying_it_is_named_only_on_load():
    [message] = _errors(_scan("x.pkl", b"\x80\x02\x82\x01(Vid\ntR."))
    assert "<extension code 1>" in message and "named only when loaded" in message


def test_training_metadata_and_containers_are_benign():
    checkpoint = {
        "args": CallState(Ref("argparse", "Namespace"), (), {"lr": 0.1}),
        "dir": CallState(Ref("pathlib", "PosixPath"), ("runs",), None),
        "counts": CallState(Ref("collections", "defaultdict"), (Ref("builtins", "int"),), None),
        "when": CallState(Ref("datetime", "datetime"), (b"\x07\xe8\x01\x01\x00\x00\x00\x00\x00\x00",), None),
        "config": CallState(Ref("transformers.models.llama.configuration_llama", "LlamaConfig"), (), {"hidden_size": 8}),
        "layer": CallState(Ref("torch.nn.modules.linear", "Linear"), (), {}),
    }
    for protocol in (2, 4):
        assert _scan("state.pt", torch_zip(checkpoint, protocol=protocol)).findings == ()


@pytest.mark.parametrize("major, protocol", [(major, protocol) for major in (1, 2) for protocol in range(6)])
def test_numpy_arrays_are_benign_at_every_protocol(major, protocol):
    sample = by_name()[f"ours-numpy{major}-array-p{protocol}.pkl"]
    scan = _scan(sample.name, sample.build())
    assert scan.findings == ()
    if protocol == 5:
        assert f"{'numpy._core' if major == 2 else 'numpy.core'}.numeric._frombuffer" in scan.facts["calls"]


# ---------------------------------------------------------------- following the bytes


def test_a_call_hidden_past_a_frame_boundary_is_found():
    # A BINBYTES declares 0x107 bytes in a frame of 2; pickle.load on a file may run the GLOBAL/REDUCE after the frame.
    hidden = b"cos\nsystem\nVecho x\n\x85R"
    data = (b"\x80\x05N\x95" + struct.pack("<Q", 2) + b"B\x07\x01\x00\x00" + b"\x00\x00" + (hidden + b"(").ljust(261, b"N") + b"1.")
    scan = _scan("frame.pkl", data)
    assert "os.system" in scan.facts["calls"]
    assert any("runs past the end of its FRAME" in message for message in _errors(scan))


def test_an_opcode_straddling_a_frame_end_is_an_error():
    data = b"\x80\x04\x95" + struct.pack("<Q", 6) + b"cos\nsystem\nVid\n\x85R."
    assert any("straddles the end of its FRAME" in message for message in _errors(_scan("x.pkl", data)))


def test_a_frame_opening_inside_another_is_an_error():
    data = b"\x80\x05\x95" + struct.pack("<Q", 30) + b"N\x95" + struct.pack("<Q", 2) + b"N0."
    assert any("inside another" in message for message in _errors(_scan("x.pkl", data)))


@pytest.mark.parametrize("protocol", [4, 5])
def test_well_formed_frames_and_large_unframed_bytes_are_quiet(protocol):
    data = dumps([list(range(20000)), b"y" * 100000, {"a": (1, 2)}], protocol)
    assert data.count(b"\x95") >= 2
    assert _scan("frames.pkl", data).findings == ()


def test_build_rewriting_a_modules_attributes_reaches_eval():
    # torch._utils._rebuild_tensor is set to "builtins", then to "eval"; STACK_GLOBAL of the two is builtins.eval.
    scan = _scan("override.pkl", by_name()["ps-sys_module_override_sploit.pkl"].build())
    errors = _errors(scan)
    assert "builtins.eval" in scan.facts["calls"]
    assert any("BUILD rewrites attributes of torch._utils" in message for message in errors)
    assert any("builtins.eval (evaluates Python source)" in message for message in errors)


def test_build_slot_state_on_a_benign_class_is_an_error():
    data = pickle_of(Raw(global_("argparse", "Namespace", 4) + b"N}" + text("fn", 4) + text("eval", 4) + b"s\x86b0"
                         + text("builtins", 4) + global_("argparse", "Namespace.fn", 4) + b"\x93" + text("1", 4) + b"\x85R"))
    scan = _scan("slots.pkl", data)
    assert "builtins.eval" in scan.facts["calls"]
    assert any("BUILD rewrites attributes of argparse.Namespace" in message for message in _errors(scan))


def test_build_on_an_object_the_pickle_made_is_ordinary():
    assert _scan("ns.pkl", dumps(CallState(Ref("argparse", "Namespace"), (), {"a": 1}), 4)).findings == ()


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_a_pickle_nested_in_bytes_handed_to_a_loader_is_walked(protocol):
    inner = call("subprocess", "check_output", ["id"], proto=2)
    scan = _scan("nested.pkl", call("pickle", "loads", inner, proto=protocol))
    assert {"pickle.loads", "subprocess.check_output"} <= set(scan.facts["calls"])
    errors = _errors(scan)
    assert any("pickle.loads unpickles a nested pickle" in message for message in errors)
    assert any("subprocess.check_output (runs programs)" in message for message in errors)


def test_torch_load_of_a_bytesio_is_walked_too():
    data = pickle_of(Calling("torch", "load", (Calling("io", "BytesIO", (call("builtins", "exec", "x=1"),)),)))
    assert "builtins.exec" in _scan("nested.pt", data).facts["calls"]


def test_nesting_is_followed_only_so_deep():
    data = call("os", "system", "id")
    for _ in range(8):
        data = call("pickle", "loads", data)
    errors = _errors(_scan("deep.pkl", data))
    assert any("nested more than" in message for message in errors)


def test_memo_indirection_and_string_opcodes_without_proto():
    data = b"Vos\np2\n0Vsystem\np3\n0Vtorch\np0\n0VLongStorage\np1\n0g2\ng3\n\x93(Vid\ntR."
    assert _scan("memo.pkl", data).facts["calls"] == ["os.system"]


# ---------------------------------------------------------------- odd archives


def _zip_with_flags(members: dict, flags: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    raw = bytearray(out.getvalue())
    for signature, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = raw.find(signature)
        while pos >= 0:
            raw[pos + at] |= flags
            pos = raw.find(signature, pos + 4)
    return bytes(raw)


def test_a_member_flagged_encrypted_is_an_error_and_still_walked():
    data = _zip_with_flags({"archive/data.pkl": call("os", "system", "id", proto=2), "archive/version": b"3\n"}, 0x1)
    errors = _errors(_scan("model.pt", data))
    assert any("flagged as encrypted" in message for message in errors)
    assert any("os.system" in message for message in errors)


def test_members_with_data_descriptors_are_read():
    sd, sizes = state_dict({"w": (2, 2)})
    data = _zip_with_flags({"archive/data.pkl": dumps(sd), "archive/version": b"3\n"}, 0x8)
    scan = _scan("model.pt", data)
    assert scan.findings == () and scan.facts["tensors"] == 1


def test_an_unreadable_archive_is_an_error():
    data = bytearray(torch_zip(state_dict({"w": (2,)})))
    eocd = data.rfind(b"PK\x05\x06")
    data[eocd + 16:eocd + 20] = (10**6).to_bytes(4, "little")
    [found] = _scan("model.bin", bytes(data)).findings
    assert found.code == "pickle-unscannable" and found.severity is Severity.ERROR


def test_a_pickle_in_a_member_not_named_pkl_is_walked():
    data = _zip_with_flags({"notes.txt": call("os", "system", "id", proto=0), "readme.txt": b"(c is not a call"}, 0)
    scan = _scan("bundle.zip", data)
    assert scan.facts["pickle_members"] == ["notes.txt"] and "os.system" in scan.facts["calls"]


def test_a_zip_without_pickles_is_not_a_weight_file():
    assert _scan("data.zip", _zip_with_flags({"a.csv": b"x,y\n"}, 0)) is None


def test_a_file_that_only_begins_like_a_pickle_is_not_one():
    assert _scan("picture.pt", b"\x89PNG\r\n\x1a\n" + bytes(100)) is None
    assert [f.code for f in _scan("picture.pkl", b"\x89PNG\r\n\x1a\n").findings] == ["pickle-unscannable"]


def test_torch_tar_format_walks_every_pickle_between_raw_storage_bytes():
    benign = _scan("old.pt", by_name()["ours-legacy-tar.pt"].build())
    assert benign.format == "pytorch-tar" and benign.findings == ()
    assert benign.facts["pickles"] == 7  # sys_info, pickle, tensors (count, one record), storages (count, two records)
    hidden = _scan("old.pt", by_name()["ours-legacy-tar-storages.pt"].build())
    assert any("(storages): loading would call os.system" in message for message in _errors(hidden))


# ---------------------------------------------------------------- the sample set (tests/fixtures/pickles)


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.kind == "malicious"], ids=lambda s: s.name)
def test_every_malicious_sample_is_an_error(sample):
    scan = _scan(sample.name, sample.build())
    assert scan is not None and _errors(scan), sample.what


def test_benign_checkpoints_raise_nothing_above_info():
    loud = {}
    for sample in SAMPLES:
        if sample.kind == "benign":
            scan = _scan(sample.name, sample.build())
            above_info = [f.message for f in (scan.findings if scan else ()) if f.severity is not Severity.INFO]
            if above_info:
                loud[sample.name] = above_info
    assert loud == {}


def test_scanning_the_samples_runs_none_of_them(tmp_path, monkeypatch):
    # Every sample, plus one that would create a marker file if anything unpickled it.
    marker = tmp_path / "ran"
    monkeypatch.chdir(tmp_path)
    trap = call("os", "system", f"touch {marker}", frame=True)
    for sample in [*SAMPLES, *[type(SAMPLES[0])(f"trap.{ext}", "malicious", "", "", lambda: trap) for ext in ("pkl", "pt")]]:
        _scan(sample.name, sample.build())
    assert _scan("trap-nested.pkl", call("pickle", "loads", trap)).facts["calls"]
    assert not marker.exists()


def test_every_sample_has_its_provenance_in_the_readme():
    readme = (Path(__file__).parent / "fixtures" / "pickles" / "README.md").read_text(encoding="utf-8")
    assert [s.name for s in SAMPLES if f"`{s.name}`" not in readme] == []


# ---------------------------------------------------------------- end to end: the CLI gate


def _local_release(root: Path, weights: bytes) -> Path:
    root.mkdir()
    (root / "README.md").write_text("---\nlicense: apache-2.0\n---\n# A model\n", encoding="utf-8")
    (root / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    (root / "pytorch_model.bin").write_bytes(weights)
    (root / "training_args.bin").write_bytes(by_name()["ours-training_args.bin"].build())
    (root / "optimizer.pt").write_bytes(by_name()["ours-optimizer.pt"].build())
    return root


def test_fail_on_unsafe_pickle_stops_a_callable_off_the_benign_list(tmp_path):
    from click.testing import CliRunner

    from auditor.cli import audit_model

    clean = _local_release(tmp_path / "clean", by_name()["ours-state-dict.bin"].build())
    hostile = _local_release(tmp_path / "hostile", torch_zip({"w": CallState(Ref("pydoc", "pipepager"), ("", "id"), None)}))
    args = ["--scan-weights", "--fail-on", "unsafe-pickle", "--format", "json"]
    passed = CliRunner().invoke(audit_model, [str(clean), *args])
    failed = CliRunner().invoke(audit_model, [str(hostile), *args])
    assert passed.exit_code == 0, passed.stdout
    assert failed.exit_code == 1
    assert "pydoc.pipepager (runs a pager command" in failed.stdout
