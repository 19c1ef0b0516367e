"""The scanners of every format, by scan_weight_file on bytes built here: what each finds and how it reads."""

from __future__ import annotations

import zlib

import pytest
from fixtures.artefacts import builders as ab
from fixtures.artefacts.samples import SAMPLES, by_name
from fixtures.weights import builders as wb

from auditor.classify.classifier import rules
from auditor.model import Severity
from auditor.scan import SCANNERS, WHOLE_READ_CAP, scan_weight_file, scanned_format
from auditor.scan.allowlist import import_findings, is_benign
from auditor.scan.archives import scan_7z
from auditor.scan.base import RangeReader
from auditor.scan.chat_template import chat_template_findings
from auditor.scan.protobuf import escapes
from auditor.scan.sniff import sniff


def scan(name: str, data: bytes, budget: int = 1 << 20):
    return scan_weight_file(name, len(data), wb.reader(data), budget)


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


def errors(result) -> list[str]:
    return [f.message for f in result.findings if f.severity is Severity.ERROR]


# ---------------------------------------------------------------- one table
def test_every_scanner_reads_a_format_the_classifier_gives_or_a_signature_names():
    classified = {rule.format for rule in rules()}
    signatures = {"zip", "7z", "tar", "gzip", "bz2", "xz", "zlib", "lzma"}
    assert set(SCANNERS) <= classified | signatures


@pytest.mark.parametrize("example", [r.example for r in rules() if r.format in SCANNERS])
def test_each_scanned_row_of_the_classifier_reaches_its_scanner(example):
    fmt = next(r.format for r in rules() if r.example == example)
    assert scanned_format(fmt, None) == fmt


@pytest.mark.parametrize("head,kind", [
    (b"PK\x03\x04", "zip"), (b"7z\xbc\xaf\x27\x1c\x00\x04", "7z"), (b"\x1f\x8b\x08", "gzip"), (b"BZh9", "bz2"), (b"\xfd7zXZ\x00", "xz"),
    (b"\x93NUMPY\x01\x00", "numpy"), (b"\x89HDF\r\n\x1a\n", "hdf5"), (b"GGUF\x03\x00", "gguf"), (b"\x80\x04\x95", "pickle"),
    (zlib.compress(b"x" * 10), "zlib"), (ab.compress(b"x" * 10, "lzma"), "lzma"), (ab.tar_of({"a": b"1"})[:512], "tar"),
    (b"\x08\x08\x12\x07pytorch", None), (b"hello world", None),
])
def test_signatures(head, kind):
    assert sniff(head) == kind


def test_names_lie_the_content_picks_the_scanner():
    assert scanned_format("pickle", "7z") == "7z"  # a .pt packed with 7z
    assert scanned_format("pickle", "zlib") == "zlib"  # a compressed joblib named .pkl
    assert scanned_format("pickle", "zip") == "pickle"  # torch.save's zip: the pickle scanner reads it
    assert scanned_format("numpy", "zip") == "numpy"  # .npz
    assert scanned_format(None, "pickle") == "pickle"  # a pickle under an unknown name
    assert scanned_format("openvino", None) is None  # raw tensor bytes: nothing to scan
    assert scanned_format("safetensors", "pickle") == "safetensors"  # its header check reports the mismatch


def test_an_unknown_name_holding_a_pickle_is_scanned():
    result = scan("model.dat", wb.dumps(ab.New(wb.Ref("os", "system"), {}), 4))
    assert result is not None and "unsafe-pickle" in codes(result)


# ---------------------------------------------------------------- every sample
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_malicious_samples_are_errors_and_benign_ones_are_not(sample):
    result = scan(sample.name.rsplit("/", 1)[-1], sample.build())
    assert result is not None
    assert bool(errors(result)) == (sample.kind == "malicious"), result.findings


# ---------------------------------------------------------------- numpy
def test_an_object_npy_names_the_call_in_its_pickle():
    result = scan("x.npy", by_name()["payload.npy"].build())
    assert result.facts["object"] is True and "os.system" in result.facts["calls"]


def test_a_numeric_npy_is_read_by_its_header_only():
    result = scan("x.npy", ab.npy("<f4", (1024, 1024), bytes(4 << 20)))
    assert result.findings == () and result.facts["elements"] == 1 << 20 and result.bytes_read <= 64 * 1024


@pytest.mark.parametrize("deflated", [False, True])
def test_npz_members_stored_and_deflated(deflated):
    result = scan("x.npz", ab.npz({"a.npy": ab.npy("<f4", (4,), bytes(16)), "b.npy": ab.object_npy([ab.New(wb.Ref("subprocess", "run"), {})])}, deflated))
    assert result.facts["object_arrays"] == ["b.npy"] and any("subprocess.run" in m for m in errors(result))


