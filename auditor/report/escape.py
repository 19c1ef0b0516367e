"""Escaping of text the audited repository supplies, once per output format.

File names, card fields and licence names read from texts are hostile until escaped: a file
named `<img src=x onerror=...>`, `a\\n- **error** forged`, `![x](http://…)` or one holding a
terminal escape sequence must show as the characters it is, never act. Every renderer passes
such text through this module:

- `visible`: control and invisible formatting characters (C0, C1, DEL, bidirectional
  overrides, zero-width marks) and undecodable bytes become `\\xNN` / `\\uNNNN` text;
- `markdown_text` / `markdown_code`: `visible`, on one line, with markdown and HTML syntax
  (emphasis, links and images, code, tables, HTML, entities, math, line-start markers) inert;
- `terminal`: `visible`, keeping line breaks and tabs, for anything written to a terminal;
- `json_safe` / `dump_json`: strings that encode as valid UTF-8 (lone surrogates, such as
  the undecodable bytes of an invalid UTF-8 file name, become `\\xNN` text).
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 (but tab and newline, handled per format), DEL, C1, zero-width marks, bidirectional
# embeddings/overrides/isolates, word joiner and invisible operators, BOM, and surrogates.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\t\r\n]+")
_MARKDOWN_ESCAPED = set("\\`*[]|$~")
_MARKDOWN_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# What makes a line a heading, list item, quote, setext underline or ordered list item.
_LINE_START = re.compile(r"^(\s*)([#+\-=]|\d+(?=[.)]))")


def _codepoint(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte Python's surrogateescape could not decode
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: Any) -> str:
    """`text` with control, invisible-formatting and undecodable characters spelt out."""
    return _INVISIBLE.sub(lambda match: _codepoint(match.group()), str(text))


def terminal(text: Any) -> str:
    """Text safe to print on a terminal: no escape sequences; line breaks and tabs kept."""
    return visible(text)


def _markdown_char(text: str, index: int) -> str:
    char = text[index]
    if char in _MARKDOWN_ESCAPED:
        return "\\" + char
    if char in _MARKDOWN_ENTITIES:
        return _MARKDOWN_ENTITIES[char]
    if char == "_":
        # `snake_case` never emphasises; an underscore at a word boundary may
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        return "_" if before.isalnum() and after.isalnum() else "\\_"
    return char


def markdown_text(text: Any) -> str:
    """Repository text as inert markdown inline text, on one line (also safe in a table cell)."""
    flat = visible(_LINE_BREAKS.sub(" ", str(text)))
    escaped = "".join(_markdown_char(flat, i) for i in range(len(flat)))
    match = _LINE_START.match(escaped)
    if not match:
        return escaped
    lead, marker = match.groups()
    if marker[0].isdigit():  # "1." would open an ordered list: "1\\."
        return escaped[:match.end()] + "\\" + escaped[match.end():]
    return lead + "\\" + escaped[len(lead):]


def markdown_code(text: Any) -> str:
    """Repository text as one inline code span, whatever backticks it holds (table-safe)."""
    flat = visible(_LINE_BREAKS.sub(" ", str(text))).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {flat} " if flat.startswith("`") or flat.endswith("`") else flat
    return f"{fence}{padded}{fence}"


def json_safe(value: Any) -> Any:
    """`value` (dicts, lists, strings, scalars) with every string encodable as UTF-8."""
    if isinstance(value, str):
        return _SURROGATE.sub(lambda match: _codepoint(match.group()), value)
    if isinstance(value, dict):
        return {json_safe(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def dump_json(document: Any) -> str:
    """The document as indented JSON text that always encodes as valid UTF-8."""
    return json.dumps(json_safe(document), indent=2, ensure_ascii=False) + "\n"
