"""A card's sentence that assigns licences to the code and to the weights sets their scopes,
in English and in Chinese, and is cited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import audit_model
from auditor.identify import identify_text, load_knowledge_base
from auditor.judge.licences import assess_licences
from auditor.judge.scopes import MODEL_LICENCE_FILE, card_scopes
from auditor.model import LicenceKind, LicenceMatch, MatchMethod

KB = load_knowledge_base()
FIXTURES = Path(__file__).parent / "fixtures" / "repos"


@pytest.mark.parametrize(("sentence", "code", "weights"), [
    ("The code in this repository is released under the Apache-2.0 license; the model weights are under the Model License.", ["apache-2.0"], [MODEL_LICENCE_FILE]),
    ("The code is licensed under MIT, while the weights are released under the Llama 3.1 Community License.", ["mit"], ["llama3.1"]),
    ("Model weights: CC-BY-NC-4.0. Source code: Apache 2.0.", [], []),  # two sentences, each naming one side only
    ("The weights are released under the Gemma Terms of Use and the training code under the Apache License 2.0.", ["apache-2.0"], ["gemma"]),
    ("本仓库的代码依照 Apache-2.0 协议开源，模型权重的使用则需要遵循《模型许可协议》。", ["apache-2.0"], [MODEL_LICENCE_FILE]),
    ("代码使用 MIT 许可证，模型权重遵循 Llama 3.1 Community License。", ["mit"], ["llama3.1"]),
    ("This model is a fine-tune of Llama 3.1 and runs with the code of the transformers library.", [], []),
])
def test_a_sentence_assigning_licences_to_code_and_weights_is_read(sentence, code, weights):
    found = card_scopes(sentence, KB)
    assert [a.licence_id for a in found if a.scope == "code"] == code
    assert [a.licence_id for a in found if a.scope == "weights"] == weights
    assert all(a.sentence in sentence for a in found)


def _match(licence_id: str, source: str) -> LicenceMatch:
    profile = KB.known(licence_id)
    return LicenceMatch(profile.id, profile.name, profile.spdx, LicenceKind.LICENCE, source, 1.0, MatchMethod.EXACT)


def test_the_card_moves_the_code_licence_off_the_weights_only_when_it_names_what_the_weights_are_under():
    mit = (Path(__file__).parents[1] / "licences" / "texts" / "mit.txt").read_text(encoding="utf-8")
    matches = [*identify_text(mit, "LICENSE", KB), _match("llama3.1", "card:license")]
    said = "The code is licensed under MIT, while the weights are released under the Llama 3.1 Community License."
    scoped = assess_licences(matches, KB, ["LICENSE"], {"LICENSE": mit}, "llama3.1", said)
    assert scoped.weights.ids == ("llama3.1",) and scoped.code.ids == ("mit",)
    assert "licence-relabelled" not in [f.code for f in scoped.findings]
    assert [f.message for f in scoped.findings if f.code == "licence-scope-from-card"] == [f"the card assigns the licences of the code and the weights: “{said}”"]
    unsaid = assess_licences(matches, KB, ["LICENSE"], {"LICENSE": mit}, "llama3.1", "A code model.")
    assert "mit" in unsaid.weights.ids and "licence-relabelled" in [f.code for f in unsaid.findings]


@pytest.mark.parametrize("case", ["card-scopes-en", "card-scopes-zh"])
def test_the_cards_scopes_hold_through_the_cli(case, fake_hub, local_checkout):
    repo = yaml.safe_load((FIXTURES / case / "repo.yaml").read_text())["id"]
    for target in (repo, str(local_checkout(case))):
        result = CliRunner().invoke(audit_model, [target, "--format", "json"])
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["components"]["weights"]["licence"] == "LicenseRef-scancode-llama-3.1-license-2024"
        assert report["components"]["code"]["licence"] == "MIT"
        codes = [f["code"] for f in report["findings"]]
        assert "licence-relabelled" not in codes and "licence-scope-from-card" in codes
        assert report["terms"]["commercial_use"]["value"] == "capped"
