"""Licence files of model releases as they come: named after their title, re-issued under a new
name or date, or adapted from another licence's text. Each text here is a short excerpt written
for the test (or built from a profile's own reference text); the expectations are the licences'
own words: who may use the model commercially, under which cap, with which duties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import audit_model
from auditor.identify import identify_text, load_knowledge_base
from auditor.identify.unknown import read_facts
from auditor.judge.licences import governs

KB = load_knowledge_base()
TEXTS = Path(__file__).parent.parent / "licences" / "texts"


def _audit(folder: Path) -> dict:
    result = CliRunner().invoke(audit_model, [str(folder), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _release(tmp_path: Path, files: dict[str, str]) -> Path:
    """A local release: the given licence files, a card without a `license:` field, one small weight file."""
    folder = tmp_path / "release"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "README.md").write_text("---\ntags: [text-generation]\n---\n# A model\n\nThe weights of a model.\n", encoding="utf-8")
    header = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    header += b" " * (-len(header) % 8)
    (folder / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + b"\0\0\0\0")
    return folder


# ---------------------------------------------------------------- clauses of licences the KB does not know

def _commercial(sentence: str) -> str | None:
    found = {f.name: f.value for f in read_facts([sentence])}
    return found.get("commercial_use")


def test_a_grant_for_research_or_non_commercial_purposes_only_reads_as_no_commercial_use() -> None:
    assert _commercial("Subject to this Agreement, Aurora grants You a licence to use, reproduce and modify the "
                       "Aurora Materials for any Research or Non-Commercial Purpose.") == "no"
    assert _commercial("This Agreement applies to anyone who uses the Aurora Materials for any Research & Non-Commercial use.") == "no"


def test_a_licence_titled_non_commercial_reads_as_no_commercial_use() -> None:
    assert _commercial("This Aurora Non-Commercial License Agreement (the Agreement) applies to anyone who uses the model.") == "no"


def test_rights_the_licensee_grants_over_feedback_are_no_commercial_grant() -> None:
    feedback = ("To the extent that You provide feedback, You hereby grant Aurora a perpetual, royalty-free licence "
                "to exploit the Feedback in any manner without restriction.")
    assert _commercial(feedback) is None
    # a grant to the licensee in the same words still reads as one
    assert _commercial("Permission is hereby granted, free of charge, to deal in the Software without restriction.") == "yes"


# ---------------------------------------------------------------- a text that only resembles a known licence

def _research_only_adaptation() -> str:
    """The Stability AI Community License's reference text cut down to a research-only licence: its
    commercial section and revenue cap removed, its title and purpose rewritten, most of it left out."""
    lines = (TEXTS / "stability-ai-community.txt").read_text(encoding="utf-8").splitlines()
    assert lines[16].strip() == "COMMERCIAL USE LICENSE" and lines[20].strip() == "GENERAL TERMS"
    kept = (["STABILITY AI RESEARCH LICENSE AGREEMENT", *lines[1:8],
             "This Agreement is intended to allow research and non-commercial uses of the Models free of charge.",
             *lines[11:16], *lines[20:24]])
    return "\n".join(kept) + "\n"


def test_a_licence_file_that_only_resembles_a_known_licence_is_read_by_its_clauses(tmp_path: Path, fake_hub) -> None:
    text = _research_only_adaptation()
    (match,) = identify_text(text, "LICENSE", KB)
    assert match.id == "stability-ai-community" and not governs(match)  # too weak a likeness to govern
    report = _audit(_release(tmp_path, {"LICENSE": text}))
    codes = {f["code"] for f in report["findings"]}
    assert "no-licence" not in codes  # the file is a licence: not "all rights reserved"
    assert "licence-unidentified" in codes
    # "research and non-commercial uses": never the resembled licence's capped commercial grant
    assert report["terms"]["commercial_use"]["value"] == "no"
    assert report["verdict"]["openness"] == "non-commercial"


# ---------------------------------------------------------------- a licence file named as its title

def test_a_licence_file_named_as_its_title_governs_the_release(tmp_path: Path, fake_hub) -> None:
    text = (TEXTS / "tongyi-qianwen.txt").read_text(encoding="utf-8")
    report = _audit(_release(tmp_path, {"Tongyi Qianwen LICENSE AGREEMENT": text}))
    assert [m["id"] for m in report["licences"]] == ["tongyi-qianwen"]
    assert "no-licence" not in {f["code"] for f in report["findings"]}
    # "If you are commercially using the Materials, and your product or service has more than
    # 100 million monthly active users, You shall request a license from Us"
    assert report["terms"]["commercial_use"]["value"] == "capped"
    assert report["terms"]["user_cap"]["value"] == "100 million monthly active users"


# ---------------------------------------------------------------- releases under new names and dates

STABILITY_NC = """Stability AI Non-Commercial License Agreement
Last Updated: February 20, 2025

