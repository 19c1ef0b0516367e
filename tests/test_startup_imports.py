"""A local audit stays light: the Hub client, the HTTP stack and the cluster engine are imported
only by the targets and options that need them, so auditing a folder starts as fast as the
pipeline itself allows (bench/startup.py measures it against askalono and ScanCode)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# What a local audit never needs; each costs tens of milliseconds at start-up.
HEAVY = ("huggingface_hub", "httpx2", "httpx", "requests", "distributed", "dask", "jinja2", "h5py", "py7zr",
         "auditor.sources.hub", "auditor.sources.http", "auditor.batch")

_PROBE = """
import contextlib, io, json, runpy, sys
sys.argv = ["audit-model", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        runpy.run_module("auditor", run_name="__main__")
    except SystemExit as stop:
        code = stop.code
heavy = {heavy!r}
print(json.dumps({{"code": code, "loaded": sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy))}}))
"""


@pytest.mark.parametrize("output_format", ["json", "markdown", "sarif", "cyclonedx"])
def test_auditing_a_local_folder_imports_no_hub_client_and_no_cluster_engine(tmp_path, output_format):
    folder = tmp_path / "release"
    folder.mkdir()
    licence = Path(__file__).resolve().parent.parent / "licences" / "texts" / "apache-2.0.txt"
    (folder / "LICENSE").write_bytes(licence.read_bytes())
    probe = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=HEAVY), str(folder), "--format", output_format,
                            "--no-check-links"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    assert result["code"] in (0, None), probe.stderr  # the audit ran to its end
    assert result["loaded"] == []
