"""CycloneDX 1.6 ML-BOM output, built with cyclonedx-python-lib.

The model is a `machine-learning-model` component (purl pkg:huggingface/org/name@sha for Hub
targets) carrying the licences found (SPDX ids as ids, other licences by name; the card's
as "declared", the files' as "concluded"), its base models as pedigree ancestors, and its
weight files as nested `file` components. The training datasets the card names, or that ship
in the repo, are `data` components the model depends on. The library has no model card or
component-data objects yet, so those two parts are added to the serialised JSON, where the
1.6 schema defines them; tests validate the whole document against that schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType, Pedigree
from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.spdx import fixup_id
from packageurl import PackageURL

from auditor import __version__
from auditor.model import AuditResult, Category, LicenceKind, TargetKind
from auditor.report.escape import dump_json
from auditor.report.interface import Outcomes, Renderer, outcome_at
from auditor.report.policy_section import cyclonedx_properties

_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_PREFIX = "audit-model"  # namespace of our custom CycloneDX properties


def _hub_purl(repo_id: str, sha: str | None) -> PackageURL:
    org, _, name = repo_id.partition("/")
    return PackageURL(type="huggingface", namespace=org or None, name=name or org, version=sha)


def _prop(name: str, value: Any) -> Property:
    return Property(name=f"{_PREFIX}:{name}", value=str(value))


def _url(value: str) -> XsUri | None:
    try:
        return XsUri(value)
    except Exception:  # noqa: BLE001 - a malformed link in a card is skipped, not fatal
        return None


class _Model:
    """The parts of one audit as CycloneDX objects, plus the JSON the library cannot express."""

    def __init__(self, result: AuditResult, ref: str):
        self.result = result
        self.ref = ref
        self.datasets = self._datasets()
        self.component = self._component()

    def _component(self) -> Component:
        result, target = self.result, self.result.target
        if target.kind is TargetKind.HUB and target.repo_id:
            org, _, name = target.repo_id.rpartition("/")
            group, purl = org or None, _hub_purl(target.repo_id, result.sha)
            references = [ExternalReference(type=ExternalReferenceType.WEBSITE, url=XsUri(f"{result.hub_endpoint}/{target.repo_id}"))]
            if result.card and result.card.path:
                at = result.sha or target.revision or "main"
                references.append(ExternalReference(
                    type=ExternalReferenceType.MODEL_CARD, url=XsUri(f"{result.hub_endpoint}/{target.repo_id}/blob/{at}/{result.card.path}")))
        else:
            name, group, purl, references = _local_name(target.path), None, None, []
        references += self._links()
        return Component(
            name=name,
            group=group,
            version=result.sha or target.revision,
            type=ComponentType.MACHINE_LEARNING_MODEL,
            bom_ref=self.ref,
            purl=purl,
            licenses=self._licences(),
            external_references=references,
            properties=self._properties(),
            components=self._weight_files(),
            pedigree=self._pedigree(),
        )

    def _licences(self) -> list[DisjunctiveLicense]:
        urls = {s.id: s.url for s in self.result.licence_summaries if s.url}
        seen: dict[tuple[str, LicenseAcknowledgement], DisjunctiveLicense] = {}
        for match in self.result.licences:
            if match.kind is LicenceKind.POLICY:
                continue  # an acceptable-use policy grants nothing; it is a consideration
            ack = LicenseAcknowledgement.DECLARED if match.source.startswith("card:") else LicenseAcknowledgement.CONCLUDED
            key = (match.id, ack)
            if key in seen:
                continue
            spdx = fixup_id(match.spdx) if match.spdx else None
            url = _url(urls[match.id]) if match.id in urls else None
            if spdx:
                seen[key] = DisjunctiveLicense(id=spdx, acknowledgement=ack)
            else:
                seen[key] = DisjunctiveLicense(name=match.name, url=url, acknowledgement=ack)
        return list(seen.values())

    def _links(self) -> list[ExternalReference]:
        references = []
        for paper in self.result.evidence.papers:
            if url := _url(paper):
                references.append(ExternalReference(type=ExternalReferenceType.DOCUMENTATION, url=url, comment="paper"))
        for link in self.result.evidence.code_links:
            if url := _url(link.url):
                purposes = ", ".join(p.value for p in link.purposes) or "code"
                references.append(ExternalReference(type=ExternalReferenceType.VCS, url=url, comment=purposes))
        return references

    def _properties(self) -> list[Property]:
        verdict = self.result.verdict
        props = [_prop("openness", verdict.openness.value), _prop("osaid", verdict.osaid.value), _prop("gated", str(verdict.gated).lower())]
        if verdict.mof_class:
            props.append(_prop("mof_class", verdict.mof_class.value))
        for component in self.result.components.values():
            if component.present and component.licence:
                props.append(_prop(f"licence:{component.name.value}", component.licence))
        for item in self.result.findings:
            props.append(_prop(f"finding:{item.severity.value}", item.code))
        return props

    def _weight_files(self) -> list[Component]:
        files = []
        for artefact in self.result.artefacts:
            if artefact.category is not Category.WEIGHTS:
                continue
            props = [_prop("size", artefact.size)] + ([_prop("format", artefact.format)] if artefact.format else [])
            files.append(Component(name=artefact.path, type=ComponentType.FILE, bom_ref=f"{self.ref}:file:{artefact.path}", properties=props))
        return files

    def _pedigree(self) -> Pedigree | None:
        bases = self.result.evidence.base_models
        if not bases:
            return None
        ancestors = [
            Component(name=base.rpartition("/")[2], group=base.rpartition("/")[0] or None, type=ComponentType.MACHINE_LEARNING_MODEL,
                      bom_ref=f"{self.ref}:base:{base}", purl=_hub_purl(base, None) if _HUB_ID.match(base) else None)
            for base in bases
        ]
        return Pedigree(ancestors=ancestors)

    def _datasets(self) -> list[tuple[Component, dict[str, Any]]]:
        """(component, its componentData JSON) for each named or shipped dataset."""
        found = []
        for name in self.result.evidence.datasets:
            url = name if name.startswith(("http://", "https://")) else (f"{self.result.hub_endpoint}/datasets/{name}" if _HUB_ID.match(name) else None)
            refs = [ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=u) for u in [_url(url) if url else None] if u]
            data = {"type": "dataset", "name": name, **({"contents": {"url": url}} if url else {}),
                    "description": "named in the model card"}
            found.append((Component(name=name, type=ComponentType.DATA, bom_ref=f"dataset:{name}", external_references=refs), data))
        for artefact in self.result.artefacts:
            if artefact.category is Category.TRAINING_DATA:
                ref = f"{self.ref}:data:{artefact.path}"
                data = {"type": "dataset", "name": artefact.path, "description": "shipped in the repository"}
                found.append((Component(name=artefact.path, type=ComponentType.DATA, bom_ref=ref, properties=[_prop("size", artefact.size)]), data))
        return found

    def model_card(self) -> dict[str, Any]:
        """The 1.6 `modelCard` object: parameters, metrics when the card has them, considerations."""
        metadata = dict(self.result.card.metadata) if self.result.card else {}
        evidence = self.result.evidence
        parameters: dict[str, Any] = {}
        if isinstance(metadata.get("pipeline_tag"), str):
            parameters["task"] = metadata["pipeline_tag"]
        family = evidence.model_type or metadata.get("model_type")
        if isinstance(family, str):
            parameters["architectureFamily"] = family
        if evidence.architectures:
            parameters["modelArchitecture"] = ", ".join(evidence.architectures)
        if self.datasets:
            parameters["datasets"] = [{"ref": str(component.bom_ref.value)} for component, _ in self.datasets]
        card: dict[str, Any] = {"bom-ref": f"{self.ref}:model-card"}
        if parameters:
            card["modelParameters"] = parameters
        metrics = list(_performance_metrics(metadata.get("model-index")))
        if metrics:
            card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
        considerations = self._considerations()
        if considerations:
            card["considerations"] = considerations
        extra = [{"name": f"{_PREFIX}:library_name", "value": str(metadata["library_name"])}] if metadata.get("library_name") else []
        extra += [{"name": f"{_PREFIX}:parameters", "value": str(s.parameters)} for s in self.result.weight_sets[:1] if s.parameters]
        if extra:
            card["properties"] = extra
        return card

    def _considerations(self) -> dict[str, Any]:
        risks = [
            {"name": f"{m.name} applies ({m.source})", "mitigationStrategy": "Use the model only for purposes the policy allows."}
            for m in self.result.licences if m.kind is LicenceKind.POLICY
        ]
        for summary in self.result.licence_summaries:
            for fact in summary.facts:
                if fact.name == "use_restrictions" and fact.value not in ("none", "no", "False"):
                    risks.append({"name": f"{summary.name}: use restrictions: {fact.value}"})
        limitations = [f.message for f in self.result.findings if f.code in ("unsafe-pickle", "remote-code", "pickle-weights")]
        considerations: dict[str, Any] = {}
        if risks:
            considerations["ethicalConsiderations"] = risks
        if limitations:
            considerations["technicalLimitations"] = limitations
        return considerations


def _local_name(path: str | None) -> str:
    """The directory's own name, also for "." and "..", which is what a reader knows it by."""
    return Path(path).resolve().name if path else "model"


