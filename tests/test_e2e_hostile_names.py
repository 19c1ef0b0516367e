"""A repository of hostile file names and card fields, rendered in every format through the CLI.

Nothing the repository supplies may act: no HTML, images, links or forged list items in the
markdown (checked by rendering it to HTML), no escape sequences on a terminal, valid UTF-8
JSON, SARIF and CycloneDX even for file names that are not UTF-8.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from auditor.cli import audit_model

SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
HOSTILE_NAMES = [
    "<img src=x onerror=alert(1)>.bin",
    "<script>alert(1)<!--.pt",
    "![pwn](https:evil.example)[link](https:evil.example).safetensors",
    "a\n- **error** `forged`: all clear.bin",
    "\x1b[31mred\x1b]0;title\x07.json",
    "x | y | z.ckpt",
    "\u202eevil.txt",
    "1. ordered\r\n# heading.md",
    "&#27;[2J &lt;b&gt;.bin",
]
CARD = """---
license: other
license_name: "<b>bold</b> ![i](https:evil.example) \\e[31m"
datasets: ["<img src=x onerror=alert(2)>", "a|b"]
---
# model
"""
INVALID_UTF8 = b"bad-\xff\xfe.bin"
SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def hostile_repo(tmp_path) -> Path:
    repo = tmp_path / "hostile"
    repo.mkdir()
    (repo / "README.md").write_text(CARD, encoding="utf-8")
    (repo / "model.safetensors").write_bytes(b"\x00" * 16)
    for name in HOSTILE_NAMES:
        (repo / name).write_bytes(b"\x80\x02}q\x00.")  # a tiny pickle: {} - scanned, harmless
    for name in (INVALID_UTF8, b"bad-\xff.safetensors"):
        fd = os.open(os.fsencode(repo) + b"/" + name, os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b"x")
        os.close(fd)
    return repo


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(audit_model, [*args, "--no-check-links"])
    return result.exit_code, result.stderr


def strings(value) -> list[str]:
    """Every string in a JSON document, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in strings(key) + strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def test_markdown_shows_hostile_names_as_text(hostile_repo, tmp_path):
    out = tmp_path / "report.md"
    code, stderr = run(str(hostile_repo), "-o", str(out))
    assert code == 1, stderr  # its safetensors files are malformed: not safe to load, which fails a run with no policy
    markdown = out.read_bytes().decode("utf-8")  # strict: the file is valid UTF-8
    assert "\x1b" not in markdown and "\x07" not in markdown and "\u202e" not in markdown
    html = _html(markdown)
    assert "<img" not in html and "<script" not in html and "<b>" not in html and "<a " not in html
    assert "<strong>error</strong> <code>forged</code>" not in html
    items = [line for line in markdown.splitlines() if line.startswith("- **error**")]
    assert not any("forged" in line and line.index("forged") < 25 for line in items)
    # the names are still there, readably
    assert "&lt;img src=x onerror=alert(1)&gt;.bin" in markdown
    assert "\\x1b\\[31mred" in markdown and "bad-\\\\xff\\\\xfe.bin" in markdown
    files = markdown[markdown.index("<summary>Files"):]
    table_rows = [line for line in files.splitlines() if line.startswith("| ")]
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 6 for row in table_rows)  # no cell broken out of


@pytest.mark.parametrize("suffix", [".json", ".sarif", ".cdx.json"])
def test_machine_formats_are_valid_utf8_json_with_names_escaped(hostile_repo, tmp_path, suffix):
    out = tmp_path / f"report{suffix}"
    code, stderr = run(str(hostile_repo), "-o", str(out), "--sarif-info")
    assert code == 1, stderr  # malformed safetensors files: not safe to load
    text = out.read_bytes().decode("utf-8")  # an invalid UTF-8 file name must not break the file
    document = json.loads(text)
    assert any("bad-\\xff\\xfe.bin" in text for text in strings(document))
    if suffix == ".json":
        paths = {a["path"] for a in document["artefacts"]}
        assert "a\n- **error** `forged`: all clear.bin" in paths  # JSON keeps the name, JSON-escaped
        assert "bad-\\xff\\xfe.bin" in paths
    if suffix == ".sarif":
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)
        uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in document["runs"][0]["results"] for loc in r["locations"]}
        assert "bad-%FF.safetensors" in uris  # the name's own bytes, percent-encoded
        assert "%21%5Bpwn%5D%28https%3Aevil.example%29%5Blink%5D%28https%3Aevil.example%29.safetensors" in uris
    if suffix == ".cdx.json":
        assert document["bomFormat"] == "CycloneDX"


def test_terminal_rendering_carries_no_escape_sequence_from_the_repo(hostile_repo, tmp_path):
    main, secondary = pty.openpty()
    env = {**os.environ, "AUDITOR_GITHUB_API": "http://127.0.0.1:9", "HF_ENDPOINT": "http://127.0.0.1:9", "COLUMNS": "200"}
    process = subprocess.Popen([sys.executable, "-m", "auditor", str(hostile_repo), "--no-check-links"],
                               stdout=secondary, stderr=subprocess.PIPE, env=env)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(timeout=120) == 1, process.stderr.read()  # malformed safetensors: not safe to load
    process.stderr.close()
    screen = b"".join(chunks).decode("utf-8")
    assert "Audit of" in screen and "\x1b[" in screen  # drawn by rich, in colour
    assert "\x07" not in screen and "\x1b]" not in screen and "\u202e" not in screen
    assert not SGR.sub("", screen).count("\x1b"), "an escape sequence other than colour reached the terminal"
    assert "\x1b[31mred" not in screen and "\x1b[2J" not in screen
    assert "\x1b[1;31merror" in screen and "\x1b[1;33mwarning" in screen  # severities in colour


def test_hostile_names_from_the_hub_are_escaped_too(tmp_path, monkeypatch):
    """The same names listed by a Hub repo (a fake Hub of its own, serving only this repo)."""
    import yaml

    from fakehub import FakeHub

    root = tmp_path / "hub" / "hostile"
    (root / "files").mkdir(parents=True)
    (root / "files" / "README.md").write_text(CARD, encoding="utf-8")
    siblings = [{"path": "README.md", "size": len(CARD.encode())}] + [{"path": name, "size": 6} for name in HOSTILE_NAMES]
    (root / "repo.yaml").write_text(yaml.safe_dump({"id": "hostile-org/names", "sha": "a" * 40, "siblings": siblings}), encoding="utf-8")
    with FakeHub([tmp_path / "hub"]) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
        monkeypatch.delenv("HF_TOKEN", raising=False)
        outputs = {suffix: tmp_path / f"report{suffix}" for suffix in (".md", ".json", ".sarif", ".cdx.json")}
        for out in outputs.values():
            code, stderr = run("hostile-org/names", "-o", str(out), "--sarif-info")
            assert code == 0, stderr
    markdown = outputs[".md"].read_text(encoding="utf-8")
    html = _html(markdown)
    assert "\x1b" not in markdown and "<img" not in html and "<script" not in html and "<a " not in html
    assert "<strong>error</strong> <code>forged</code>" not in html
    for suffix in (".json", ".sarif", ".cdx.json"):
        json.loads(outputs[suffix].read_bytes().decode("utf-8"))
    paths = {a["path"] for a in json.loads(outputs[".json"].read_text(encoding="utf-8"))["artefacts"]}
    assert set(HOSTILE_NAMES) <= paths
