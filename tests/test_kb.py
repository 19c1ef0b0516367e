"""Every licence profile in licences/ checked against licences/_schema.yaml, and against the others.

The profiles are read straight from YAML (not through auditor.identify.kb) so that a broken
profile is reported here by name, whatever the loader makes of it. Beyond the schema's shape,
the tests hold the knowledge base to what the identifier relies on: ids equal to file names,
names and aliases that point at one profile only, reference texts and policies that exist,
markers that compile, are written in the normalised (lower-case) form, match their own
reference text and no other profile's, and SPDX ids that SPDX or ScanCode know.
"""

from __future__ import annotations

import importlib.util
import re
from difflib import SequenceMatcher
from functools import cache, lru_cache
from pathlib import Path

import pytest
import yaml
from license_expression import get_spdx_licensing

LICENCES = Path(__file__).resolve().parent.parent / "licences"
SCHEMA = yaml.safe_load((LICENCES / "_schema.yaml").read_text(encoding="utf-8"))
PROFILE_PATHS = sorted(p for p in LICENCES.glob("*.yaml") if not p.name.startswith("_"))
TYPES = {"str": str, "list": list, "bool": bool, "map": dict}
def _load_script(name: str):
    """A maintainer script of scripts/ as a module (scripts/ is not a package)."""
    path = LICENCES.parent / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_script_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


