"""Materialise a fixture repo as a local directory, the way `GIT_LFS_SKIP_SMUDGE=1 git clone`
leaves a model repo: small files as they are, a Git LFS pointer file for every LFS file.

The pointer's oid and size are the ones the fake Hub lists for that file, so a local audit
of the checkout and a Hub audit of the same fixture see the same files. Non-LFS files with
no stored content are written with the content the fake Hub serves (zeros unless a blob
spec says otherwise). `.git/HEAD` holds the fixture's commit, as in a detached checkout.
"""

from __future__ import annotations

from pathlib import Path

from fakehub.repos import FixtureRepo

_CHUNK = 1 << 20


def materialise(repo: FixtureRepo | Path | str, dest: Path | str, *, lfs_content: bool = False) -> Path:
    """Write the checkout under `dest` and return it.

    With `lfs_content`, LFS files whose real content is stored in the fixture are written
    whole (as after `git lfs pull`); generated large content always stays a pointer.
    """
    if not isinstance(repo, FixtureRepo):
        repo = FixtureRepo.load(Path(repo))
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for sibling in repo.siblings.values():
        target = dest / sibling.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if sibling.lfs and not (lfs_content and sibling.stored):
            target.write_text(sibling.pointer, encoding="ascii")
            continue
        with open(target, "wb") as handle:
            for start in range(0, sibling.size, _CHUNK):
                handle.write(sibling.blob.read(start, _CHUNK))
    (dest / ".git").mkdir(exist_ok=True)
    (dest / ".git" / "HEAD").write_text(repo.sha + "\n", encoding="ascii")
    return dest