# ---------------------------------------------------------------- joblib
def test_a_joblib_walk_passes_inline_arrays_to_reach_what_follows():
    data = ab.joblib_dump({"a": ab.JoblibArray((128, 128)), "b": ab.JoblibArray((3,), "i4"), "hook": wb.Call(wb.Ref("os", "system"), ("id",))})
    result = scan("m.joblib", data)
    assert result.facts["inline_arrays"] == 2 and any("os.system" in m for m in errors(result))
    assert result.bytes_read < len(data)  # the 128 KiB array was skipped, not read


@pytest.mark.parametrize("kind", ["zlib", "gzip", "bz2", "lzma", "xz"])
def test_compressed_joblib_is_walked_as_a_stream(kind):
    result = scan("m.joblib", ab.compress(ab.joblib_dump({"m": ab.JoblibArray((16,)), "hook": wb.Call(wb.Ref("builtins", "eval"), ("1",))}), kind))
    assert result.facts["compression"] == kind and result.facts["inline_arrays"] == 1
    assert any("builtins.eval" in m for m in errors(result))


def test_a_decompression_bomb_is_a_finding():
    result = scan("m.joblib", ab.zlib_bomb(64 << 20))
    assert codes(result) == ["unsafe-artefact"] and "decompression bomb" in result.findings[0].message


def test_a_file_read_whole_is_unscanned_above_the_cap_and_not_read():
    head = zlib.compress(b"\x80\x04" + bytes(1000))
    reads = []

    def read(start: int, length: int) -> bytes:
        reads.append(length)
        return head[start:start + length]
    result = scan_weight_file("big.joblib", WHOLE_READ_CAP + 1, read)
    assert codes(result) == ["artefact-unscanned"] and sum(reads) <= 64 * 1024


# ---------------------------------------------------------------- classical ML and user code
@pytest.mark.parametrize("name", [
    "sklearn.pipeline.Pipeline", "sklearn.ensemble._forest.RandomForestClassifier", "sklearn.tree._tree.Tree",
    "lightgbm.basic.Booster", "xgboost.sklearn.XGBClassifier", "catboost.core.CatBoostClassifier",
    "joblib.numpy_pickle.NumpyArrayWrapper", "pandas.core.frame.DataFrame", "__future__._Feature",
])
def test_construction_only_classes_of_ml_libraries_are_benign(name):
    assert is_benign(name)


@pytest.mark.parametrize("name", ["sklearn.utils._testing.assert_run_python_script_without_output", "sklearn.datasets.fetch_openml", "lightgbm.basic.os.system"])
def test_dangerous_names_still_win_inside_benign_libraries(name):
    assert not is_benign(name)


def test_a_main_class_is_a_warning_and_a_main_function_an_error():
    found = import_findings("m.pkl", "m.pkl", {"__main__.TextClassifier": True, "__main__.system": True})
    assert [(f.code, f.severity) for f in found] == [("pickle-needs-code", Severity.WARNING), ("unsafe-pickle", Severity.ERROR)]
    assert "publisher's code" in found[0].message


# ---------------------------------------------------------------- archives
def test_a_7z_checkpoint_is_a_warning_and_its_pickle_walked():
    result = scan("model.pt", by_name()["payload-7z.pt"].build())
    assert codes(result)[0] == "artefact-repacked" and any("builtins.exec" in m for m in errors(result))


def test_a_7z_extraction_past_its_cap_is_a_bomb():
    data = ab.sevenzip_of({"a.pkl": bytes(1 << 20)})
    result = scan_7z("a.7z", RangeReader(wb.reader(data), len(data), len(data)), lambda *a: None, limit=1 << 16)
    assert codes(result) == ["unsafe-artefact"]


def test_tar_members_are_scanned_by_their_own_names_and_evidence_is_the_archive():
    data = ab.tar_of({"pkg/model.npy": ab.object_npy([wb.Call(wb.Ref("os", "system"), ("id",))]), "pkg/readme.txt": b"hi"})
    result = scan("bundle.tar", data)
    assert result.facts["scanned_members"] == {"bundle.tar (pkg/model.npy)": "numpy"}
    assert all(f.evidence == ("bundle.tar",) for f in result.findings) and errors(result)


# ---------------------------------------------------------------- Keras, TensorFlow, ONNX
def test_keras_errors_name_the_layer_and_the_module():
    messages = errors(scan("m.keras", by_name()["get-file.keras"].build()))
    assert messages == ["m.keras (config.json): function object of layer 'dense' (Dense) comes from module keras.utils.get_file, outside Keras: loading imports and runs it"]
    lambda_h5 = errors(scan("m.h5", by_name()["lambda.h5"].build()))
    assert len(lambda_h5) == 1 and "'lambda' (Lambda)" in lambda_h5[0]


