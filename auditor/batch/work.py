"""Auditing one target of a census into its record, whatever happens.

Every error becomes the target's failure record: the auditor's own errors with their exit
codes and messages, anything else as an internal error (exit 70) naming the exception.
Hub targets run inside a request scope carrying the target's deadline; an unchanged repo
(same commit) comes from the cache after its one model-info request.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from auditor import __version__
from auditor.audit import AuditOptions, Auditor
from auditor.batch.cache import ResultCache, cache_directory
from auditor.batch.memo import IdentificationMemo
from auditor.batch.options import BatchOptions
from auditor.errors import AuditorError, explain
from auditor.model import Target, TargetKind
from auditor.once import OncePerKey
from auditor.report.jsonl import audited_record, failed_record
from auditor.sources.hub import HubSource, RequestScope, escaped_name, request_scope
from auditor.sources.interface import CodeHosts, RepoSource, lookups, offline

if TYPE_CHECKING:
    from auditor.identify import KnowledgeBase
    from auditor.judge.policy import Policy

EXIT_POLICY, EXIT_INTERNAL = 1, 70


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


class TargetWork:
    """Audits one target text into a record; thread-safe, shared by the runner's workers."""

    def __init__(self, options: BatchOptions, hub: HubSource, parse_target: Callable[[str, str | None], Target]):
        from auditor.identify import licence_engine
        from auditor.sources.local import LocalSource

        self.options = options
        self.hub = hub
        self.parse_target = parse_target
        self._kb: KnowledgeBase | None = None
        # The pipeline is CPU work under one interpreter lock: running more of it at once than
        # there are cores only multiplies its peak memory. Fetching stays `--jobs` wide.
        self._pipeline_slots = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))
        self._kb_lock = threading.Lock()
        # a Hub target's policy comes from the flags and the current directory: the same for all
        self.hub_policy = self._policy(Target(TargetKind.HUB))
        # each distinct text is identified once per run (and kept with the cache for the next)
        self.memo = IdentificationMemo(cache_directory(options) / "memo" if options.cache else None)
        self.audit_options = AuditOptions(identify=self.memo.identifier(licence_engine(options.licence_engine)),
                                          scan_weights=options.scan_weights)
        self.local = LocalSource()
        self.code_hosts = SharedLinks(_code_hosts()) if options.check_links and not offline() else None
        fingerprint = "|".join(map(str, (__version__, options.licence_engine, options.scan_weights, options.check_links, self.hub_policy)))
        self.cache = ResultCache(options.cache_dir, fingerprint) if options.cache else None

    def _policy(self, target: Target) -> Policy:
        from auditor.judge.policy import Policy, policy_for

        options = self.options
        return policy_for(target, options.policy or Policy(), config_file=options.config_file, from_target=options.config_from_target)

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base, loaded by the first target that needs it (a warm run may not)."""
        with self._kb_lock:
            if self._kb is None:
                from auditor.identify import load_knowledge_base

                self._kb = load_knowledge_base()
            return self._kb

    def __call__(self, text: str) -> dict[str, Any]:
        """The record of auditing `text`: audited, or failed with its exit code and message; never raises."""
        with request_scope(self.options.target_timeout) as scope:
            try:
                return self._audit(text, scope)
            except AuditorError as error:
                message = explain(error, text, self._is_hub(text), bool(self.options.token or os.environ.get("HF_TOKEN")))
                return failed_record(text, error.exit_code, type(error).__name__, message, **_extra(scope))
            except Exception as error:  # noqa: BLE001 - a bug fails its own target, never the batch
                message = f"internal error: {type(error).__name__}: {escaped_name(str(error), 300)}"
                return failed_record(text, EXIT_INTERNAL, "InternalError", message, **_extra(scope))

    def _is_hub(self, text: str) -> bool:
        try:
            return self.parse_target(text, None).kind is TargetKind.HUB
        except Exception:  # noqa: BLE001 - not even a target: not a Hub one
            return False

    def _audit(self, text: str, scope: RequestScope) -> dict[str, Any]:
        from auditor.judge.policy import evaluate

        target = self.parse_target(text, self.options.revision)
        policy = self.hub_policy if target.kind is TargetKind.HUB else self._policy(target)
        if target.kind is TargetKind.HUB and target.repo_id is not None:
            info = self.hub.model_info(target)
            cached = self.cache.get(target.repo_id, info.sha) if self.cache is not None else None
            if cached is not None:
                return {**cached, "target": text, "cached": True, **_extra(scope)}
            snapshot = self.hub.snapshot(target, info)
            with self._pipeline_slots:
                auditor = self._auditor(self.hub)
                result = auditor.audit_snapshot(snapshot)
        else:
            with self._pipeline_slots:
                result = self._auditor(self.local).run(target)
        outcome = evaluate(policy, result, self.kb) if policy else None
        code = EXIT_POLICY if outcome is not None and not outcome.passed else 0
        policy_part = {"policy": outcome.to_dict()} if outcome is not None else {}
        record = audited_record(text, result, code, cached=False, **policy_part, **_extra(scope))
        if self.cache is not None and target.kind is TargetKind.HUB and target.repo_id is not None:
            self.cache.put(target.repo_id, result.sha, record)
        return record

    def _auditor(self, source: RepoSource) -> Auditor:
        """An Auditor over `source`, looking base models and datasets up on the Hub unless told not to."""
        return Auditor(source, self.kb, registry=lookups(self.options.check_links, self.hub), code_hosts=self.code_hosts,
                       options=self.audit_options)


def _extra(scope: RequestScope) -> dict[str, Any]:
    waited = {"waited": round(scope.waited, 3)} if scope.waited > 0 else {}  # on rate limits: the summary adds it up
    return {"retries": scope.retries, "notes": list(scope.notes), **waited}


def _code_hosts() -> CodeHosts:
    from auditor.sources.github import github_from_env

    return github_from_env()
