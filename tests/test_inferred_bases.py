"""Which licence a well-known base model is under, inferred from its repo id by the knowledge
base's own model patterns (each profile's `models`), for when the base cannot be looked up."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import audit_model
from auditor.identify import load_knowledge_base
from auditor.judge.lineage import inferred_licences
from auditor.model import LicenceKind

KB = load_knowledge_base()


def test_every_model_pattern_belongs_to_a_licence_profile_and_compiles():
    patterns = [(p, pattern) for p in KB for pattern in p.models]
    assert len(patterns) >= 80
    for profile, pattern in patterns:
        assert KB.get(profile.id) is profile and profile.kind is LicenceKind.LICENCE
        assert re.compile(pattern) and "/" in pattern, (profile.id, pattern)


# Each row: a repo id and the licence its own card and licence file declare (read by hand on the Hub).
@pytest.mark.parametrize(("repo_id", "licence"), [
    ("meta-llama/Llama-2-7b-hf", "llama2"),
    ("meta-llama/CodeLlama-7b-hf", "llama2"),
    ("codellama/CodeLlama-34b-Instruct-hf", "llama2"),
    ("meta-llama/Meta-Llama-3-8B-Instruct", "llama3"),
    ("meta-llama/Llama-3.1-8B", "llama3.1"),
    ("meta-llama/Meta-Llama-3.1-70B-Instruct", "llama3.1"),
    ("meta-llama/Llama-3.2-1B", "llama3.2"),
    ("meta-llama/Llama-3.3-70B-Instruct", "llama3.3"),
    ("meta-llama/Llama-4-Scout-17B-16E", "llama4"),
    ("google/gemma-7b", "gemma-2024"),
    ("google/gemma-2-9b-it", "gemma-2024"),
    ("google/gemma-3-27b-it", "gemma"),
    ("Qwen/Qwen-7B-Chat", "tongyi-qianwen"),
    ("Qwen/Qwen-1_8B", "tongyi-qianwen-research"),
    ("Qwen/Qwen2-72B-Instruct", "tongyi-qianwen"),
    ("Qwen/Qwen2-7B-Instruct", "apache-2.0"),
    ("Qwen/Qwen2.5-7B-Instruct", "apache-2.0"),
    ("Qwen/Qwen2.5-72B-Instruct", "qwen"),
    ("Qwen/Qwen2.5-3B", "qwen-research"),
    ("Qwen/Qwen2.5-Coder-3B-Instruct", "qwen-research"),
    ("Qwen/Qwen3-8B", "apache-2.0"),
    ("microsoft/phi-2", "mit"),
    ("microsoft/Phi-3-mini-4k-instruct", "mit"),
    ("microsoft/phi-4", "mit"),
    ("tiiuae/falcon-7b", "apache-2.0"),
    ("tiiuae/falcon-180B", "falcon-180b-tii-1.0"),
    ("tiiuae/falcon-11B", "falcon-2-11b-tii-1.0"),
    ("tiiuae/Falcon3-7B-Instruct", "falcon-llm-license"),
    ("mistralai/Mistral-7B-v0.1", "apache-2.0"),
    ("mistralai/Mixtral-8x7B-Instruct-v0.1", "apache-2.0"),
    ("mistralai/Mistral-Large-Instruct-2407", "mrl-0.1"),
    ("mistralai/Codestral-22B-v0.1", "mnpl-0.1"),
    ("stabilityai/stable-diffusion-xl-base-1.0", "openrail++"),
    ("stabilityai/stable-diffusion-xl-base-0.9", "sdxl-0.9-research"),
    ("stabilityai/stable-diffusion-xl-refiner-0.9", "sdxl-0.9-research"),
    ("stabilityai/sdxl-turbo", "stability-ai-non-commercial-research"),
    ("stabilityai/stable-diffusion-3.5-large", "stability-ai-community"),
    ("stabilityai/stable-video-diffusion-img2vid-xt", "stable-video-diffusion-nc-community"),
    ("black-forest-labs/FLUX.1-schnell", "apache-2.0"),
    ("black-forest-labs/FLUX.1-dev", "flux-1-dev-non-commercial-1.1.1"),
    ("THUDM/chatglm3-6b", "chatglm3"),
    ("THUDM/glm-4-9b-chat", "glm-4"),
    ("THUDM/CogVideoX-5b", "cogvideox"),
    ("deepseek-ai/deepseek-coder-6.7b-instruct", "deepseek"),
    ("deepseek-ai/DeepSeek-V3", "deepseek"),
    ("deepseek-ai/DeepSeek-V3-0324", "mit"),
    ("deepseek-ai/DeepSeek-R1", "mit"),
    ("openai/gpt-oss-20b", "apache-2.0"),
])
def test_a_well_known_base_is_inferred_from_its_id(repo_id, licence):
    assert inferred_licences(repo_id, KB) == (licence,)


@pytest.mark.parametrize("repo_id", ["someone/llama-3.1-8b-finetune", "meta-llama", "google/flan-t5-base", "Qwen", "mistralai/unknown-model-x"])
def test_an_id_no_profile_names_infers_nothing(repo_id):
    assert inferred_licences(repo_id, KB) == ()


def test_where_patterns_overlap_the_strictest_terms_win():
    # Qwen2.5-72B matches the Qwen2.5 family (Apache-2.0) and its own Qwen licence
    assert {p.id for p in KB.licences_of_model("Qwen/Qwen2.5-72B")} == {"apache-2.0", "qwen"}
    assert inferred_licences("Qwen/Qwen2.5-72B", KB) == ("qwen",)


def test_an_unreadable_sdxl_0_9_base_is_inferred_to_be_its_research_licence_through_the_cli(fake_hub, local_checkout, monkeypatch):
    repo = yaml.safe_load((Path(__file__).parent / "fixtures" / "repos" / "sdxl09-lora" / "repo.yaml").read_text())["id"]
    for target, offline in ((repo, False), (str(local_checkout("sdxl09-lora")), True)):
        if offline:
            monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        result = CliRunner().invoke(audit_model, [target, "--format", "json"])
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        base = {a["repo_id"]: a for a in report["lineage"]}["stabilityai/stable-diffusion-xl-base-0.9"]
        assert (base["licences"], base["licence_source"]) == (["sdxl-0.9-research"], "inferred from its id")
        assert report["verdict"]["openness"] == "non-commercial" and report["terms"]["commercial_use"]["value"] == "no"
