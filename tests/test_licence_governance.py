"""What may govern the weights is decided by the kind of evidence, not by one confidence number:
a licence file whose own title names a licence the knowledge base knows without a text, with
that licence's markers in its body, governs ("identified by its title and clauses"); a bare
mention, a quoted title or a pointer does not."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.audit import AuditOptions, Auditor
from auditor.cli import audit_model
from auditor.identify import identify_text, load_knowledge_base
from auditor.judge.licences import TermsLevel, assess_licences, profile_level
from auditor.judge.scopes import file_scopes
from auditor.model import ComponentName, LicenceKind, MatchMethod, Target, TargetKind
from auditor.sources.local import LocalSource

KB = load_knowledge_base()
FIXTURES = Path(__file__).parent / "fixtures" / "repos"
TITLED = sorted(p.id for p in KB if p.text_path is None and p.markers and p.kind is LicenceKind.LICENCE and not p.unidentified)

_BODY = """1. Definitions

"Licensor" means the party that makes the Model available under this Agreement, and "You" means the person or entity exercising the rights granted here.

2. Grant of rights

Subject to the terms of this Agreement, the Licensor hereby grants You a non-exclusive, worldwide, non-transferable licence to use, copy and modify the Model and to make derivatives of it.

3. Other terms

{markers}

4. Disclaimer

THE MODEL IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, AND THE LICENSOR IS NOT LIABLE FOR ANY CLAIM ARISING FROM ITS USE.
"""


def marker_sample(marker: str) -> str:
    """Words a marker regex matches: its optional parts left out, its escapes and gaps written plainly."""
    text = marker.replace(r"\(", "\x01").replace(r"\)", "\x02").replace(r"\[", "[").replace(r"\]", "]").replace(r"\.", "\x03")
    text = re.sub(r"\(\?[!=][^)]*\)", "", text)  # look-arounds
    text = re.sub(r"\((?:\?:)?[^()]*\)\?", "", text)  # optional groups
    text = re.sub(r"\((?:\?:)?([^()|]*)(?:\|[^()]*)?\)", r"\1", text)  # a group of alternatives: its first
    text = text.replace(r"\W+", " ").replace(r"\W", " ").replace(r"\s?", " ").replace(r"\s+", " ").replace(r"\b", "")
    text = re.sub(r"\\(.)", r"\1", text)
    text = re.sub(r"(?<=\w)\.(?=\w)", "'", text)  # "don.t": any character, an apostrophe in the text
    text = text.replace("\x01", "(").replace("\x02", ")").replace("\x03", ".")
    return " ".join(text.split())


def titled_text(profile_id: str) -> str:
    profile = KB.known(profile_id)
    samples = [marker_sample(m) for m in profile.markers]
    lines = "\n\n".join(f"This Agreement records: {s}." for s in samples)
    return f"{profile.name}\n\n" + _BODY.format(markers=lines)


def test_the_marker_samples_match_their_markers():
    for profile_id in TITLED:
        profile = KB.known(profile_id)
        found = [bool(m.search(" ".join(marker_sample(raw).lower().split()))) for m, raw in zip(profile.compiled_markers, profile.markers, strict=True)]
        assert any(found), (profile_id, [marker_sample(m) for m in profile.markers])


def test_every_profile_known_by_title_and_markers_is_under_test():
    assert len(TITLED) >= 60 and "cogvideox" in TITLED and "sdxl-0.9-research" in TITLED


@pytest.mark.parametrize("profile_id", TITLED)
def test_a_licence_file_titled_as_a_known_licence_with_its_markers_governs_the_weights(profile_id):
    text = titled_text(profile_id)
    matches = identify_text(text, "LICENSE", KB)
    own = [m for m in matches if m.id == profile_id]
    assert own and own[0].method is MatchMethod.TITLE, [(m.id, m.method) for m in matches]
    assessment = assess_licences(matches, KB, ["LICENSE"], {"LICENSE": text})
    assert assessment.weights.ids[:1] == (profile_id,)
    assert assessment.weights.level is profile_level(KB.known(profile_id))


_OPENNESS = {TermsLevel.OPEN: "open-weights", TermsLevel.RESTRICTED: "restricted-weights", TermsLevel.NON_COMMERCIAL: "non-commercial",
             TermsLevel.NO_RIGHTS: "not-open"}


@pytest.mark.parametrize("profile_id", TITLED)
def test_as_a_repos_only_licence_file_the_verdict_follows_its_facts(profile_id, tmp_path):
    profile = KB.known(profile_id)
    (tmp_path / "LICENSE").write_text(titled_text(profile_id), encoding="utf-8")
    (tmp_path / "model.safetensors").write_bytes(b"")
    result = Auditor(LocalSource(), KB, options=AuditOptions(scan_weights=False)).run(Target(TargetKind.LOCAL, path=str(tmp_path)))
    assert result.verdict.openness.value == _OPENNESS[profile_level(profile)]
    assert result.terms["commercial_use"].value == profile.facts["commercial_use"].value.lower()
    assert result.components[ComponentName.WEIGHTS].licence == profile.spdx


_MENTION = """Model usage notes

