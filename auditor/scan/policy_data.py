"""The non-pickle scanners' policy (artefact_policy.yaml), read once."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from auditor.yamlfile import load_yaml


@lru_cache(maxsize=1)
def artefact_policy() -> Mapping[str, Any]:
    """Keras modules and classes, TensorFlow ops, ONNX domains and chat-template gadgets."""
    return load_yaml(resources.files("auditor.scan").joinpath("artefact_policy.yaml").read_text(encoding="utf-8"))
