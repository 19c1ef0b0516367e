"""Hostile local folders, audited through the CLI in a subprocess with a deadline and a memory cap:
parser bombs (YAML aliases, JSON and YAML nested 100,000 deep), files that are not regular
(FIFOs where a small file is read), symlinks out of the target or out of an HF cache's
`models--*` folder, oversized small files. Each ends with the stated exit code, no traceback,
the over-budget or refused file named in the report, and no content from outside the target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile.limits import assert_clean, run_cli

MIT = (Path(__file__).parents[1] / "licences" / "texts" / "mit.txt").read_text(encoding="utf-8")
SECRET = "SECRET-OUTSIDE-THE-TARGET-7f3a"


def alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def repo(tmp_path: Path, card: str = "---\nlicense: mit\n---\n# a model\n", **files: str | bytes) -> Path:
    root = tmp_path / "target"
    root.mkdir()
    (root / "LICENSE").write_text(MIT, encoding="utf-8")
    (root / "README.md").write_text(card, encoding="utf-8")
    for name, content in files.items():
        path = root / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def audit_json(target: Path, *args: str, code: int = 0) -> dict:
    outcome = run_cli(str(target), "--no-check-links", "--format", "json", *args)
    assert_clean(outcome, code, SECRET)
    return json.loads(outcome.stdout)


def findings(report: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in report.get("findings", []):
        found.setdefault(item["code"], []).append(item["message"])
    return found


def test_a_yaml_alias_bomb_in_the_card_is_refused_unexpanded(tmp_path):
    report = audit_json(repo(tmp_path, "---\nlicense: mit\n" + alias_bomb() + "---\n# model\n"))
    assert any("aliases" in m for m in findings(report)["card-metadata-invalid"])


def test_front_matter_nested_100k_deep(tmp_path):
    report = audit_json(repo(tmp_path, "---\nlicense: mit\nx: " + "[" * 100_000 + "]" * 100_000 + "\n---\n# model\n"))
    assert any("nested" in m for m in findings(report)["card-metadata-invalid"])


@pytest.mark.parametrize("name", ["config.json", "adapter_config.json"])
def test_json_nested_100k_deep_is_unread_with_the_reason(tmp_path, name):
    report = audit_json(repo(tmp_path, **{name: '{"a":' * 100_000 + "1" + "}" * 100_000}))
    assert any(m.startswith(f"{name}: JSON nested more than") for m in findings(report)["file-unread"])


def test_a_mergekit_alias_bomb_names_no_parent(tmp_path):
    report = audit_json(repo(tmp_path, **{"mergekit_config.yml": "base_model: org/base\n" + alias_bomb()}))
    assert "org/base" not in json.dumps(report.get("lineage", {}))
