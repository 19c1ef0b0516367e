"""A census stopped by SIGTERM writes the report of every target finished by then, in every
format, and exits 143.

The census audits a local folder first, then a Hub repo whose every request answers 503 (the
fake Hub's fetch-lab/down) with many patient retries, one target at a time: the fake Hub seeing
that repo asked for means the folder's audit has finished, and the census is then killed.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fakehub.checkout import materialise

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
DOWN = "fetch-lab/down"


def _asked_for(fake_hub, repo: str) -> bool:
    return any(repo in record.path for record in list(fake_hub.stats.log))


@pytest.mark.parametrize("suffix", [".md", ".csv", ".json", ".jsonl"])
def test_sigterm_leaves_a_valid_report_of_the_finished_targets(suffix, fake_hub, tmp_path):
    folder = materialise(FIXTURES / "open-science", tmp_path / "open-science")
    out = tmp_path / f"census{suffix}"
    env = {**os.environ, "HF_ENDPOINT": fake_hub.endpoint, "AUDITOR_HTTP_RETRIES": "1000", "AUDITOR_HTTP_RETRY_WAIT": "0.2"}
    process = subprocess.Popen([sys.executable, "-m", "auditor", str(folder), DOWN, "--jobs", "1", "--no-check-links",
                                "--no-cache", "-o", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(1200):  # the folder is audited first; the down repo is asked for only after it
            if _asked_for(fake_hub, DOWN) or process.poll() is not None:
                break
            time.sleep(0.1)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, stderr
    assert "interrupted: reporting the 1 target(s) finished" in stderr
    text = out.read_text(encoding="utf-8")
    if suffix == ".md":
        assert text.startswith("# Census of 1 repositor") and "open-science" in text, text[:300]
        assert DOWN not in text
    elif suffix == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        assert [row["status"] for row in rows] == ["audited"] and rows[0]["verdict"]
    elif suffix == ".json":
        document = json.loads(text)
        assert len(document["results"]) == 1 and document["failures"] == []
        assert document["results"][0]["target"]["path"] == str(folder)
    else:
        [record] = [json.loads(line) for line in text.splitlines()]
        assert record["status"] == "audited"
