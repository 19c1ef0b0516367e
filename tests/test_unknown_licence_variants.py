"""Licences no profile holds, written by hand with hand-written answers (tests/data/unknown_licence_variants):
the answer to "may I use it commercially?" is right for each, and none is more permissive than its label."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.audit import Auditor
from auditor.cli import audit_model
from auditor.identify import load_knowledge_base
from auditor.model import Target, TargetKind
from auditor.sources.local import LocalSource

DATA = Path(__file__).parent / "data" / "unknown_licence_variants"
VARIANTS = yaml.safe_load((DATA / "variants.yaml").read_text(encoding="utf-8"))
# how much each answer allows: an answer above its label is the worst error the auditor can make
PERMISSIVENESS = {"no": 0, "conditional": 1, "capped": 1, "yes": 2}

_FRAMES = {
    "en": """{title}

1. Definitions

"Licensor" means the organisation that releases the Model. "You" means the individual or entity that accepts this Agreement. "Model" means the trained weights, parameters and configuration files distributed with this Agreement.

2. Grant

Subject to your compliance with this Agreement, Licensor grants you a non-exclusive, non-transferable licence to use, reproduce and modify the Model.

3. Conditions

{clauses}

4. Disclaimer

The Model is provided "as is", without warranty of any kind. In no event shall Licensor be liable for any claim or damages arising from the Model.
""",
    "zh": """{title}

一、定义

“许可方”指发布本模型的机构。“您”指接受本协议并行使本协议所授予权利的个人或实体。“模型”指随本协议一同发布的模型权重、参数、配置文件以及相关的说明文档。“衍生模型”指基于本模型修改、微调或蒸馏得到的任何模型。

二、许可授予

在您遵守本协议全部条款的前提下，许可方授予您一项全球范围内非排他、不可转让、不可再许可的许可，以使用、复制和修改本模型及其衍生模型。

三、条件

{clauses}

四、免责声明

本模型按“现状”提供，许可方不作任何明示或默示的保证，包括但不限于适销性、特定用途适用性及不侵权的保证。在任何情况下，许可方均不对因使用本模型而产生的任何索赔、损害或其他责任承担责任。
""",
}


def licence_text(variant: dict) -> str:
    if "text" in variant:
        return variant["text"]
    return _FRAMES[variant.get("frame", "en")].format(title=variant["title"], clauses=variant["clauses"])


def _release(root: Path, variant: dict) -> Path:
    folder = root / variant["name"]
    folder.mkdir()
    (folder / "LICENSE").write_text(licence_text(variant), encoding="utf-8")
    (folder / "README.md").write_text("# A model\n\nWeights for a small language model.\n", encoding="utf-8")
    (folder / "config.json").write_text('{"model_type": "llama"}', encoding="utf-8")
    (folder / "model.gguf").write_bytes(b"")  # the weights, listed only
    return folder


def commercial_use(folder: Path) -> dict:
    result = Auditor(LocalSource(), load_knowledge_base()).run(Target(TargetKind.LOCAL, path=str(folder)))
    fact = result.terms.get("commercial_use")
    return {"value": fact.value if fact else None, "result": result}


def test_there_are_at_least_60_variants_each_labelled():
    assert len(VARIANTS) >= 60
    assert len({v["name"] for v in VARIANTS}) == len(VARIANTS)
    assert all(v["commercial_use"] in PERMISSIVENESS for v in VARIANTS)


@pytest.mark.parametrize("variant", VARIANTS, ids=[v["name"] for v in VARIANTS])
def test_the_commercial_use_answer_is_the_label_and_never_more_permissive(variant, tmp_path):
    answer = commercial_use(_release(tmp_path, variant))["value"]
    assert answer is not None, "commercial_use is always answered"
    assert PERMISSIVENESS[answer] <= PERMISSIVENESS[variant["commercial_use"]], f"{answer} is more permissive than {variant['commercial_use']}"
    assert answer == variant["commercial_use"]


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.get("facts")], ids=[v["name"] for v in VARIANTS if v.get("facts")])
def test_the_other_facts_the_text_states_are_read(variant, tmp_path):
    result = commercial_use(_release(tmp_path, variant))["result"]
    read = {f.name: f.value for m in result.licences if m.unidentified for f in m.facts}
    for name, value in variant["facts"].items():
        fact = result.terms.get(name)
        said = fact.value if fact is not None else read.get(name)  # registration is read, not a term of the verdict
        assert str(said).lower() == str(value).lower(), (name, fact, read)


FAILURE_SHAPES = ["unknown-nc-licence-with-notice", "mit-with-academic-clause", "mit-then-community-licence", "unknown-chinese-register-licence",
                  "nc-licence-quoting-apache-notice"]


@pytest.mark.parametrize("case", FAILURE_SHAPES)
def test_the_failure_shapes_answer_their_label_through_the_cli(case, fake_hub, local_checkout):
    folder = Path(__file__).parent / "fixtures" / "repos" / case
    want = yaml.safe_load((folder / "expected.yaml").read_text(encoding="utf-8"))
    repo = yaml.safe_load((folder / "repo.yaml").read_text(encoding="utf-8"))["id"]
    for target in (repo, str(local_checkout(case))):
        result = CliRunner().invoke(audit_model, [target, "--format", "json"])
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["verdict"]["openness"] == want["openness"]
        assert report["terms"]["commercial_use"]["value"] == want["commercial_use"]
