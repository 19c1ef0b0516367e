"""The licence knowledge base: every profile of licences/*.yaml, validated, indexed by name.

A profile (licences/_schema.yaml) says what a licence is called, which SPDX / ScanCode ids it
has, which family and version it belongs to, the markers that settle its version, and the
facts people care about. `load_knowledge_base()` reads the profiles once per process (the
result is cached): from the `auditor/_licences` folder a wheel carries, else from the
repository's top-level `licences/`. Reference texts are read lazily, only when the matcher
indexes them. `KnowledgeBase.lookup` forgives case, spaces, punctuation and the words
"licence", "version" and "agreement", so "Apache 2.0", "apache-2.0" and "Apache License,
Version 2.0" all find the same profile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml

from auditor.errors import KnowledgeBaseError
from auditor.identify import diskcache
from auditor.identify.names import name_key  # noqa: F401 - also imported from here
from auditor.model import LicenceFact, LicenceKind
from auditor.yamlfile import load_yaml

_T = TypeVar("_T")


class LicenceCategory(str, Enum):
    """What kind of terms a licence grants, as the knowledge base files it (licences/*.yaml `category`)."""

    PERMISSIVE = "permissive"
    COPYLEFT = "copyleft"
    WEAK_COPYLEFT = "weak-copyleft"
    PUBLIC_DOMAIN = "public-domain"
    OPEN_DATA = "open-data"
    RESPONSIBLE_AI = "responsible-ai"
    CUSTOM_COMMUNITY = "custom-community"
    NON_COMMERCIAL = "non-commercial"
    PROPRIETARY = "proprietary"
    POLICY = "policy"


@dataclass(frozen=True)
class LicenceProfile:
    """One licence, policy or reference as the knowledge base knows it: names, texts, markers and facts."""

    id: str
    name: str
    aliases: tuple[str, ...]
    spdx: str
    scancode_key: str | None
    kind: LicenceKind
    family: str | None
    version: str | None
    category: LicenceCategory
    osi_approved: bool
    urls: tuple[str, ...]
    text_path: Path | None
    text_source: str | None
    policy: str | None
    markers: tuple[str, ...]
    facts: Mapping[str, LicenceFact]  # by name; a hand-written fact has no confidence
    models: tuple[str, ...] = ()  # Hub repo ids (regexes) of the models released under it
    prohibited_uses: tuple[str, ...] = ()  # what it (as a use policy) prohibits, in a few words each
    unidentified: bool = False  # read from a licence text the knowledge base does not know (unknown.py)

    @cached_property
    def compiled_markers(self) -> tuple[re.Pattern[str], ...]:
        """The markers as case-blind patterns, compiled on first use: a short audit needs few of them."""
        return tuple(re.compile(marker, re.IGNORECASE) for marker in self.markers)

    def reference_text(self) -> str | None:
        """The licence's reference text, read on first use; None when the profile has none."""
        return _read_text(self.text_path) if self.text_path else None


@cache
def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


class KnowledgeBase:
    """All profiles, by id and by every name people use for them."""

    def __init__(self, profiles: list[LicenceProfile], root: Path | None = None, fingerprint: str | None = None):
        self.root = root
        self.fingerprint = fingerprint  # of the files it was read from: keys the disk cache (diskcache.py)
        self._by_id = {p.id: p for p in profiles}
        self._by_key: dict[str, LicenceProfile] = {}
        # Insertion order sets precedence when two profiles share a name: ids first.
        for getter in (lambda p: [p.id], lambda p: [p.spdx], lambda p: [p.scancode_key], lambda p: [p.name], lambda p: p.aliases):
            for profile in profiles:
                for name in getter(profile):
                    if name:
                        self._by_key.setdefault(name_key(name), profile)
        self._base = self  # whose derived structures (the matcher's index, the lookup tables) this one uses
        self._derived: dict[str, object] = {}

    def extended(self, profiles: list[LicenceProfile]) -> KnowledgeBase:
        """This knowledge base and `profiles` (licences read from unknown texts), sharing its derived structures."""
        wider = KnowledgeBase([*self._by_id.values(), *profiles], self.root, self.fingerprint)
        wider._base = self._base
        return wider

    @property
    def is_extended(self) -> bool:
        """Whether this knowledge base holds licences read from unknown texts beyond its files' (see `extended`)."""
        return self._base is not self

    def derived(self, name: str, build: Callable[[KnowledgeBase], _T]) -> _T:
        """The structure `name` derived from the profiles (the matcher's index, the marker and URL tables), built by
        `build` on first use; a knowledge base extended from this one shares it. The modules that own each structure
        pass their builder, so the knowledge base imports none of them."""
        base = self._base
        if name not in base._derived:
            base._derived[name] = build(base)
        return cast("_T", base._derived[name])

    @cached_property
    def by_scancode_key(self) -> dict[str, LicenceProfile]:
        """Profiles by their ScanCode licence key."""
        if self._base is not self:
            return self._base.by_scancode_key
        return {p.scancode_key: p for p in self if p.scancode_key}

    @cached_property
    def model_patterns(self) -> tuple[tuple[re.Pattern[str], LicenceProfile], ...]:
        """(pattern, profile) for every model a profile says it is the licence of (`models`)."""
        if self._base is not self:
            return self._base.model_patterns
        return tuple((re.compile(pattern, re.IGNORECASE), p) for p in self for pattern in p.models)

    def licences_of_model(self, repo_id: str) -> list[LicenceProfile]:
        """The profiles whose `models` patterns match the whole repo id (several when patterns overlap)."""
        found: dict[str, LicenceProfile] = {}
        for pattern, profile in self.model_patterns:
            if pattern.fullmatch(repo_id):
                found.setdefault(profile.id, profile)
        return list(found.values())

    def get(self, licence_id: str) -> LicenceProfile | None:
        """The profile of `licence_id`, or None when the knowledge base does not know it."""
        return self._by_id.get(licence_id)

    def known(self, licence_id: str) -> LicenceProfile:
        """The profile of an id the caller already found in the knowledge base; KeyError otherwise."""
        return self._by_id[licence_id]

    def lookup(self, name: str) -> LicenceProfile | None:
        """The profile `name` names: an id, SPDX id, ScanCode key, name or alias, compared by name key."""
        if not name or not isinstance(name, str):
            return None
        exact = self._by_id.get(name.strip().lower())
        if exact is not None:
            return exact
        key = name_key(name)
        return self._by_key.get(key) if key else None

    def names(self) -> Iterator[tuple[str, LicenceProfile]]:
        """Every (name key, profile) pair: for finding names inside running text."""
        return iter(self._by_key.items())

    def __iter__(self) -> Iterator[LicenceProfile]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


_REQUIRED = ("id", "name", "spdx", "kind", "category", "osi_approved", "facts")


def _as_tuple(value: Any, where: str, field_name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise KnowledgeBaseError(f"{where}: `{field_name}` must be a list")
    return tuple(str(v) for v in value)


def _parse_facts(raw: Any, where: str, check_patterns: bool = True) -> Mapping[str, LicenceFact]:
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(f"{where}: `facts` must be a mapping")
    facts = {}
    for name, entry in raw.items():
        if isinstance(entry, dict):
            applies_to = entry.get("applies_to")
            if applies_to is not None and check_patterns:
                try:
                    re.compile(str(applies_to))
                except re.error as error:
                    raise KnowledgeBaseError(f"{where}: facts.{name}.applies_to does not compile: {error}") from None
            facts[str(name)] = LicenceFact(str(name), _fact_value(entry.get("value"), where, name), entry.get("clause"),
                                           applies_to=None if applies_to is None else str(applies_to))
        else:
            facts[str(name)] = LicenceFact(str(name), _fact_value(entry, where, name))
    return facts


def _fact_value(value: Any, where: str, name: Any) -> str:
    # YAML 1.1 reads a bare yes/no as a boolean: one spelling, the quoted word, keeps the two from meaning different things.
    if isinstance(value, bool):
        raise KnowledgeBaseError(f'{where}: fact `{name}` is a YAML boolean; write "yes" or "no" in quotes')
    return "" if value is None else str(value)


def parse_profile(raw: Any, root: Path, where: str, check_patterns: bool = True) -> LicenceProfile:
    """One profile from its YAML mapping; KnowledgeBaseError names what is wrong.

    `check_patterns=False` skips compiling its patterns to check them, for a mapping read back
    from the disk cache (written only once every profile of the same files had passed)."""
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(f"{where}: a profile must be a mapping")
    missing = [name for name in _REQUIRED if name not in raw]
    if missing:
        raise KnowledgeBaseError(f"{where}: missing {', '.join(missing)}")
    try:
        kind = LicenceKind(raw["kind"])
        category = LicenceCategory(raw["category"])
    except ValueError as error:
        raise KnowledgeBaseError(f"{where}: {error}") from None
    if kind is LicenceKind.REFERENCE:
        raise KnowledgeBaseError(f"{where}: kind must be licence or policy")
    markers = _as_tuple(raw.get("markers"), where, "markers")
    models = _as_tuple(raw.get("models"), where, "models")
    try:
        for pattern in markers if check_patterns else ():
            re.compile(pattern, re.IGNORECASE)
        for pattern in models if check_patterns else ():
            re.compile(pattern)
    except re.error as error:
        raise KnowledgeBaseError(f"{where}: a marker or model pattern does not compile: {error}") from None
    text_path = None
    if raw.get("text"):
        text_path = root / str(raw["text"])
        if not text_path.is_file():
            raise KnowledgeBaseError(f"{where}: text {raw['text']} does not exist")
    return LicenceProfile(
        id=str(raw["id"]),
        name=str(raw["name"]),
        aliases=_as_tuple(raw.get("aliases"), where, "aliases"),
        spdx=str(raw["spdx"]),
        scancode_key=raw.get("scancode_key"),
        kind=kind,
        family=raw.get("family"),
        version=None if raw.get("version") is None else str(raw["version"]),
        category=category,
        osi_approved=bool(raw["osi_approved"]),
        urls=_as_tuple(raw.get("urls"), where, "urls"),
        text_path=text_path,
        text_source=raw.get("text_source"),
        policy=raw.get("policy"),
        markers=markers,
        facts=_parse_facts(raw["facts"], where, check_patterns),
        models=models,
        prohibited_uses=_as_tuple(raw.get("prohibited_uses"), where, "prohibited_uses"),
    )


def default_root() -> Path:
    """licences/ as shipped in a wheel (auditor/_licences), else the repository's own."""
    try:
        from importlib import resources

        packaged = Path(str(resources.files("auditor") / "_licences"))
        if packaged.is_dir():
            return packaged
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent.parent / "licences"


def _read_yaml(root: Path) -> list[tuple[str, Any]]:
    """(file name, parsed mapping) of every profile file under `root`."""
    raws = []
    for path in sorted(root.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        try:
            raws.append((path.name, load_yaml(path.read_text(encoding="utf-8"))))
        except yaml.YAMLError as error:
            raise KnowledgeBaseError(f"{path.name}: not valid YAML: {error}") from None
    return raws


def read_knowledge_base(root: Path) -> KnowledgeBase:
    """Read every profile under `root` (the parsed YAML comes from the disk cache when the files are unchanged)."""
    if not root.is_dir():
        raise KnowledgeBaseError(f"licence knowledge base not found at {root}")
    try:
        key = diskcache.fingerprint(root)
    except OSError:
        key = None
    raws = diskcache.read_profiles(key) if key else None
    from_cache = raws is not None
    if raws is None:
        raws = _read_yaml(root)
    profiles, seen = [], set()
    for name, raw in raws:
        profile = parse_profile(raw, root, name, check_patterns=not from_cache)
        if profile.id in seen:
            raise KnowledgeBaseError(f"{name}: duplicate id {profile.id}")
        seen.add(profile.id)
        profiles.append(profile)
    if key and not from_cache:
        diskcache.write_profiles(key, raws)  # only profiles that passed every check are kept
    return KnowledgeBase(profiles, root, key)


@lru_cache(maxsize=8)
def _cached(root: Path) -> KnowledgeBase:
    return read_knowledge_base(root)


def load_knowledge_base(root: Path | None = None) -> KnowledgeBase:
    """The knowledge base at `root` (default: the shipped licences/), read once per process."""
    return _cached(Path(root).resolve() if root is not None else default_root())
