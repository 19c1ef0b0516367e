"""The wheel carries the licence knowledge base and every data file, and works without the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (built,) = out.glob("audit_model-*.whl")  # the distribution is named after the command
    return built


def test_wheel_carries_the_knowledge_base_and_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    profiles = {n for n in names if n.startswith("auditor/_licences/") and n.endswith(".yaml")}
    texts = {n for n in names if n.startswith("auditor/_licences/texts/")}
    shipped_profiles = {p for p in (ROOT / "licences").glob("*.yaml")}
    assert len(profiles) == len(shipped_profiles) and len(texts) > 50
    for data in ("auditor/findings.yaml", "auditor/classify/artefact_rules.yaml", "auditor/judge/terms.yaml", "auditor/judge/lineage.yaml"):
        assert data in names


def test_installed_wheel_audits_without_the_source_tree(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    example = ROOT / "examples" / "repos" / "llama-3.1-finetune"
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run(
        [sys.executable, "-c", "import auditor, sys; assert auditor.__file__.startswith(sys.argv[1]); "
         "from auditor.cli import main; sys.argv = ['audit-model', sys.argv[2], '--format', 'json']; main()",
         str(site), str(example)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"openness": "restricted-weights"' in proc.stdout
