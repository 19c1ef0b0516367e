#!/usr/bin/env python3
"""Maintainer script: write the reference texts of licence profiles from ScanCode's LicenseDB.

Every profile in licences/ whose `text_source` names the scancode-toolkit-mini wheel gets its
`text` file written from that wheel's `licensedcode/data/licenses/<scancode_key>.LICENSE`,
with ScanCode's YAML front matter stripped. The wheel version is pinned so provenance holds;
ScanCode's licence data is published under CC-BY-4.0.

Usage:
    pip download --no-deps scancode-toolkit-mini==32.5.0 -d /tmp/sc
    python scripts/import_licence_texts.py /tmp/sc/scancode_toolkit_mini-32.5.0-cp311-none-any.whl [ID ...]
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import yaml

LICENCES = Path(__file__).resolve().parent.parent / "licences"
SOURCE_PREFIX = "scancode-toolkit-mini 32.5.0"
MEMBER = "licensedcode/data/licenses/{key}.LICENSE"


def strip_front_matter(text: str) -> str:
    """ScanCode .LICENSE files open with `---` YAML `---`; the licence text follows."""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            text = text[end + 4 :]
    return text.strip("\n") + "\n"


def import_texts(wheel: Path, only: set[str]) -> int:
    written = 0
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for profile_path in sorted(LICENCES.glob("*.yaml")):
            if profile_path.name.startswith("_"):
                continue
            profile = yaml.safe_load(profile_path.read_text(encoding="utf-8"))
            if only and profile["id"] not in only:
                continue
            source = str(profile.get("text_source", ""))
            if not source.startswith(SOURCE_PREFIX) or not profile.get("text"):
                continue
            member = MEMBER.format(key=profile["scancode_key"])
            if member not in names:
                print(f"{profile['id']}: {member} is not in the wheel", file=sys.stderr)
                continue
            text = strip_front_matter(archive.read(member).decode("utf-8"))
            target = LICENCES / profile["text"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written += 1
    return written


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    count = import_texts(Path(sys.argv[1]), set(sys.argv[2:]))
    print(f"wrote {count} reference texts")
