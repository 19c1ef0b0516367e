"""Normalise licence text the way the SPDX License List Matching Guidelines compare it.

Two forms come out of one pass over the lines of a text:
- `tokens`: lower-case words with punctuation, quotes, dashes, bullets and list numbering,
  markdown and HTML markup, copyright lines and spelling variants (equivalents.yaml) gone, and
  nothing of lines written in Chinese (the English half of a bilingual text is what matches);
  each token remembers its 1-based source line, so a match can report the lines it covers.
- `marker_lines`: per line, the text profile markers (regexes) are written against: lower
  case, whitespace collapsed, quotes straight, dashes as "-", markdown and HTML removed,
  "licence" spelled "license", "http:" as "https:"; punctuation otherwise kept.
Both sides of every comparison (reference texts and scanned files) go through here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from auditor.yamlfile import load_yaml

MAX_CHARS = 1_000_000  # licence files and NOTICEs are far smaller; beyond this is not a licence file

_HTML_TAG = re.compile(r"<[^<>\n]{0,400}>")
_HTML_ENTITY = re.compile(r"&(?:nbsp|amp|quot|lt|gt|#\d{1,5});")
_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]*)[^)\n]*\)")
_MD_LINE_START = re.compile(r"^[ \t]{0,3}(?:#{1,6}|>+)[ \t]*", re.MULTILINE)  # headings, block quotes
_UNDERSCORES = re.compile(r"_+")
_NOISE = re.compile(r"[^\w\s.,;:'\"()\[\]{}<>/\\*#|=+!?&%$@~^`’“”‘–—•§©-]")  # what no prose is made of
_RULE = re.compile(r"^[ \t]*([-=*_~#+])\1{2,}[ \t]*$", re.MULTILINE)
# A list item's marker at the start of a line: "-", "*", "•", "1.", "2)", "1.1", "(a)", "a.", "iv)"
_BULLET = re.compile(
    r"^[ \t]*(?:[-*•·▪◦+]|\(?\d{1,3}(?:\.\d{1,3})*[.)]|\(?[a-z][.)]|\([a-z]{1,4}\)|[ivx]{1,5}[.)])[ \t]+",
    re.IGNORECASE | re.MULTILINE,
)
# A copyright notice line (not running text that happens to start with the word "copyright").
_COPYRIGHT_LINE = re.compile(
    r"^[ \t]*(?:copyright[ \t]*(?:\(c\)|©|\d{4}|\[|<|\{)|\(c\)\s*\d|©|all rights reserved)[^\n]*",
    re.IGNORECASE | re.MULTILINE,
)
_QUOTES = {"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'", "`": " ",
           "*": " ", "|": " ",
           "–": "-", "—": "-", "‐": "-", "‑": "-", "‒": "-", "−": "-", "\u00a0": " ", "\t": " ",
           "\x0b": " ", "\x0c": " ", "\x1c": " ", "\x1d": " ", "\x1e": " ",
           "\x85": " ", "\u2028": " ", "\u2029": " "}
_WORD = re.compile(r"[a-z0-9]+")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")  # Han characters, with the compatibility block
_LATIN = re.compile(r"[a-z]")
_LICENCE = re.compile(r"licenc(e|es|ed|ing|or|ee)\b")  # no leading \b: a literal prefix is searched fast


class Normalised:
    """The token form of a text, and its marker form line by line (computed when first asked for)."""

    __slots__ = ("tokens", "token_lines", "_clean", "_marker_lines", "_source_lines")

    def __init__(self, tokens: tuple[str, ...], token_lines: tuple[int, ...], clean: str):
        self.tokens = tokens
        self.token_lines = token_lines  # 1-based source line of each token
        self._clean = clean
        self._marker_lines: tuple[str, ...] | None = None
        self._source_lines: list[str] | None = None

    @property
    def marker_lines(self) -> tuple[str, ...]:
        """The marker form of each source line (index 0 = line 1)."""
        if self._marker_lines is None:
            self._marker_lines = tuple(" ".join(line.split()) for line in marker_form(self._clean).split("\n"))
        return self._marker_lines

    def source_line(self, number: int) -> str:
        """Line `number` (1-based) cleaned of markup but in its own case: for quoting titles and clauses."""
        if self._source_lines is None:
            self._source_lines = self._clean.split("\n")
        lines = self._source_lines
        return lines[number - 1] if 1 <= number <= len(lines) else ""

    def marker_text(self, first_line: int = 1, last_line: int | None = None) -> str:
        """The marker form of lines first_line..last_line (1-based, inclusive), one space apart."""
        last = len(self.marker_lines) if last_line is None else last_line
        return " ".join(line for line in self.marker_lines[first_line - 1:last] if line)


@lru_cache(maxsize=1)
def equivalents() -> dict[str, tuple[str, ...]]:
    """Word equivalences the matcher folds together (equivalents.yaml): word -> its replacement words."""
    raw = load_yaml(resources.files("auditor.identify").joinpath("equivalents.yaml").read_text(encoding="utf-8"))
    return {str(k).lower(): tuple(str(v).lower().split()) for k, v in raw["words"].items()}


def clean_markup(text: str) -> str:
    """`text` without markdown and HTML markup, quotes and dashes made plain; lines kept as they are."""
    # str.translate looks every character up in a dict; a replace per character present is C-fast
    for char, plain in _QUOTES.items():
        if char in text:
            text = text.replace(char, plain)
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    if "&" in text:
        text = _HTML_ENTITY.sub(" ", text)
    if "](" in text:
        text = _MD_IMAGE.sub(r"\1", text)
        text = _MD_LINK.sub(r"\1 \2", text)
    text = _RULE.sub("", text)
    text = _MD_LINE_START.sub("", text)
    if "_" in text:  # emphasis underscores, not those inside names such as use_policy
        text = _UNDERSCORES.sub(_underscore, text)
    return text


def _underscore(match: re.Match) -> str:
    text, start, end = match.string, match.start(), match.end()
    inside = 0 < start and end < len(text) and text[start - 1].isalnum() and text[end].isalnum()
    return match.group(0) if inside else " "


def marker_form(text: str) -> str:
    """The form markers are matched in, for text already through clean_markup (spaces not yet collapsed)."""
    text = text.lower()
    if "licenc" in text:
        text = _LICENCE.sub(r"licens\1", text)
    return text.replace("http:", "https:")


def normalise(text: str) -> Normalised:
    """Both normal forms of `text` (capped at MAX_CHARS characters)."""
    clean = text = clean_markup(text[:MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n"))
    # copyright notices are not licence text (SPDX guideline); list markers are not either
    text = _BULLET.sub("", _COPYRIGHT_LINE.sub("", text)).lower()
    table = equivalents()
    tokens: list[str] = []
    token_lines: list[int] = []
    bilingual = CJK.search(text) is not None
    for number, line in enumerate(text.split("\n"), start=1):
        words = _WORD.findall(line)
        if not words:
            continue
        if bilingual and _chinese(line):
            continue  # the Chinese half of a bilingual text: its stray numbers and names are not the English half's words
        if table.keys().isdisjoint(words):  # most lines: no spelling variant, no per-word work
            tokens.extend(words)
            token_lines.extend([number] * len(words))
            continue
        for word in words:
            mapped = table.get(word)
            if mapped is None:
                tokens.append(word)
                token_lines.append(number)
            else:
                tokens.extend(mapped)
                token_lines.extend([number] * len(mapped))
    return Normalised(tuple(tokens), tuple(token_lines), clean)


def _chinese(line: str) -> bool:
    """A line written in Chinese (more Chinese characters than Latin letters), numbers and names aside."""
    chinese = len(CJK.findall(line))
    return chinese > 0 and chinese > len(_LATIN.findall(line))


def looks_like_text(text: str) -> bool:
    """False for binary data (NUL bytes), undecodable bytes or noise: nothing to identify there."""
    if not text or "\x00" in text[:MAX_CHARS]:
        return False
    sample = text[:65536]
    if sample.count("\ufffd") > len(sample) // 100:
        return False
    return len(_NOISE.findall(sample)) <= 0.25 * len(sample)