licence_table = _load_script("licence_table")
HEX40 = re.compile(r"^[0-9a-f]{40}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
LICENSE_REF = re.compile(r"^LicenseRef-[A-Za-z0-9.\-]+$")
SCANCODE_SOURCE = "scancode-toolkit-mini"
# Words that do not tell two licence names apart ("Apache License" = "apache").
NAME_FILLER = {"the", "license", "licence", "agreement"}


def _load(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@lru_cache(maxsize=1)
def profiles() -> dict[str, dict]:
    """Every profile by file name, read once for all tests (none of them changes a profile)."""
    return {path.stem: _load(path) for path in PROFILE_PATHS}


def _profile(path: Path) -> dict:
    return profiles()[path.stem]


def normalised(text: str) -> str:
    """The marker form of a text: lower case, plain quotes, no markdown emphasis, one space, 'license'."""
    text = text.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-"}))
    text = re.sub(r"\*{1,3}|`+", "", text)
    text = re.sub(r"\s+", " ", text.lower())
    return re.sub(r"\blicenc(e|es|ed|ing|or|ee)\b", r"licens\1", text)


@cache
def reference_text(profile_id: str) -> str | None:
    relative = profiles()[profile_id].get("text")
    path = LICENCES / relative if relative else None
    # A missing text is reported against its own profile (test_reference_text_exists...).
    return normalised(path.read_text(encoding="utf-8")) if path and path.is_file() else None


def extends(other_id: str, profile_id: str) -> bool:
    """True when other's reference text is this profile's text with clauses added (BSD-3 in BSD-3-Clear).

    Such a text holds every phrase of the one it extends, so no marker can be absent from it.
    """
    own, other = reference_text(profile_id), reference_text(other_id)
    return bool(own and other) and text_extends(other, own)


def text_extends(longer: str, shorter: str) -> bool:
    short_words, long_words = shorter.split(), longer.split()
    if len(long_words) < 1.05 * len(short_words):
        return False
    matcher = SequenceMatcher(None, short_words, long_words, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) >= 0.97 * len(short_words)


def name_key(name: str) -> str:
    words = re.findall(r"[a-z0-9.+]+", str(name).lower())
    return " ".join(word.strip(".") for word in words if word not in NAME_FILLER)


@lru_cache(maxsize=1)
def spdx_keys() -> frozenset[str]:
    keys = set()
    for symbol in get_spdx_licensing().known_symbols.values():
        keys.add(symbol.key)
        keys.update(getattr(symbol, "aliases", ()) or ())
    return frozenset(keys)


def test_there_are_profiles():
    assert len(PROFILE_PATHS) > 1


@pytest.mark.parametrize("path", PROFILE_PATHS, ids=lambda p: p.stem)
class TestProfile:
    def test_fields_follow_the_schema(self, path):
        profile = _profile(path)
        fields = SCHEMA["fields"]
        assert isinstance(profile, dict)
        unknown = set(profile) - set(fields)
        assert not unknown, f"fields not in the schema: {sorted(unknown)}"
        for name, rule in fields.items():
            if rule["required"]:
                assert name in profile, f"missing required field {name}"
            if name not in profile:
                continue
            value = profile[name]
            assert isinstance(value, TYPES[rule["type"]]), f"{name} must be a {rule['type']}"
            if "values" in rule:
                assert value in rule["values"], f"{name}: {value!r} is not one of {rule['values']}"
        for name in ("aliases", "urls", "markers"):
            assert all(isinstance(item, str) and item for item in profile.get(name, [])), name

    def test_id_is_the_file_name_in_lower_case(self, path):
        profile = _profile(path)
        assert profile["id"] == path.stem
        assert profile["id"] == profile["id"].lower()
        assert re.fullmatch(r"[a-z0-9][a-z0-9.+\-]*", profile["id"])

    def test_policies_are_kind_policy_and_category_policy(self, path):
        profile = _profile(path)
        assert (profile["kind"] == "policy") == (profile["category"] == "policy")

    def test_facts_use_the_schema_names_and_values(self, path):
        profile = _profile(path)
        facts = profile["facts"]
        assert set(facts) == set(SCHEMA["facts"]), f"facts differ from the schema: {set(facts) ^ set(SCHEMA['facts'])}"
        for name, fact in facts.items():
            assert isinstance(fact, dict) and set(fact) <= {"value", "clause", "applies_to"} and "value" in fact, name
            value = fact["value"]
            # One spelling of yes and no: the quoted word (YAML 1.1 reads a bare yes/no as a boolean).
            assert not isinstance(value, bool), f'{name}: {value!r} is a YAML boolean; write "yes" or "no" in quotes'
            allowed = SCHEMA["facts"][name].get("values", [])
            assert all(isinstance(v, str) for v in allowed), f"the schema spells {name}'s values as words"
            if allowed:
                assert value in allowed, f"{name}: {value!r} is not one of {allowed}"
            else:
                assert value is None or (isinstance(value, str) and value), f"{name}: {value!r}"
            if "clause" in fact:
                assert isinstance(fact["clause"], str) and fact["clause"].strip(), f"{name}: empty clause"

    def test_every_granted_or_imposed_fact_quotes_its_clause(self, path):
        profile = _profile(path)
        for name, fact in profile["facts"].items():
            value = fact["value"]
            if value in (None, "no"):
                continue
            # A policy grants nothing: saying it does not bar commercial use needs no quote.
            if profile["kind"] == "policy" and name == "commercial_use":
                continue
            assert fact.get("clause"), f"{name} is {value!r} but quotes no clause"

    def test_a_cap_goes_with_capped_commercial_use(self, path):
        facts = _profile(path)["facts"]
        capped = facts["commercial_use"]["value"] == "capped"
        assert capped == (facts["user_cap"]["value"] is not None)

    def test_spdx_id_is_known_or_a_licence_ref(self, path):
        profile = _profile(path)
        spdx = profile["spdx"]
        assert spdx in spdx_keys() or LICENSE_REF.match(spdx), spdx
        if spdx.startswith("LicenseRef-scancode-"):
            assert profile.get("scancode_key") and spdx == f"LicenseRef-scancode-{profile['scancode_key']}"
        elif spdx.startswith("LicenseRef-"):
            assert spdx == f"LicenseRef-{profile['id']}", "a LicenseRef of our own is LicenseRef-<id>"

    def test_reference_text_exists_with_its_provenance(self, path):
        profile = _profile(path)
        if "text" not in profile:
            assert "text_source" not in profile
            return
        text = LICENCES / profile["text"]
        assert profile["text"].startswith("texts/") and text.is_file(), profile["text"]
        assert text.read_text(encoding="utf-8").strip()
        source = profile.get("text_source", "")
        assert source, "a reference text needs its text_source"
        if source.startswith(SCANCODE_SOURCE):
            assert source.endswith(f"licenses/{profile['scancode_key']}.LICENSE")

    def test_policy_names_an_existing_policy_profile(self, path):
        profile = _profile(path)
        if "policy" not in profile:
            return
        assert profile["kind"] == "licence"
        policy = profiles().get(profile["policy"])
        assert policy is not None, f"no profile {profile['policy']}"
        assert policy["kind"] == "policy"

    def test_markers_compile_and_are_written_in_normalised_form(self, path):
        for marker in _profile(path).get("markers", []):
            re.compile(marker, re.IGNORECASE)
            # Markers meet lower-case text; upper case outside an escape (\W, \S) never matches.
            assert not re.search(r"(?<!\\)[A-Z]", marker), f"marker not in lower case: {marker}"
            assert "licence" not in marker, f"normalised text spells it 'license': {marker}"

    def test_markers_match_the_profiles_own_reference_text(self, path):
        profile = _profile(path)
        text = reference_text(profile["id"])
        if text is None:
            return
        for marker in profile.get("markers", []):
            assert re.search(marker, text), f"marker misses the reference text: {marker}"

    def test_markers_match_no_other_profiles_reference_text(self, path):
        profile = _profile(path)
        for marker in profile.get("markers", []):
            for other in profiles():
                if other == profile["id"]:
                    continue
                text = reference_text(other)
                if text and re.search(marker, text):
                    assert extends(other, profile["id"]), f"{marker!r} also matches {other}"


    def test_source_names_the_producers_file_by_commit_and_hash(self, path):
        source = _profile(path).get("source")
        if source is None:
            return
        assert set(source) == {"repo", "path", "commit", "sha256"}, f"source fields: {sorted(source)}"
        assert re.fullmatch(r"github:[A-Za-z0-9][\w.-]*/[\w.-]+", str(source["repo"])), source["repo"]
        assert isinstance(source["path"], str) and source["path"].strip()
        assert HEX40.match(str(source["commit"])), f"commit is not 40 hex digits: {source['commit']}"
        assert HEX64.match(str(source["sha256"])), f"sha256 is not 64 hex digits: {source['sha256']}"

    def test_a_read_licence_without_text_is_found_by_markers(self, path):
        profile = _profile(path)
        if "source" in profile and "text" not in profile:
            assert profile.get("markers"), "a profile with no reference text needs markers to be found"


def test_no_profile_title_triggers_another_profiles_markers():
    """A title names one licence: another profile's marker firing on it would be a false match."""
    collisions = []
    for profile_id, profile in profiles().items():
        titles = [normalised(t) for t in [profile["name"], *profile.get("aliases", [])]]
        for other_id, other in profiles().items():
            if other_id == profile_id:
                continue
            for marker in other.get("markers", []):
                hit = next((t for t in titles if re.search(marker, t)), None)
                if hit is not None:
                    collisions.append(f"{profile_id} title {hit!r} triggers {other_id} marker {marker!r}")
    assert not collisions, collisions


def test_licence_table_is_up_to_date():
    current = (LICENCES / "README.md").read_text(encoding="utf-8")
    assert current == licence_table.render(licence_table.load_profiles(LICENCES)), (
        "licences/README.md is out of date: run python scripts/licence_table.py"
    )


def test_licence_table_names_each_text_origin():
    scancode = {"id": "x", "text": "texts/x.txt", "text_source": "scancode-toolkit-mini 32.5.0: k.LICENSE", "scancode_key": "k"}
    read = {"id": "y", "source": {"repo": "github:org/name", "path": "LICENSE", "commit": "a" * 40, "sha256": "b" * 64}}
    assert licence_table.text_origin(scancode) == "ScanCode `k`"
    assert licence_table.text_origin(read) == f"github:org/name@{'a' * 12}:LICENSE"
    assert licence_table.text_origin({"id": "z"}) == "none"
    row = licence_table.render([{"id": "p|q", "name": "A | B", "category": "permissive"}]).splitlines()[-1]
    assert row == "| p\\|q | A \\| B |  | permissive | none |"


def test_names_and_aliases_point_at_one_profile_only():
    seen: dict[str, str] = {}
    clashes = []
    for profile_id, profile in profiles().items():
        names = {name_key(n) for n in [profile["id"], profile["name"], *profile.get("aliases", [])]}
        for key in names:
            if key in seen and seen[key] != profile_id:
                clashes.append(f"{key!r}: {seen[key]} and {profile_id}")
            seen.setdefault(key, profile_id)
    assert not clashes, clashes


def test_every_name_and_alias_has_a_name_key():
    """A name of CJK characters alone has no key: lookups could never reach it."""
    empty = [f"{pid}: {name!r}" for pid, p in profiles().items() for name in [p["name"], *p.get("aliases", [])] if not name_key(name)]
    assert not empty, empty


def test_spdx_and_scancode_ids_are_unique():
    for field in ("spdx", "scancode_key"):
        values = [p[field] for p in profiles().values() if p.get(field)]
        assert len(values) == len(set(values)), f"{field} used twice: {sorted(v for v in values if values.count(v) > 1)}"


def test_name_key_ignores_case_punctuation_and_filler():
    assert name_key("LLAMA 3.1 COMMUNITY LICENSE AGREEMENT") == name_key("Llama 3.1 Community License")
    assert name_key("openrail++") != name_key("openrail")
    assert name_key("llama3.1") != name_key("llama3.2")


def test_a_text_with_clauses_added_extends_the_shorter_one():
    base = " ".join(f"clause {n} of the licence applies;" for n in range(60))
    patent = " no express or implied patent rights are granted by this licence to anyone at all." * 3
    assert text_extends(base + patent, base)
    assert not text_extends(base, base + patent)
    assert not text_extends(base.replace("clause 7", "section 7") + " dated 2025", base)  # a new version


def test_normalised_text_is_the_marker_form():
    assert normalised("**Llama 3.1**  Acceptable\n Use “Policy” Licence") == 'llama 3.1 acceptable use "policy" license'
