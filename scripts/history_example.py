#!/usr/bin/env python3
"""Maintainer script: write examples/history/aurora-1b.bundle, the git history the README's `--history` example reads.

The history is the test fixture tests/fixtures/histories/relicensed (an Apache-2.0 model
relicensed under CC BY-NC 4.0), written as a git repository by the fake Hub's own writer and
shipped as a `git bundle` (one file; a nested repository cannot be committed). Clone it to
audit it: `git clone examples/history/aurora-1b.bundle aurora-1b`. tests/test_examples.py
checks the bundle holds the fixture's commits and that the README shows what the auditor
says of it; run this script after changing the fixture.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "examples" / "history" / "aurora-1b.bundle"


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from fakehub.history import HistoryRepo, write_git

    repo = HistoryRepo.load_history(ROOT / "tests" / "fixtures" / "histories" / "relicensed")
    with tempfile.TemporaryDirectory() as folder:
        checkout = write_git(repo, Path(folder) / "aurora-1b")
        BUNDLE.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(checkout), "bundle", "create", "-q", str(BUNDLE), "HEAD", "main"], check=True)
    print(f"wrote {BUNDLE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
