"""One target's decision, the same on every path: what to read, the audit, the policy, the exit code.

The single run and a multi-target run (`cli.audit_targets`), every census (`batch.work`, any
format and any `--jobs`) and the GitHub Action (`action.py`) all call `TargetRun`: `plan`
resolves once what a target needs (its policy, whether weights are scanned, which source
and look-ups), `audit` runs the pipeline and `decide` evaluates the policy into the exit
code. No path decides any of these on its own, so none can drift from the others.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.logs import log
from auditor.model import AuditResult, RepoSnapshot, Target, TargetKind
from auditor.once import OncePerKey

if TYPE_CHECKING:
    from auditor.audit import Auditor
    from auditor.identify import KnowledgeBase
    from auditor.judge.policy import Policy, PolicyOutcome
    from auditor.scan.memo import WeightScanMemo
    from auditor.sources.hub import HubSource
    from auditor.sources.interface import CodeHosts, Registry, RepoSource
    from auditor.sources.local import LocalSource

EXIT_OK, EXIT_POLICY = 0, 1


@dataclass(frozen=True)
class PolicyFiles:
    """Where policy files come from: `--config FILE`, else the current directory; the audited
    repo's own file only with `--config-from-target`."""

    file: Path | None = None
    from_target: bool = False

    def __post_init__(self) -> None:
        if self.file is not None and not isinstance(self.file, Path):
            object.__setattr__(self, "file", Path(self.file))


@dataclass(frozen=True)
class RunSettings:
    """What a run was asked, the same for each of its targets: which revision, with what token,
    engine, policy, scanning and look-ups."""

    revision: str | None = None
    token: str | None = None
    licence_engine: str = "builtin"
    flags: Policy | None = None  # the policy the flags give, merged with the policy file per target
    scan_weights: bool | None = None
    check_links: bool = True
    config: PolicyFiles = field(default_factory=PolicyFiles)
    hub_repo: str | None = None  # --hub-repo: the Hub repo a local checkout mirrors
    history: bool = False  # --history: also audit every revision that changed the licence-bearing files
    since: str | None = None  # --since DATE or REV: where the history starts
    default_policy: Policy | None = None  # the policy when neither flags nor a file give one (the Action's)


@dataclass(frozen=True)
class TargetPlan:
    """What one target needs, resolved before it is read: its policy and whether weights are scanned."""

    target: Target
    policy: Policy
    scan_weights: bool | None


@dataclass(frozen=True)
class TargetDecision:
    """One target's audit, its policy outcome (None without a policy) and its exit code."""

    result: AuditResult
    outcome: PolicyOutcome | None
    exit_code: int


class SharedLinks:
    """A code host's licence look-ups shared by every target of a run: each link asked once,
    at most `slots` at a time."""

    def __init__(self, code_hosts: CodeHosts, slots: int = 4):
        self.code_hosts = code_hosts
        self._slots = threading.BoundedSemaphore(slots)
        self._answers = OncePerKey()

    def licence_of(self, url: str) -> str | None:
        """The licence of the code at `url`: asked once, the other askers wait for that answer."""
        return self._answers.get(url, lambda: self._ask(url), wait=lambda: 30.0)

    def _ask(self, url: str) -> str | None:
        try:
            with self._slots:
                return self.code_hosts.licence_of(url)
        except Exception:  # noqa: BLE001 - a link look-up only enriches a report
            return None


def scan_for_policy(scan_weights: bool | None, policy: Policy) -> bool | None:
    """A gate on what only the weight scan finds turns the scan on; turned off explicitly, it cannot pass."""
    from auditor.errors import UsageError
    from auditor.scan.release import SCAN_FINDINGS

    gated = [name for name in policy.fail_on if name in SCAN_FINDINGS]
    if not gated:
        return scan_weights
    if scan_weights is False:
        raise UsageError(f"--no-scan-weights leaves --fail-on {', '.join(gated)} nothing to check: drop one of them")
    return True


