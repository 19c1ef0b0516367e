"""Census profiles without a reference text of their own are found by their titles and markers.

The later versions of a licence (FLUX.1 [dev] v1.1.1, EXAONE 1.2 - NC, the SV3D licence) and the
research licences adapted from another lab's text (SDXL 0.9's and AI2's from LLaMA's, the LFM Open
License from Apache-2.0) share most of their words with a profile that has a text. The inputs
here are those reference texts with the other licence's title, names and notice put in, as the
producers did; each must be named as the licence it now says it is, not as the one it came from.
"""

from __future__ import annotations

import pytest

from auditor.identify import identify_text, load_knowledge_base

KB = load_knowledge_base()


def _text_of(profile_id: str) -> str:
    text = KB.get(profile_id).reference_text()
    assert text, f"{profile_id} has no reference text"
    return text


def _ids(text: str) -> list[str]:
    return [match.id for match in identify_text(text, "LICENSE", KB)]


def _replace_all(text: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        assert old in text, f"the reference text no longer holds {old!r}"
        text = text.replace(old, new)
    return text


def test_llamas_research_licence_with_stability_ais_names_is_the_sdxl_0_9_licence():
    text = _replace_all(
        _text_of("llama1"),
        [
            ("LLaMA LICENSE AGREEMENT", "SDXL 0.9 RESEARCH LICENSE AGREEMENT"),
            ("Meta Platforms, Inc. (“Meta” or “we”)", "Stability AI Ltd. (“Stability AI” or “we”)"),
            (
                "LLaMA is licensed under the LLaMA License, Copyright (c) Meta Platforms, Inc.",
                "SDXL 0.9 is licensed under the SDXL Research License, Copyright (c) Stability AI Ltd.",
            ),
        ],
    )
    assert _ids(text) == ["sdxl-0.9-research"]


def test_llamas_research_licence_with_ai2s_names_is_ai2s_ai_model_license():
    text = _replace_all(
        _text_of("llama1"),
        [
            ("LLaMA LICENSE AGREEMENT", "AI MODEL LICENSE AGREEMENT"),
            (
                "Meta Platforms, Inc. (“Meta” or “we”)",
                "The Allen Institute for Artificial Intelligence a Washington nonprofit corporation (“AI2” or “we”)",
            ),
            (
                "LLaMA is licensed under the LLaMA License, Copyright (c) Meta Platforms, Inc.",
                "Tulu is licensed under the AI Model License, Copyright © The Allen Institute for Artificial Intelligence.",
            ),
        ],
    )
    assert _ids(text) == ["ai2-ai-model-license"]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("FLUX.1 [dev] Non-Commercial License v1.1.1", "flux-1-dev-non-commercial-1.1.1"),
        ("FLUX.1 [dev] Non-Commercial License v1.1", "flux-1-dev-non-commercial-1.1"),
    ],
)
def test_a_later_flux_dev_licence_is_named_by_its_version(title: str, expected: str):
    text = _replace_all(
        _text_of("flux-1-dev-non-commercial"),
        [
            ("FLUX.1 [dev] Non-Commercial License\n", f"{title}\n"),
            ("Black Forest Labs, Inc.", "Black Forest Labs Inc."),
            ("Black Forest Labs. Inc.", "Black Forest Labs Inc."),
        ],
    )
    assert _ids(text) == [expected]


def test_the_original_flux_dev_licence_keeps_its_profile():
    assert _ids(_text_of("flux-1-dev-non-commercial")) == ["flux-1-dev-non-commercial"]


def test_the_sv3d_licence_is_not_the_research_licence_it_was_copied_from():
    text = _replace_all(
        _text_of("stability-ai-non-commercial-research"),
        [
            (
                "STABILITY AI NON-COMMERCIAL RESEARCH COMMUNITY LICENSE AGREEMENT\nDated: December 06, 2023",
                "STABILITY AI NON-COMMERCIAL COMMUNITY LICENSE AGREEMENT\nDated: March 18, 2024",
            ),
        ],
    )
    assert _ids(text) == ["stability-ai-non-commercial-community"]
    assert _ids(_text_of("stability-ai-non-commercial-research")) == ["stability-ai-non-commercial-research"]


def test_exaone_versions_are_told_apart_by_the_version_in_the_title():
    text = _text_of("exaone-1.1-nc")
    assert _ids(text) == ["exaone-1.1-nc"]
    assert _ids(_replace_all(text, [("Agreement 1.1 - NC", "Agreement 1.2 - NC")])) == ["exaone-1.2-nc"]


def test_apache_with_a_revenue_threshold_under_the_lfm_title_is_the_lfm_open_license():
    text = _replace_all(
        _text_of("apache-2.0"),
        [
            ("Apache License\n", "LFM Open License v1.0\n"),
            (
                "6. Trademarks.",
                "5a. Commercial Use Limitation. The rights granted under this License for Commercial Use are"
                " conditioned upon You or Your Legal Entity not exceeding the Threshold.\n\n   6. Trademarks.",
            ),
        ],
    )
    assert _ids(text) == ["lfm-open-1.0"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("FLUX [dev] Non-Commercial License v2.0", "flux-dev-non-commercial-2.0"),
        ("LTX-2 Community License Agreement\nLicense date: January 5, 2026", "ltx-2-community"),
        ("LTX-2.x Community License Agreement\nLicense date: August 11, 2026", "ltx-2.x-community"),
        ("STABLE VIDEO DIFFUSION NON-COMMERCIAL COMMUNITY LICENSE AGREEMENT\nDated: November 21, 2023",
         "stable-video-diffusion-nc-community"),
        ("Nvidia Source Code License-NC", "nvidia-source-code-license-nc"),
    ],
)
def test_a_licence_without_a_reference_text_is_found_by_its_title(header: str, expected: str):
    text = f"{header}\n\n1. Definitions.\n\nThe terms of this licence follow.\n"
    assert _ids(text) == [expected]
