"""Repo folders holding one artefact sample: on disk for local audits, registered on the fake Hub for Hub audits."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from fakehub.repos import FixtureRepo

CARD = "---\nlicense: apache-2.0\n---\n# Sample\n\nOne model file.\n"


def repo_folder(root: Path, file_name: str, data: bytes) -> Path:
    """A model repo folder: a card and the sample under its file name (which may hold a folder)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "README.md").write_text(CARD, encoding="utf-8")
    target = root / file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return root


def hub_repo(hub, root: Path, repo_id: str, file_name: str, data: bytes) -> str:
    """Serve a repo holding the sample from the fake Hub; returns its id."""
    files = repo_folder(root / "files", file_name, data)
    siblings = [{"path": p.relative_to(files).as_posix(), "size": p.stat().st_size} for p in sorted(files.rglob("*")) if p.is_file()]
    sha = hashlib.sha1(repo_id.encode()).hexdigest()
    (root / "repo.yaml").write_text(yaml.safe_dump({"id": repo_id, "sha": sha, "gated": False, "private": False, "siblings": siblings}), encoding="utf-8")
    hub.repos[repo_id] = FixtureRepo.load(root)
    return repo_id