class TargetRun:
    """What a run shares between its targets (knowledge base, identifier, sources, look-ups) and
    the one per-target decision. Thread-safe: a census's workers share one."""

    def __init__(self, settings: RunSettings, hub: Callable[[], HubSource],
                 parse_target: Callable[[str, str | None], Target] | None = None):
        from auditor.identify import licence_engine
        from auditor.sources.interface import offline
        from auditor.targets import parse_target as parse_text

        self.settings = settings
        self.parse_target = parse_target or parse_text
        self._hub = hub
        self.identify = licence_engine(settings.licence_engine)
        self.scan_memo: WeightScanMemo | None = None  # a census's weight scans by content (auditor.scan.memo)
        # HF_HUB_OFFLINE=1 turns off GitHub too
        self.code_hosts: CodeHosts | None = SharedLinks(_code_hosts()) if settings.check_links and not offline() else None
        self._lock = threading.Lock()
        self._kb: KnowledgeBase | None = None
        self._local: LocalSource | None = None
        self._shared_policy: Policy | None = None

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base, loaded by the first target that needs it (a census's cached target may not)."""
        with self._lock:
            if self._kb is None:
                from auditor.identify import load_knowledge_base

                self._kb = load_knowledge_base()
            return self._kb

    def shared_policy(self) -> Policy:
        """The policy of every target that does not bring its own: the flags merged with the
        policy file (--config, else the current directory's), whose names the CLI checked up front."""
        from auditor.judge.policy import policy_for

        if self._shared_policy is None:
            config = self.settings.config
            policy = policy_for(Target(TargetKind.HUB), self._flags(), config_file=config.file)
            if policy.origin is not None and (policy.allow or policy.deny):
                from auditor.judge.licence_names import check_licence_names

                check_licence_names(policy.allow, self.kb, where=f"{policy.origin}: allow-licence")
                check_licence_names(policy.deny, self.kb, where=f"{policy.origin}: deny-licence")
            self._shared_policy = policy
        return self._shared_policy

    def _flags(self) -> Policy:
        """The flags' policy; one holding only a waiver is kept too (it sets no rule, so it is falsy)."""
        from auditor.judge.policy import Policy

        return self.settings.flags if self.settings.flags is not None else Policy()

    def policy(self, target: Target) -> Policy:
        """`target`'s policy: the shared one, or a local target's own file with --config-from-target."""
        from auditor.judge.policy import policy_for

        config = self.settings.config
        if config.from_target and target.kind is TargetKind.LOCAL:
            source = self._local_source()
            policy = policy_for(target, self._flags(), config_file=config.file, from_target=True, kb=self.kb,
                                target_files=lambda name: source.read_file(target, name))
        else:
            policy = self.shared_policy()
        return policy or self.settings.default_policy or policy

    def plan(self, text: str) -> TargetPlan:
        """What auditing `text` needs; a bad target or a policy that cannot be met raises."""
        from auditor.sources.hf_cache import cached_target, refuse_cache_root
        from auditor.sources.interface import offline

        target = self.parse_target(text, self.settings.revision)
        if offline():  # HF_HUB_OFFLINE=1: a Hub id is read from the Hugging Face cache, or not at all
            target = cached_target(target)
        refuse_cache_root(target)
        policy = self.policy(target)
        return TargetPlan(target, policy, scan_for_policy(self.settings.scan_weights, policy))

    def source_for(self, target: Target) -> RepoSource:
        """The source that reads `target`; it logs every read when --verbose asks for it."""
        import logging

        from auditor.logs import LoggedSource

        source: RepoSource = self._hub() if target.kind is TargetKind.HUB else self._local_source()
        return LoggedSource(source) if log.isEnabledFor(logging.DEBUG) else source

    def _local_source(self) -> LocalSource:
        with self._lock:
            if self._local is None:
                from auditor.sources.local import LocalSource

                endpoint = os.environ.get("HF_ENDPOINT")
                self._local = LocalSource(hub=self._hub, hub_repo=self.settings.hub_repo,
                                          hub_endpoints=(endpoint,) if endpoint else ())
            return self._local

    def registry_for(self, target: Target) -> Registry | None:
        """Where base models and datasets are looked up: the Hub, also for a local checkout."""
        from auditor.sources.interface import lookups

        refused = lookups(self.settings.check_links, None)  # NoLookups when told not to look up, else None
        if refused is not None or target.kind is not TargetKind.LOCAL:
            return refused  # a Hub target's own source is its registry
        return self._hub()  # built only when a look-up will be made: importing it costs a tenth of a second

    def audit(self, plan: TargetPlan, snapshot: RepoSnapshot | None = None) -> TargetDecision:
        """Audit the planned target (from `snapshot` when the caller fetched it already) and decide."""
        from auditor.audit import AuditOptions, Auditor

        options = AuditOptions(identify=self.identify, scan_weights=plan.scan_weights, scan_memo=self.scan_memo)
        source = self.source_for(plan.target)
        auditor = Auditor(source, self.kb, registry=self.registry_for(plan.target), code_hosts=self.code_hosts, options=options)
        if snapshot is None and plan.target.kind is TargetKind.LOCAL:
            snapshot = _local_snapshot(source, plan.target)
        result = auditor.audit_snapshot(snapshot) if snapshot is not None else auditor.run(plan.target)
        if self.settings.history:
            result = self._with_history(plan.target, result, auditor)
        return self.decide(plan, result)

    def _with_history(self, target: Target, result: AuditResult, auditor: Auditor) -> AuditResult:
        """The result with its licence history, each revision audited by the same auditor (auditor.history)."""
        from auditor.history import parse_since, read_history, with_history

        since = parse_since(self.settings.since) if self.settings.since else None
        source = self._hub() if target.kind is TargetKind.HUB else self._local_source()
        return with_history(result, read_history(target, source, result.sha, since), auditor, since)

    def decide(self, plan: TargetPlan, result: AuditResult) -> TargetDecision:
        """The policy's outcome for `result` and the exit code it gives. A file unsafe to load
        fails the run, as a security scanner fails on what it finds: with no policy by itself,
        and as the `unsafe-to-load` rule added to any policy given, unless the policy waives it
        (`allow-unsafe-to-load`)."""
        from auditor.judge.load_safety import unsafe_to_load
        from auditor.judge.policy import evaluate

        if plan.policy:
            outcome = evaluate(plan.policy.guarding_loads(), result, self.kb)
            return TargetDecision(result, outcome, EXIT_OK if outcome.passed else EXIT_POLICY)
        if plan.policy.allow_unsafe_to_load:
            return TargetDecision(result, None, EXIT_OK)
        unsafe = unsafe_to_load(result)
        for warning in unsafe:
            log.warning("%s: %s", result.target.label, warning.line)
        return TargetDecision(result, None, EXIT_POLICY if unsafe else EXIT_OK)


def _local_snapshot(source: RepoSource, target: Target) -> RepoSnapshot:
    """A local folder's snapshot; one that cannot be read is exit 4 with its path, one holding
    nothing a model release has (no weights, config, tokenizer, licence or card) exit 3."""
    from auditor.classify.classifier import classify
    from auditor.errors import AccessDenied, NotFound
    from auditor.model import Category

    try:
        snapshot = source.fetch(target)
    except PermissionError as error:
        raise AccessDenied(f"{error.filename or target.path}: permission denied") from error
    release = {Category.WEIGHTS, Category.CONFIG, Category.TOKENIZER, Category.LICENCE}
    card = any(entry.path.lower() == "readme.md" for entry in snapshot.files)
    if not card and not any(artefact.category in release for artefact in classify(snapshot.files)):
        what = "an empty folder" if not snapshot.files else f"no model files among its {len(snapshot.files)} file(s)"
        raise NotFound(f"{what}: no weights, config, tokenizer, licence or model card to audit")
    return snapshot


def _code_hosts() -> CodeHosts:
    """Looks up the licences of linked code repositories; AUDITOR_GITHUB_API points it elsewhere."""
    from auditor.sources.github import github_from_env

    return github_from_env()