I. INTRODUCTION

This Stability AI Non-Commercial License Agreement (the "Agreement") applies to any individual person or entity
("You", "Your" or "Licensee") that uses or distributes any portion or element of the Stability AI Materials or
Derivative Works thereof for any Research & Non-Commercial use.

This Agreement is intended to allow research and non-commercial uses of the Model free of charge.
"""

HUNYUAN_AVATAR = """TENCENT HUNYUAN COMMUNITY LICENSE AGREEMENT
TencentHunyuanVideo-Avatar Release Date: May 28, 2025
THIS LICENSE AGREEMENT DOES NOT APPLY IN THE EUROPEAN UNION, UNITED KINGDOM AND SOUTH KOREA AND IS EXPRESSLY LIMITED TO THE TERRITORY, AS DEFINED BELOW.
"""

HUNYUAN_CUSTOM = """TENCENT HUNYUAN COMMUNITY LICENSE AGREEMENT
Tencent Hunyuan Custom Release Date: May 9, 2025
THIS LICENSE AGREEMENT DOES NOT APPLY IN THE EUROPEAN UNION, UNITED KINGDOM AND SOUTH KOREA AND IS EXPRESSLY LIMITED TO THE TERRITORY, AS DEFINED BELOW.
"""

CODEGEEX4 = """The CodeGeeX4 License

1. Definitions
"Licensor" means the CodeGeeX Team that distributes its Software.
"Software" means the CodeGeeX4 model parameters made available under this license.

2. License
This license allows you to use all open source models in this repository for free for academic research. For users
who wish to use the models for commercial purposes, please complete registration. Registered users are free to use
this model for commercial activities, but must comply with all terms and conditions of this license.
"""

YI_COMMUNITY = """                 Yi Series Models Community License Agreement
                                 Version: 2.1
                       Date of Release: November 23, 2023

1. Definition
"Agreement" refers to the Yi Series Models Community License Agreement for the use, reproduction and
distribution of Yi Series Models.
"""

FISH_AUDIO = """# FISH AUDIO RESEARCH LICENSE AGREEMENT
**Last Updated: March 7, 2026**

