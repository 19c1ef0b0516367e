"""The Hugging Face cache on this machine: where an offline run reads a Hub id from, and how its
root is told apart from a model folder.

The cache root is $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
~/.cache/huggingface/hub (as huggingface_hub resolves it, read when asked, not at import). A
model is cached as `models--org--name`, with `refs/<branch>` naming the commit whose files are
in `snapshots/<commit>`; auditor.sources.local reads such a folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from auditor.errors import SourceUnavailable, UsageError
from auditor.model import Target, TargetKind


def cache_root() -> Path:
    """Where huggingface_hub keeps downloaded repos."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "huggingface" / "hub"


def _has_snapshot(models: Path, revision: str | None) -> bool:
    """Whether the snapshot `revision` (a ref, a commit or its prefix; default main) is cached."""
    snapshots = models / "snapshots"
    if not snapshots.is_dir():
        return False
    wanted = revision or "main"
    ref = models / "refs" / wanted
    if ref.is_file():
        try:
            sha = ref.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return False
        return bool(sha) and (snapshots / sha).is_dir()
    return len(wanted) >= 7 and any(p.is_dir() and p.name.startswith(wanted) for p in snapshots.iterdir())


def cached_target(target: Target) -> Target:
    """The cached copy of a Hub target, for a run offline (HF_HUB_OFFLINE=1); exit 5 when it is not cached."""
    if target.kind is not TargetKind.HUB or not target.repo_id or target.path:
        return target
    root = cache_root()
    models = root / ("models--" + target.repo_id.replace("/", "--"))
    if not _has_snapshot(models, target.revision):
        revision = f" at {target.revision}" if target.revision else ""
        raise SourceUnavailable(f"offline (HF_HUB_OFFLINE=1) and not in the cache{revision} ({root}): "
                                "download it first, or run online")
    return Target(TargetKind.LOCAL, path=str(models), revision=target.revision)


def refuse_cache_root(target: Target) -> None:
    """A usage error naming what to give instead, when a local target is the cache root itself
    (a folder of `models--*` folders): auditing it as one model would mix every model's files."""
    if target.kind is not TargetKind.LOCAL or not target.path:
        return
    root = Path(target.path)
    if any(part.startswith("models--") for part in root.parts):
        return  # a model's folder or in one, never a cache root; not listed before its boundary is checked
    try:
        entries = list(root.iterdir()) if root.is_dir() else []
    except OSError:
        return
    models = [e for e in entries if e.name.startswith("models--") and (e / "snapshots").is_dir()]
    own_files = [e for e in entries if e.is_file() and not e.name.startswith(".") and e.name != "version.txt"]
    if models and not own_files:
        example = models[0].name[len("models--"):].replace("--", "/", 1)
        raise UsageError(
            f"a Hugging Face cache folder holding {len(models)} model(s), not a model: give one "
            f"model's repo id (HF_HUB_OFFLINE=1 {example} reads it from this cache) or its folder "
            f"({models[0]}), or list several: their repo ids in a file for --targets-from, or their folders in one for --paths-from"
        )
