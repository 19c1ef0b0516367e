"""The artefact rules table, row by row, and weight-set grouping."""

import pytest

from auditor.classify.classifier import classify, group_weights, rule_for, rules
from auditor.model import Category, FileEntry


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.example)
def test_every_rule_example_lands_on_its_own_row(rule):
    assert rule_for(rule.example) is rule


@pytest.mark.parametrize(
    ("path", "category", "fmt"),
    [
        ("model-00001-of-00004.safetensors", Category.WEIGHTS, "safetensors"),
        ("original/consolidated.00.pth", Category.WEIGHTS, "pickle"),
        ("pytorch_model.bin", Category.WEIGHTS, "pickle"),
        ("training_args.bin", Category.OTHER, "pickle"),
        ("unet/openvino_model.bin", Category.WEIGHTS, "openvino"),
        ("Mistral.Q4_K_M.GGUF", Category.WEIGHTS, "gguf"),
        ("text_encoder_2/flax_model.msgpack", Category.WEIGHTS, "flax-msgpack"),
        ("LICENSE.txt", Category.LICENCE, "text"),
        ("LICENSE-MODEL", Category.LICENCE, "text"),
        ("USE_POLICY.md", Category.LICENCE, "text"),
        ("README.md", Category.DOCUMENTATION, "model-card"),
        ("modeling_deepseek.py", Category.CODE, "python"),
        ("data/train-00000-of-00002.parquet", Category.TRAINING_DATA, "parquet"),
        ("tokenizer.model", Category.TOKENIZER, "sentencepiece"),
        ("model.safetensors.index.json", Category.CONFIG, "weights-index"),
        ("runs/events.out.tfevents.1690000000.host.1234.0", Category.OTHER, "tensorboard"),
    ],
)
def test_real_file_names(path, category, fmt):
    (artefact,) = classify([FileEntry(path, 10)])
    assert (artefact.category, artefact.format) == (category, fmt)
    assert artefact.reason.startswith(("name matches", "path matches"))


def test_shards_group_with_their_index_and_sum_sizes():
    files = [
        FileEntry("model-00001-of-00002.safetensors", 5, lfs=True),
        FileEntry("model-00002-of-00002.safetensors", 7, lfs=True),
        FileEntry("model.safetensors.index.json", 1),
        FileEntry("pytorch_model-00001-of-00002.bin", 5, lfs=True),
        FileEntry("pytorch_model-00002-of-00002.bin", 5, lfs=True),
        FileEntry("unet/diffusion_pytorch_model.safetensors", 3, lfs=True),
        FileEntry("model.onnx", 2),
        FileEntry("model.onnx_data", 9),
    ]
    sets = {s.name: s for s in group_weights(classify(files))}
    assert set(sets) == {"model.safetensors", "pytorch_model.bin", "unet/diffusion_pytorch_model.safetensors", "model.onnx"}
    assert sets["model.safetensors"].total_size == 12
    assert sets["model.safetensors"].index == "model.safetensors.index.json"
    assert len(sets["pytorch_model.bin"].files) == 2 and sets["pytorch_model.bin"].index is None
    assert sets["model.onnx"].total_size == 11


def test_adapters_are_marked():
    files = [FileEntry("adapter_model.safetensors", 5), FileEntry("adapter_config.json", 1), FileEntry("sd_xl_offset_example-lora_1.0.safetensors", 4)]
    sets = group_weights(classify(files))
    assert all(s.adapter for s in sets)
