"""Unit tests of the output plumbing: the OutputFormat registry and the escaping of repository text."""

from __future__ import annotations

import json

import pytest

from auditor.report import OutputFormat, renderer_for
from auditor.report.escape import dump_json, json_safe, markdown_code, markdown_text, terminal, visible
from auditor.report.markdown import MarkdownRenderer


def test_registry_names_aliases_suffixes_and_renderers():
    assert OutputFormat.names()[:4] == ("markdown", "json", "sarif", "cyclonedx") and "md" in OutputFormat.names()
    assert OutputFormat.named("MD") is OutputFormat.MARKDOWN and OutputFormat.named("cdx") is OutputFormat.CYCLONEDX
    with pytest.raises(ValueError, match="'pdf' is not one of"):
        OutputFormat.named("pdf")
    assert [OutputFormat.for_path(p) for p in ("a.md", "a.json", "a.sarif.json", "a.SARIF", "a.cdx.json", "bom.json", "a.txt")] == [
        OutputFormat.MARKDOWN, OutputFormat.JSON, OutputFormat.SARIF, OutputFormat.SARIF, OutputFormat.CYCLONEDX,
        OutputFormat.CYCLONEDX, None]
    assert {f.value: f.file_suffix for f in OutputFormat} == {"markdown": "md", "json": "json", "sarif": "sarif", "cyclonedx": "cdx.json"}
    assert isinstance(renderer_for("md"), MarkdownRenderer) and OutputFormat("markdown") is OutputFormat.MARKDOWN


@pytest.mark.parametrize("text, rendered", [
    ("pytorch_model.bin", "pytorch_model.bin"),  # ordinary names are untouched
    ("model-00001-of-00002.safetensors", "model-00001-of-00002.safetensors"),
    ("__init__.py", "\\_\\_init\\_\\_.py"),
    ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
    ("![x](http://e/x.png)", "!\\[x\\](http://e/x.png)"),
    ("a\n- **error** forged", "a - \\*\\*error\\*\\* forged"),
    ("x | y", "x \\| y"),
    ("`code`", "\\`code\\`"),
    ("&#27;", "&amp;#27;"),
    ("$x$", "\\$x\\$"),
    ("# heading", "\\# heading"),
    ("- item", "\\- item"),
    ("1. item", "1\\. item"),
    ("\x1b[31m", "\\\\x1b\\[31m"),
    ("\u202eevil", "\\\\u202eevil"),
])
def test_markdown_text(text, rendered):
    assert markdown_text(text) == rendered


def test_markdown_code_survives_backticks_and_pipes():
    assert markdown_code("MIT") == "`MIT`"
    assert markdown_code("a`b") == "``a`b``"
    assert markdown_code("`x`") == "`` `x` ``"
    assert markdown_code("a|b\nc") == "`a\\|b c`"


def test_visible_spells_out_controls_and_undecodable_bytes():
    undecodable = b"bad-\xff.bin".decode("utf-8", "surrogateescape")
    assert visible(undecodable) == "bad-\\xff.bin"
    assert visible("\x07\x9b\u200b") == "\\x07\\x9b\\u200b"
    assert terminal("line\n\tnext\x1b]0;x\x07") == "line\n\tnext\\x1b]0;x\\x07"


def test_json_is_valid_utf8_whatever_the_strings():
    undecodable = b"bad-\xff.bin".decode("utf-8", "surrogateescape")
    document = {"path": undecodable, undecodable: [undecodable, 1, None], "escape": "\x1b"}
    text = dump_json(document)
    text.encode("utf-8")  # a lone surrogate would raise here
    assert json.loads(text) == {"path": "bad-\\xff.bin", "bad-\\xff.bin": ["bad-\\xff.bin", 1, None], "escape": "\x1b"}
    assert json_safe(("a", 2)) == ["a", 2]