def _model_refs(results: Sequence[AuditResult]) -> list[str]:
    """A bom-ref per model from its Hub id or directory name: readable, and unique in a batch."""
    refs: list[str] = []
    for result in results:
        base = f"model:{result.target.repo_id or _local_name(result.target.path)}"
        ref, n = base, 1
        while ref in refs:
            n += 1
            ref = f"{base}#{n}"
        refs.append(ref)
    return refs


def _performance_metrics(model_index: Any) -> Iterable[dict[str, str]]:
    """Metrics from the card's `model-index` (the Hub's evaluation results format)."""
    if not isinstance(model_index, list):
        return
    for entry in model_index:
        for outcome in (entry.get("results") or []) if isinstance(entry, dict) else []:
            if not isinstance(outcome, dict):
                continue
            dataset = outcome.get("dataset")
            if not isinstance(dataset, dict):
                dataset = {}
            for metric in outcome.get("metrics") or []:
                if isinstance(metric, dict) and metric.get("value") is not None:
                    item = {"type": str(metric.get("type") or metric.get("name") or "metric"), "value": str(metric["value"])}
                    if dataset.get("name") or dataset.get("type"):
                        item["slice"] = str(dataset.get("name") or dataset.get("type"))
                    yield item


def _by_ref(components: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    found: dict[str | None, dict[str, Any]] = {}
    for component in components:
        found[component.get("bom-ref")] = component
        found.update(_by_ref(component.get("components") or []))
    return found


def build_bom(results: Sequence[AuditResult], failures: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """The CycloneDX 1.6 document for one or more audits, as a JSON-ready dict."""
    bom = Bom()
    bom.metadata.tools.components.add(Component(name="audit-model", version=__version__, type=ComponentType.APPLICATION))
    for target, message in failures:
        bom.metadata.properties.add(_prop("not-audited", f"{target}: {message}"))
    models = [_Model(result, ref) for result, ref in zip(results, _model_refs(results), strict=True)]
    data: dict[str | None, dict[str, Any]] = {}
    for model in models:
        bom.components.add(model.component)
        for component, component_data in model.datasets:
            if component.bom_ref.value not in data:  # two models may name the same dataset
                bom.components.add(component)
                data[component.bom_ref.value] = component_data
        depends = {component.bom_ref.value: component for component in bom.components}
        bom.register_dependency(model.component, [depends[c.bom_ref.value] for c, _ in model.datasets])
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    index = _by_ref(document.get("components") or [])
    for model in models:
        index[model.ref]["modelCard"] = model.model_card()
    for ref, component_data in data.items():
        index[ref]["data"] = [component_data]
    return document


class CycloneDxRenderer(Renderer):
    """The audit as a CycloneDX 1.6 ML-BOM."""

    def render(self, result: AuditResult) -> str:
        """One audit as a CycloneDX BOM."""
        return self.render_batch([result])

    def render_batch(self, results: Sequence[AuditResult], failures: Sequence[tuple[str, str]] = (),
                     outcomes: Outcomes = ()) -> str:
        """One BOM for all audits, failures as metadata properties, policy outcomes on each model."""
        document = build_bom(results, failures)
        models = [c for c in document.get("components", []) if c.get("type") == "machine-learning-model"]
        for index, model in enumerate(models):
            outcome = outcome_at(outcomes, index)
            if outcome:
                model.setdefault("properties", []).extend(cyclonedx_properties(outcome))
        return dump_json(document)