## I. INTRODUCTION
This Agreement is intended to allow research and non-commercial uses of the Materials free of charge.
Any Commercial use of the Materials requires a separate license from Fish Audio.
"""


@pytest.mark.parametrize(("text", "licence_id", "commercial", "cap"), [
    # "for any Research or Non-Commercial Purpose"
    (STABILITY_NC, "stability-ai-non-commercial", "no", None),
    # "greater than 100 million monthly active users in the preceding calendar month, You must request a license"
    (HUNYUAN_AVATAR, "tencent-hunyuan-video-avatar", "capped", "100 million monthly active users"),
    (HUNYUAN_CUSTOM, "tencent-hunyuan-custom", "capped", "100 million monthly active users"),
    # "Registered users are free to use this model for commercial activities"
    (CODEGEEX4, "codegeex4", "conditional", None),
    # "complete the registration and obtain the license for Commercial Purposes"
    (YI_COMMUNITY, "yi-community-license", "conditional", None),
    # "Any Commercial use of the Materials requires a separate license from Fish Audio"
    (FISH_AUDIO, "fish-audio-research", "no", None),
], ids=["stability-nc-2025", "hunyuan-avatar", "hunyuan-custom", "codegeex4", "yi-2.1", "fish-audio"])
def test_a_re_issued_licence_is_named_by_its_own_title_and_date(text: str, licence_id: str, commercial: str, cap: str | None) -> None:
    found = [m.id for m in identify_text(text, "LICENSE", KB)]
    assert found == [licence_id]
    facts = KB.known(licence_id).facts
    assert facts["commercial_use"].value == commercial
    assert (facts["user_cap"].value or None) == cap


def test_the_profiles_of_re_issued_licences_keep_their_duties() -> None:
    assert KB.known("tencent-hunyuan-video-avatar").facts["territory"].value == "yes"
    assert KB.known("codegeex4").facts["naming"].value == "yes"  # "Built with CodeGeeX4"
    assert KB.known("fish-audio-research").facts["output_restrictions"].value == "yes"
    assert KB.known("stability-ai-non-commercial").facts["naming"].value == "yes"  # "Powered by Stability AI"


# ---------------------------------------------------------------- a licence without a title line

APPLE_RESEARCH = """Disclaimer: IMPORTANT: This Apple Machine Learning Research Model is
specifically developed and released by Apple Inc. ("Apple") for the sole purpose
of scientific research of artificial intelligence and machine-learning
technology. This Apple Machine Learning Research Model is provided to You by
Apple in consideration of your agreement to the following terms, and your use,
modification, creation of Model Derivatives, and or distribution of the Apple
Machine Learning Research Model constitutes acceptance of this Agreement. If You
do not agree with these terms, please do not use, modify, create Model
Derivatives of, or distribute this Apple Machine Learning Research Model.

1. License Scope. In consideration of your agreement to abide by the following
terms, Apple grants You a personal, non-exclusive, worldwide, non-transferable,
royalty-free, revocable, and limited license to use, copy, modify, distribute,
and create Model Derivatives of the Apple Machine Learning Research Model
exclusively for Research Purposes. You agree that any Model Derivatives You may
create or that may be created for You will be limited to Research Purposes as
well. "Research Purposes" means non-commercial scientific research and academic
development activities, such as experimentation, analysis, testing conducted by
You with the sole intent to advance scientific knowledge and research.

2. Attribution. You must ensure that the following attribution notice be
provided: "Apple Machine Learning Research Model is licensed under the Apple
Machine Learning Research Model License Agreement."
"""


def test_a_licence_without_a_title_line_is_named_by_its_own_opening_words() -> None:
    (match,) = identify_text(APPLE_RESEARCH, "LICENSE_MODEL", KB)
    assert match.id == "apple-amlr" and governs(match)
    # "exclusively for Research Purposes ... non-commercial scientific research"
    assert KB.known("apple-amlr").facts["commercial_use"].value == "no"


def test_a_short_notice_in_a_licence_s_words_does_not_govern_as_that_licence() -> None:
    notice = ("The weights are an Apple Machine Learning Research Model. Apple Machine Learning Research Model is "
              "licensed under the Apple Machine Learning Research Model License Agreement.\n")
    assert not any(governs(m) for m in identify_text(notice, "NOTICE", KB))


# ---------------------------------------------------------------- a release named in the file's head

def test_a_shared_licence_text_is_settled_by_the_release_line_in_its_head() -> None:
    """Tencent publishes one community licence text per release, named by a release-date line under
    the title; a release note between the head and the clauses must not hide that line."""
    body = (TEXTS / "tencent-hunyuan-3d-2.0.txt").read_text(encoding="utf-8")
    body = body.replace("Tencent Hunyuan 3D 2.0", "Tencent Hunyuan 7B").replace("TENCENT HUNYUAN 3D 2.0", "TENCENT HUNYUAN")
    head = ["TENCENT HUNYUAN COMMUNITY LICENSE AGREEMENT", "Tencent Hunyuan 7B Release Date: August 4, 2025", "",
            "This release note is not part of the licence terms below.", "Read them before using the model.", "",
            "It covers the weights of this release.", ""]
    text = "\n".join(head + body.splitlines()[2:]) + "\n"
    (match,) = identify_text(text, "LICENSE", KB)
    assert match.id == "tencent-hunyuan-7b" and governs(match)
    # "greater than 100 million monthly active users", where the 3D 2.0 text says 1 million
    assert KB.known("tencent-hunyuan-7b").facts["user_cap"].value == "100 million monthly active users"
