#!/usr/bin/env python3
"""Write the variant cases of the data-driven licence tests into tests/data/licences/.

Each variant is a reference text of licences/texts/ (ScanCode-sourced, see each profile's
text_source) changed the way licence files are changed in the wild: reflowed, turned into
markdown, CRLF line ends, curly quotes made straight (or straight ones curly), a header and a
footer added, two licences in one file, truncated, a Chinese part beside the English text,
another licence's title put over a body. Only the `.txt` files are written here; each one's
`.yml` (what a careful reader finds in it, and why) is written by hand (tests/test_licence_data.py).

Usage: python scripts/make_licence_variants.py
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ROOT / "licences" / "texts"
UNKNOWN = ROOT / "tests" / "fixtures" / "repos"  # licences the knowledge base does not know, written for the tests
OUT = ROOT / "tests" / "data" / "licences"
COMMON = ("apache-2.0", "mit", "bsd-3-clause", "llama3.1", "llama2", "gemma", "creativeml-openrail-m", "qwen")

CHINESE_NOTE = (
    "许可说明\n\n本模型依据下列英文许可协议发布。以下中文说明仅供参考，"
    "如中文说明与英文文本不一致，以英文文本为准。\n\n"
)
CHINESE_AFTER = (
    "\n\n中文译本（仅供参考）\n\n您可以在遵守上述许可协议全部条款的前提下使用、复制、修改和分发本模型。"
    "本译本不构成许可协议的一部分。\n"
)
HEADER = "Copyright 2025 Example Robotics Inc.\n\nThe model weights in this repository are released under the licence below.\n\n"
FOOTER = "\n\nQuestions about this licence: legal@example-robotics.example\n"


def text(licence_id: str) -> str:
    return (TEXTS / f"{licence_id}.txt").read_text(encoding="utf-8")


def paragraphs(body: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]


_ITEM = re.compile(r"^\s*(?:[-*•]|\(?\d{1,3}(?:\.\d{1,3})*[.)]|\(?[a-z][.)]|\([a-z]{1,4}\)|[ivx]{1,5}[.)])\s", re.IGNORECASE)


def items(paragraph: str) -> list[str]:
    """A paragraph cut at its list items, each item's lines joined: list markers stay at line starts."""
    out: list[str] = []
    for line in paragraph.splitlines():
        if out and not _ITEM.match(line):
            out[-1] += " " + line.strip()
        else:
            out.append(line.strip())
    return [" ".join(item.split()) for item in out]


def reflowed(body: str) -> str:
    """Every paragraph rewrapped at 60 columns, list items kept on their own lines."""
    return "\n\n".join("\n".join(textwrap.fill(item, 60) for item in items(p)) for p in paragraphs(body)) + "\n"


def markdown(body: str) -> str:
    """The title a heading, short paragraphs headings, list items bullets, one word of each paragraph bold."""
    parts = paragraphs(body)
    title, *rest = parts[0].splitlines()
    out = [f"# {title}"] + ([" ".join(rest)] if rest else [])
    for part in parts[1:]:
        flat = " ".join(part.split())
        if len(flat.split()) <= 8:
            out.append(f"## {flat}")
            continue
        lines = []
        for item in items(part):
            if _ITEM.match(item):
                lines.append(item if item[0].isdigit() else f"- {item}")  # numbered items are markdown already
            else:
                first, _, others = item.partition(" ")
                lines.append(f"**{first}** {others}")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def straight_quotes(body: str) -> str:
    return body.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"}))


def curly_quotes(body: str) -> str:
    body = re.sub(r'"([^"\n]*)"', "“\\1”", body)
    return re.sub(r"(\w)'(\w)", "\\1’\\2", body)


def truncated(body: str, share: float = 0.7) -> str:
    lines = body.splitlines()
    return "\n".join(lines[: max(1, int(len(lines) * share))]) + "\n"


def retitled(body: str, title: str) -> str:
    """`body` with its first line (its title) replaced by `title`."""
    return title + "\n" + "\n".join(body.splitlines()[1:]) + "\n"


def variants() -> dict[str, str]:
    cases: dict[str, str] = {}
    for licence_id in COMMON:
        body = text(licence_id)
        cases[f"{licence_id}-reflowed"] = reflowed(body)
        cases[f"{licence_id}-markdown"] = markdown(body)
        cases[f"{licence_id}-crlf"] = body.replace("\r\n", "\n").replace("\n", "\r\n")
        cases[f"{licence_id}-quotes"] = straight_quotes(body) if "“" in body or "’" in body else curly_quotes(body)
        cases[f"{licence_id}-header-footer"] = HEADER + body + FOOTER
        cases[f"{licence_id}-truncated"] = truncated(body)
    cases["mit-then-apache-2.0"] = text("mit") + "\n\n" + text("apache-2.0")
    cases["llama3.1-then-mit"] = text("llama3.1") + "\n\n---\n\n" + text("mit")
    cases["apache-2.0-bilingual-chinese-first"] = CHINESE_NOTE + text("apache-2.0")
    cases["llama3.1-bilingual-english-first"] = text("llama3.1") + CHINESE_AFTER
    cases["cc-by-nc-4.0-bilingual-chinese-first"] = CHINESE_NOTE + text("cc-by-nc-4.0")
    # a research licence adapted from another lab's text: not that lab's licence
    cases["title-swapped-llama2"] = retitled(text("llama2"), "ORION LABS RESEARCH LICENSE AGREEMENT")
    cases["title-swapped-llama3.1"] = retitled(text("llama3.1"), "Aurora Community Model License Agreement")
    cases["title-swapped-apache-2.0"] = retitled(text("apache-2.0").lstrip(), "ORION MODEL LICENSE")
    cases["mit-title-on-apache-2.0"] = retitled(text("apache-2.0").lstrip(), "MIT License")
    # a heading over a text that still opens with its own title only introduces it
    cases["title-swapped-cc-by-nc-4.0"] = "# Zephyr Labs Non-Commercial Model License\n\n" + text("cc-by-nc-4.0")
    # a bilingual reference text (Chinese and English paragraphs in turn) identifies from either half
    chinese_line = re.compile(r"[\u3400-\u9fff]")
    openatom = text("openatom-model-1.0").splitlines()
    cases["openatom-model-1.0-english-half"] = "\n".join(line for line in openatom if not chinese_line.search(line)) + "\n"
    cases["openatom-model-1.0-chinese-half"] = "\n".join(line for line in openatom if chinese_line.search(line) or not line.strip()) + "\n"
    cases.update(unknown_variants())
    return cases


def unknown(case: str) -> str:
    return (UNKNOWN / f"unknown-{case}-licence" / "files" / "LICENSE").read_text(encoding="utf-8")


def unknown_variants() -> dict[str, str]:
    """Licences no profile has, changed as the known ones are: they must still be named and read."""
    bilingual = unknown("bilingual")
    english_at = bilingual.index("XINGHE MODEL LICENSE AGREEMENT")
    chinese, english = bilingual[:english_at], bilingual[english_at:]
    return {
        "unknown-bilingual-english-first": english + "\n" + chinese,
        "unknown-chinese-only": chinese,
        "unknown-research-markdown": markdown(unknown("research")),
        "unknown-community-reflowed-crlf": reflowed(unknown("community")).replace("\n", "\r\n"),
        "unknown-territory-header-footer": HEADER + unknown("territory") + FOOTER,
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, body in variants().items():
        (OUT / f"{name}.txt").write_bytes(body.encode("utf-8"))
    print(f"{len(variants())} variants written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
