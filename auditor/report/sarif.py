"""SARIF 2.1.0 output, for code-scanning dashboards such as GitHub's.

One run per audited target. Every declared finding code (auditor/findings.yaml) is a rule;
every finding is a result with that rule id, its level, its message and at least one
location in the repository: the evidence file when it is a repo file, the model card for
card fields ("card:license") and for findings about the release as a whole, because the
card is where those are fixed. The verdict travels as a run-level property. `info` findings
are left out unless asked for (`include_info`): code scanning shows every result as an alert.
In a batch every location also names its target: a `uriBaseId` the run maps to the target's
root, and the target's label in the location's properties.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from auditor import __version__
from auditor.findings import declared
from auditor.model import AuditResult, Finding, Severity, TargetKind
from auditor.report.escape import dump_json
from auditor.report.interface import Outcomes, Renderer, outcome_at
from auditor.report.json_report import verdict_dict

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_CARD = "README.md"
_TARGET_BASE = "TARGETROOT"  # in a batch, each run maps this to its own target's root


def _information_uri() -> str | None:
    """The project's home page from the installed package's metadata, when it declares one."""
    try:
        urls = metadata.metadata("audit-model").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "home", "source", "repository", "documentation"):
            return url.strip()
    return None


def _rules() -> list[dict[str, Any]]:
    rules = []
    for code, spec in declared().items():
        rules.append({
            "id": code,
            "name": "".join(part.capitalize() for part in code.split("-")),
            "shortDescription": {"text": spec["title"]},
            "help": {"text": spec["help"]},
            "defaultConfiguration": {"level": _LEVELS[Severity(spec["severity"])]},
        })
    return rules


class SarifRenderer(Renderer):
    """`uri_prefix` is prepended to every location, for a target audited from a subdirectory
    of the repository the SARIF is uploaded for (e.g. "models/small/"); `include_info` keeps
    the `info` findings, which are left out by default."""

    def __init__(self, uri_prefix: str = "", include_info: bool = False):
        prefix = uri_prefix.strip("/")
        self.uri_prefix = f"{prefix}/" if prefix and prefix != "." else ""
        self.include_info = include_info

    def render(self, result: AuditResult) -> str:
        """One audit as a SARIF log of one run."""
        return self.render_batch([result])

    def render_batch(self, results: Sequence[AuditResult], failures: Sequence[tuple[str, str]] = (),
                     outcomes: Outcomes = ()) -> str:
        """One run per audit, failures as tool notifications, each run's policy outcome as a property."""
        runs = [self.run(result, categorise=len(results) > 1) for result in results]
        for index, run in enumerate(runs):
            outcome = outcome_at(outcomes, index)
            if outcome:
                run.setdefault("properties", {})["policy"] = outcome.to_dict()
        if failures:
            notifications = [
                {"level": "error", "message": {"text": f"{target}: not audited: {message}"}}
                for target, message in failures
            ]
            if not runs:
                runs.append(self._empty_run())
            runs[-1]["invocations"][0]["toolExecutionNotifications"] = notifications
            runs[-1]["invocations"][0]["executionSuccessful"] = False
        log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": runs}
        return dump_json(log)

    def _driver(self) -> dict[str, Any]:
        driver: dict[str, Any] = {"name": "audit-model", "version": __version__, "semanticVersion": __version__}
        uri = _information_uri()
        if uri:
            driver["informationUri"] = uri
        driver["rules"] = _rules()
        return driver

    def _empty_run(self) -> dict[str, Any]:
        return {"tool": {"driver": self._driver()}, "invocations": [{"executionSuccessful": True}], "results": []}

    def run(self, result: AuditResult, categorise: bool = False) -> dict[str, Any]:
        """The SARIF run of one audit; `categorise` names it, so several runs can share one log."""
        run = self._empty_run()
        rule_index = {rule["id"]: i for i, rule in enumerate(run["tool"]["driver"]["rules"])}
        seen: dict[str, int] = {}
        findings = [f for f in result.findings if self.include_info or f.severity is not Severity.INFO]
        run["results"] = [self._result(result, item, rule_index, seen, categorise) for item in findings]
        target = result.target
        if target.kind is TargetKind.HUB and target.repo_id:
            provenance: dict[str, Any] = {"repositoryUri": f"{result.hub_endpoint}/{target.repo_id}"}
            if result.sha:
                provenance["revisionId"] = result.sha
            if target.revision:
                provenance["branch"] = target.revision
            run["versionControlProvenance"] = [provenance]
        if categorise:
            run["automationDetails"] = {"id": f"audit-model/{target.repo_id or target.path}/"}
            run["originalUriBaseIds"] = {_TARGET_BASE: {"uri": _root_uri(result)}}
        run["properties"] = {"target": target.label, "sha": result.sha, "verdict": verdict_dict(result.verdict)}
        return run

    def _result(self, result: AuditResult, item: Finding, rule_index: dict[str, int], seen: dict[str, int],
                in_batch: bool = False) -> dict[str, Any]:
        locations = self._locations(result, item)
        if in_batch:
            for location in locations:
                location["physicalLocation"]["artifactLocation"]["uriBaseId"] = _TARGET_BASE
                location["properties"] = {"target": result.target.label}
        entry: dict[str, Any] = {
            "ruleId": item.code,
            "level": _LEVELS[item.severity],
            "message": {"text": item.message},
            "locations": locations,
        }
        if item.code in rule_index:
            entry["ruleIndex"] = rule_index[item.code]
        # A fingerprint from the rule and its place, not the message (which carries counts and
        # sizes), so a dashboard keeps tracking the same alert from one audit to the next.
        primary = locations[0]["physicalLocation"]["artifactLocation"]["uri"]
        key = f"{item.code}|{primary}"
        seen[key] = seen.get(key, 0) + 1
        digest = hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:32]
        entry["partialFingerprints"] = {"auditModelFinding/v1": digest}
        return entry

    def _locations(self, result: AuditResult, item: Finding) -> list[dict[str, Any]]:
        card = (result.card.path if result.card and result.card.path else None) or _CARD
        # Licence sources other than card fields are files the fetcher read from the repo.
        repo_files = {a.path for a in result.artefacts} | {s.path for s in result.unread}
        repo_files |= {m.source for m in result.licences if not m.source.startswith("card:")}
        spans = {m.source: m.span for m in result.licences if m.span}
        paths: list[str] = []
        for evidence in item.evidence:
            if evidence.startswith("card:"):
                paths.append(card)
            elif evidence in repo_files:
                paths.append(evidence)
        if not paths:
            paths.append(card)
        locations = []
        for path in dict.fromkeys(paths):
            physical: dict[str, Any] = {"artifactLocation": {"uri": self.uri_prefix + _uri_path(path)}}
            span = spans.get(path)
            if span:
                physical["region"] = {"startLine": span[0], "endLine": span[1]}
            locations.append({"physicalLocation": physical})
        return locations


def _uri_path(path: str) -> str:
    """A repo path as a relative URI reference: spaces and other reserved characters escaped
    (the bytes of an undecodable file name percent-encoded as they are)."""
    return quote(path, safe="/-._~", errors="surrogateescape")


def _root_uri(result: AuditResult) -> str:
    """The absolute URI of the audited target's root, that batch locations resolve against."""
    target = result.target
    if target.kind is TargetKind.HUB and target.repo_id:
        return f"{result.hub_endpoint}/{quote(target.repo_id)}/blob/{quote(result.sha or target.revision or 'main', safe='')}/"
    return Path(target.path or ".").resolve().as_uri().rstrip("/") + "/"