def test_an_h5_is_read_by_its_metadata_not_its_size():
    data = by_name()["model.h5"].build()
    result = scan("m.h5", data)
    assert result.facts["model_class"] == "Sequential" and result.bytes_read <= len(data)


def test_tensorflow_ops_listed_and_file_ops_are_errors():
    result = scan("saved_model.pb", by_name()["writefile/saved_model.pb"].build())
    assert "SaveV2" in result.facts["ops"] and errors(result) == ["saved_model.pb: op WriteFile (writes any file) in node 'drop'"]


@pytest.mark.parametrize("location,escaping", [
    ("model.onnx_data", False), ("weights/part1.bin", False), ("a/../b.bin", False), ("/etc/passwd", True), ("../x", True),
    ("a/../../x", True), ("C:\\Windows\\x", True), ("\\\\server\\share", True), ("~/.ssh/id_rsa", True),
])
def test_onnx_external_locations(location, escaping):
    assert (escapes(location) is not None) == escaping


def test_onnx_custom_domains_are_info():
    result = scan("m.onnx", by_name()["custom-op.onnx"].build())
    assert [(f.code, f.severity) for f in result.findings] == [("custom-operators", Severity.INFO)] and result.facts["custom_domains"] == ["com.microsoft"]


# ---------------------------------------------------------------- chat templates
@pytest.mark.parametrize("template", [
    "{{ ''.__class__ }}", "{{ x['__globals__'] }}", "{{ cycler.__init__ }}", "{{ joiner }}", "{{ self._TemplateReference__context }}",
    "{{ m|attr('__class__') }}", "{{ m|attr('__cl' ~ 'ass__') }}", "{{ xs|map(attribute='__class__')|list }}", "{{ lipsum }}",
])
def test_template_injection_shapes_are_errors(template):
    found = chat_template_findings("m.gguf", template)
    assert found and all(f.code == "unsafe-artefact" for f in found)


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.format == "gguf" and s.kind == "benign"], ids=lambda s: s.name)
def test_real_chat_templates_are_quiet(sample):
    import re

    from fixtures.artefacts import samples as module

    templates = [v for k, v in vars(module).items() if k in ("_LLAMA3", "_CHATML", "_TOOLS")]
    assert all(chat_template_findings("m.gguf", t) == [] for t in templates) and re.search("gguf$", sample.name)


def test_an_unparsable_template_is_not_an_error():
    assert chat_template_findings("m.gguf", "{% for %}") == []


def test_gguf_chat_templates_are_read_from_the_header_walk_named_ones_too():
    data = wb.gguf([("general.architecture", wb.STRING, "llama"), ("tokenizer.ggml.tokens", wb.ARRAY, (wb.STRING, ["a", "b"])),
                    ("tokenizer.chat_template", wb.STRING, "{{ messages }}"), ("tokenizer.chat_template.tool_use", wb.STRING, "{{ lipsum.__globals__ }}")])
    result = scan("m.gguf", data)
    assert [f.message for f in result.findings] == [
        "m.gguf: tokenizer.chat_template.tool_use reaches the Python attribute __globals__ (line 1)",
        "m.gguf: tokenizer.chat_template.tool_use uses lipsum, a global that hands out Python objects (line 1)",
    ]


def _h5_layer_errors(layer: dict) -> list[str]:
    return errors(scan("m.h5", ab.h5_file(ab.keras2_model([ab.keras2_layer("Dense", "dense", {"units": 2}), layer]))))


def test_keras2_op_layers_doing_arithmetic_are_quiet_and_file_ops_are_errors():
    assert _h5_layer_errors(ab.keras2_layer("TFOpLambda", "tf.math.add", {"function": "math.add"})) == []
    assert _h5_layer_errors(ab.keras2_layer("SlicingOpLambda", "tf.__operators__.getitem", {"function": "__operators__.getitem"})) == []
    assert any("io.write_file" in m for m in _h5_layer_errors(ab.keras2_layer("TFOpLambda", "tf.io.write_file", {"function": "io.write_file"})))
    assert any("ReadFile" in m for m in _h5_layer_errors(ab.keras2_layer("TensorFlowOpLayer", "read", {"node_def": {"op": "ReadFile", "name": "read"}})))


def test_keras_hub_models_are_keras_own():
    layer = ab.keras3_layer("GemmaBackbone", "gemma_backbone", {}, module="keras_hub.src.models.gemma.gemma_backbone", registered="keras_hub>GemmaBackbone")
    assert errors(scan("m.keras", ab.keras_file(ab.keras3_model([layer])))) == []
