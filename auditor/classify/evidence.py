"""Read what the card and configs say about the release: datasets, papers, code, base models.

Pure: works on the parsed card and the already-read config texts. A link's purpose comes
from the words on its own line (and the heading above it), so "Core repo (training,
inference)" marks training code while a bare "GitHub" link marks nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from auditor.bounded import load_json
from auditor.card import metadata_list
from auditor.model import CodeLink, ModelCard, Purpose, ReleaseEvidence
from auditor.yamlfile import load_yaml

_URL = re.compile(r"https?://[^\s)\]>\"'`]+")
_ARXIV = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})", re.I)
_PAPER_HOSTS = re.compile(r"arxiv\.org/|doi\.org/|aclanthology\.org/|openreview\.net/|papers\.nips\.cc/|proceedings\.", re.I)
_CODE_REPO = re.compile(r"^https?://(?:www\.)?(github\.com|gitlab\.com|codeberg\.org)/([\w.-]+)/([\w.-]+)", re.I)
_HF_DATASET = re.compile(r"huggingface\.co/datasets/([\w.-]+/[\w.-]+)", re.I)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*)$")
_PURPOSE_WORDS: tuple[tuple[Purpose, re.Pattern[str]], ...] = (
    (Purpose.TRAINING, re.compile(r"\b(train(ing)?|pre-?train\w*|fine-?tun\w*|recipe)\b", re.I)),
    (Purpose.INFERENCE, re.compile(r"\b(inference|usage|serving|deploy\w*|run(ning)?)\b", re.I)),
    (Purpose.EVALUATION, re.compile(r"\b(eval\w*|benchmark\w*)\b", re.I)),
    (Purpose.DATA_PROCESSING, re.compile(r"\b(data ?(processing|pipeline|curation|prep\w*)|dedup\w*|filter\w*)\b", re.I)),
)
_DATA_HEADING = re.compile(r"\b(training data|pre-?training data|data ?set|training corpus|data card)\b", re.I)
_EVAL_HEADING = re.compile(r"\b(evaluation|results|benchmarks?)\b", re.I)
_CHECKPOINTS = re.compile(r"\bintermediate checkpoints?\b|\bcheckpoints? (are|is) (available|released)\b", re.I)
_PAPER_WORDS = re.compile(r"\b(paper|technical report|tech report|preprint)\b", re.I)
# Dataset names that say nothing about where to get the data.
_VAGUE_DATASETS = {"unknown", "custom", "private", "proprietary", "internal", "n/a", "none", "other"}


@lru_cache(maxsize=1)
def _libraries() -> frozenset[str]:
    text = resources.files("auditor.classify").joinpath("code_links.yaml").read_text(encoding="utf-8")
    return frozenset(name.lower() for name in load_yaml(text)["libraries"])


def _purposes(text: str) -> tuple[Purpose, ...]:
    return tuple(purpose for purpose, words in _PURPOSE_WORDS if words.search(text))


def _code_links(body: str) -> tuple[CodeLink, ...]:
    links: dict[str, CodeLink] = {}
    heading = ""
    for line in body.splitlines():
        heading_match = _HEADING.match(line)
        if heading_match:
            heading = heading_match.group(1)
        for url in _URL.findall(line):
            repo = _CODE_REPO.match(url)
            if not repo:
                continue
            owner, name = repo.group(2), repo.group(3).removesuffix(".git")
            if owner.lower() in {"sponsors", "orgs", "features", "topics"}:
                continue
            canonical = f"https://{repo.group(1).lower()}/{owner}/{name}"
            purposes = _purposes(f"{heading} {line}")
            known = links.get(canonical)
            if known:
                purposes = tuple(dict.fromkeys(known.purposes + purposes))
            library = f"{owner}/{name}".lower() in _libraries()
            links[canonical] = CodeLink(url=canonical, purposes=purposes, context=line.strip()[:200], library=library)
    return tuple(links.values())


def _papers(card: ModelCard) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for line in card.body.splitlines():
        for url in _URL.findall(line):
            if _PAPER_HOSTS.search(url) or (url.lower().endswith(".pdf") and _PAPER_WORDS.search(line)):
                found[url.rstrip(".,;")] = None
    for tag in metadata_list(card.metadata, "tags"):
        if tag.lower().startswith("arxiv:"):
            found[f"https://arxiv.org/abs/{tag.split(':', 1)[1]}"] = None
    # one entry per arXiv id, however it was linked
    unique: dict[str, str] = {}
    for url in found:
        arxiv = _ARXIV.search(url)
        unique.setdefault(arxiv.group(1) if arxiv else url, url)
    return tuple(unique.values())


def _datasets(card: ModelCard) -> tuple[str, ...]:
    names = [d for d in metadata_list(card.metadata, "datasets") if d.lower() not in _VAGUE_DATASETS]
    names += _HF_DATASET.findall(card.body)
    return tuple(dict.fromkeys(names))


def _headings(body: str) -> list[str]:
    return [m.group(1) for m in map(_HEADING.match, body.splitlines()) if m]


def _configs(texts: Mapping[str, str]) -> list[dict]:
    """Every config.json that parses, the top-level one first."""
    found = []
    for path in sorted((p for p in texts if p.rsplit("/", 1)[-1] == "config.json"), key=lambda p: (p.count("/"), p)):
        try:
            config = load_json(texts[path])
        except ValueError:
            continue
        if isinstance(config, dict):
            found.append(config)
    return found


def _architecture(configs: list[dict]) -> tuple[str | None, tuple[str, ...]]:
    for config in configs:
        model_type = config.get("model_type")
        architectures = config.get("architectures")
        if model_type or architectures:
            names = tuple(str(a) for a in architectures) if isinstance(architectures, list) else ()
            return (str(model_type) if model_type else None), names
    return None, ()


def _remote_code(configs: list[dict]) -> tuple[str, ...]:
    modules: list[str] = []
    for config in configs:
        auto_map = config.get("auto_map")
        if isinstance(auto_map, dict):
            for target in auto_map.values():
                for ref in target if isinstance(target, list) else [target]:
                    if isinstance(ref, str) and ref:
                        modules.append(ref.split("--")[-1].rsplit(".", 1)[0] + ".py")
    return tuple(dict.fromkeys(modules))


def gather_evidence(card: ModelCard | None, texts: Mapping[str, str]) -> ReleaseEvidence:
    """Stage entry point: what the card and the read texts say of code, data, base models and papers."""
    configs = _configs(texts)
    remote = _remote_code(configs)
    model_type, architectures = _architecture(configs)
    if card is None:
        return ReleaseEvidence(remote_code=remote, model_type=model_type, architectures=architectures)
    headings = _headings(card.body)
    return ReleaseEvidence(
        datasets=_datasets(card),
        papers=_papers(card),
        code_links=_code_links(card.body),
        remote_code=remote,
        base_models=metadata_list(card.metadata, "base_model"),
        model_type=model_type,
        architectures=architectures,
        evaluation_results=bool(card.metadata.get("model-index")) or any(_EVAL_HEADING.search(h) for h in headings),
        data_description=any(_DATA_HEADING.search(h) for h in headings),
        intermediate_checkpoints=bool(_CHECKPOINTS.search(card.body)),
    )
