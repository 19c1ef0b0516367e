"""Model card parsing and what the card says about the release."""

from auditor.card import parse_card
from auditor.classify.evidence import gather_evidence
from auditor.model import Purpose


def test_front_matter_and_body():
    card = parse_card("---\nlicense: apache-2.0\ndatasets:\n- a/b\n---\n\n# Title\n")
    assert card.metadata == {"license": "apache-2.0", "datasets": ["a/b"]}
    assert card.body.strip() == "# Title" and card.error is None


def test_broken_front_matter_is_an_error_not_an_exception():
    card = parse_card("---\nlicense: mit\ntags: [a, b\n---\n# x\n")
    assert card.metadata == {} and card.error
    assert "line" in card.error


def test_no_front_matter_and_non_mapping():
    assert parse_card("# Just a title\n").metadata == {}
    assert parse_card("---\n- a\n- b\n---\nx").error == "front matter is not a mapping"


def test_evidence_from_card_links_and_config():
    card = parse_card(
        "---\nlicense: apache-2.0\ndatasets: [org/data, unknown]\nbase_model: org/base\ntags: [arxiv:2401.00001]\n---\n"
        "- **Core repo (training, inference):** https://github.com/org/model\n"
        "- Evaluation code: https://github.com/org/model-eval\n"
        "- See also [GitHub](https://github.com/org/other)\n"
        "- Paper: https://arxiv.org/abs/2401.00001\n"
        "Intermediate checkpoints are available as revisions.\n"
        "## Training data\nWeb text.\n## Evaluation\nscores\n"
    )
    texts = {"config.json": '{"auto_map": {"AutoModel": "modeling_x.XModel", "AutoConfig": "other/repo--configuration_x.XConfig"}}'}
    evidence = gather_evidence(card, texts)
    assert evidence.datasets == ("org/data",)
    assert evidence.papers == ("https://arxiv.org/abs/2401.00001",)
    links = {link.url: link.purposes for link in evidence.code_links}
    assert Purpose.TRAINING in links["https://github.com/org/model"]
    assert Purpose.EVALUATION in links["https://github.com/org/model-eval"]
    assert links["https://github.com/org/other"] == ()
    assert evidence.remote_code == ("modeling_x.py", "configuration_x.py")
    assert evidence.base_models == ("org/base",)
    assert evidence.evaluation_results and evidence.data_description and evidence.intermediate_checkpoints


def test_body_line_counts_the_front_matter():
    text = "---\nlicense: mit\nx: 1\n---\n\n# Title\n"
    card = parse_card(text)
    assert text.splitlines()[card.body_line - 1 + 1] == "# Title"
    assert parse_card("# Title\n").body_line == 1


def test_general_purpose_libraries_are_not_the_models_training_code():
    from auditor.judge.components import code_evidence

    card = parse_card(
        "---\nlicense: apache-2.0\n---\n## Training procedure\n"
        "Trained with [TRL](https://github.com/huggingface/trl) on our data.\n"
        "Recipe: https://github.com/acme/our-recipe (training scripts)\n"
    )
    evidence = gather_evidence(card, {})
    libraries = {link.url: link.library for link in evidence.code_links}
    assert libraries == {"https://github.com/huggingface/trl": True, "https://github.com/acme/our-recipe": False}
    assert code_evidence((), evidence, card).training == ("https://github.com/acme/our-recipe",)
