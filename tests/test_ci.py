"""The CI script runs the lint and type gates before the README's test command."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_gates_then_the_readme_test_command() -> None:
    steps = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert steps == ["pip install -e '.[test]'", "ruff check .", "mypy", "python -m pytest"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -e '.[test]' && python -m pytest" in readme


def test_the_test_extra_brings_the_gates() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = {re.split(r"[<>=\[ ]", spec, maxsplit=1)[0] for spec in pyproject["project"]["optional-dependencies"]["test"]}
    assert {"ruff", "mypy"} <= names
