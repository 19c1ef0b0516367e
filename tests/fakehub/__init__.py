"""A fake Hugging Face Hub for tests: fixture repos served over real HTTP on 127.0.0.1.

`FakeHub(roots)` serves every `<root>/<case>/repo.yaml`; `materialise(case, dest)` writes the
same fixture as a local checkout. Run `python -m fakehub [ROOT ...]` from tests/ to serve
fixture roots by hand (e.g. the development corpus) and point HF_ENDPOINT at it.
"""

from fakehub.blobs import pattern_bytes
from fakehub.checkout import materialise
from fakehub.repos import FixtureRepo, is_lfs, load_roots, pointer_text
from fakehub.server import FakeHub, ScopedHub, Stats

__all__ = ["FakeHub", "FixtureRepo", "ScopedHub", "Stats", "is_lfs", "load_roots", "materialise", "pattern_bytes", "pointer_text"]