This repository contains a checkpoint trained by our group. We previously released a sibling model under {name}, which you may want to consult. The files here are provided for reference and the project page explains who may use them and how; you may download them.

{markers}
"""


@pytest.mark.parametrize("shape", ["mention", "quoted", "pointer"])
def test_a_mention_a_quoted_title_or_a_pointer_does_not_govern(shape):
    profile = KB.known("cogvideox")
    markers = " ".join(marker_sample(m) for m in profile.markers[1:])
    text = {
        "mention": _MENTION.format(name=profile.name, markers=markers),
        "quoted": _MENTION.format(name=f'the "{profile.name}"', markers=markers),
        "pointer": f"The weights are licensed under {profile.name}: see https://example.org/MODEL_LICENSE\n",
    }[shape]
    matches = identify_text(text, "LICENSE", KB)
    assert not any(m.method is MatchMethod.TITLE for m in matches)
    weights = assess_licences(matches, KB, ["LICENSE"], {"LICENSE": text}).weights
    assert "cogvideox" not in weights.ids or all(m.kind is LicenceKind.REFERENCE for m in weights.matches)


def _repo_id(case: str) -> str:
    return yaml.safe_load((FIXTURES / case / "repo.yaml").read_text())["id"]


def test_a_title_identified_licence_governs_through_the_cli(fake_hub, local_checkout):
    for target in (_repo_id("title-identified-licence"), str(local_checkout("title-identified-licence"))):
        result = CliRunner().invoke(audit_model, [target, "--format", "json"])
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["verdict"]["openness"] == "restricted-weights"
        assert report["components"]["weights"]["licence"] == "LicenseRef-cogvideox"
        assert report["terms"]["commercial_use"]["value"] == "capped"
        assert [m["method"] for m in report["licences"] if m["id"] == "cogvideox"] == ["title"]
        markdown = CliRunner().invoke(audit_model, [target, "--format", "markdown"]).stdout
        assert "| MODEL_LICENSE (lines 1–18) | identified by its title and clauses |" in markdown
        assert "the licence could not be identified" not in markdown


# Scopes from file names: a model licence file governs the weights, a plain LICENSE beside it the code.

@pytest.mark.parametrize(("path", "scope"), [
    ("MODEL_LICENSE", "weights"), ("LICENSE-MODEL", "weights"), ("WEIGHTS_LICENSE", "weights"), ("Model License.md", "weights"),
    ("model_license.txt", "weights"), ("LICENSE_WEIGHTS.txt", "weights"), ("LICENSE-CODE", "code"), ("CODE_LICENSE", "code"),
    ("NOTICE", "notice"), ("THIRD_PARTY_NOTICES.md", "notice"), ("LICENSE", "release"), ("LICENSE.txt", "release"),
    ("card:license", "card"), ("models/LICENSE", "release"),
])
def test_a_licence_file_is_scoped_by_its_name(path, scope):
    assert file_scopes([path], {})[path] == scope


def test_a_plain_licence_beside_a_model_licence_covers_the_code_unless_it_says_it_covers_the_model():
    apache = (Path(__file__).parents[1] / "licences" / "texts" / "apache-2.0.txt").read_text(encoding="utf-8")
    assert file_scopes(["LICENSE", "MODEL_LICENSE"], {"LICENSE": apache})["LICENSE"] == "code"
    says = "Foo Model Weights Licence\n\nThese terms cover the model weights.\n" + apache
    assert file_scopes(["LICENSE", "MODEL_LICENSE"], {"LICENSE": says})["LICENSE"] == "release"
    assert file_scopes(["LICENSE"], {"LICENSE": apache})["LICENSE"] == "release"  # alone, it covers the release


def test_the_model_licence_file_governs_the_weights_and_the_plain_licence_the_code_through_the_cli(fake_hub, local_checkout):
    case = "model-licence-beside-licence"
    for target in (_repo_id(case), str(local_checkout(case))):
        result = CliRunner().invoke(audit_model, [target, "--format", "json"])
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["verdict"]["openness"] == "restricted-weights"
        assert report["components"]["weights"]["licence"] == "LicenseRef-cogvideox"
        assert report["components"]["code"]["licence"] == "Apache-2.0"
        assert report["terms"]["commercial_use"]["value"] == "capped"
