"""Auditing one target of a census into its record, whatever happens.

Every error becomes the target's failure record: the auditor's own errors with their exit
codes and messages, anything else as an internal error (exit 70) naming the exception.
Hub targets run inside a request scope carrying the target's deadline; an unchanged repo
(same commit) comes from the cache after its one model-info request.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from auditor import __version__
from auditor.batch.cache import ResultCache, cache_directory
from auditor.batch.memo import IdentificationMemo
from auditor.batch.options import BatchOptions
from auditor.batch.scan_memo import ScanMemo
from auditor.errors import AuditorError
from auditor.model import Target, TargetKind
from auditor.report.jsonl import audited_record, failed_record
from auditor.sources.hub import HubSource, RequestScope, escaped_name, request_scope
from auditor.target_run import SharedLinks, TargetRun
from auditor.targets import explain, listed_id

if TYPE_CHECKING:
    from auditor.identify import KnowledgeBase

EXIT_INTERNAL = 70
__all__ = ["SharedLinks", "TargetWork"]


class TargetWork:
    """Audits one target text into a record; thread-safe, shared by the runner's workers.

    What a target needs and what it decides come from the one per-target run
    (auditor.target_run) the single run and the Action use too; this adds only the census's
    own: the request scope, the result cache and the record."""

    def __init__(self, options: BatchOptions, hub: HubSource, parse_target: Callable[[str, str | None], Target]):
        self.options = options
        self.hub = hub
        self.parse_target = parse_target
        self.run = TargetRun(options.run_settings(), lambda: hub, parse_target)
        # The pipeline is CPU work under one interpreter lock: running more of it at once than
        # there are cores only multiplies its peak memory. Fetching stays `--jobs` wide.
        self._pipeline_slots = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))
        # each distinct text is identified once per run (and kept with the cache for the next)
        self.memo = IdentificationMemo(cache_directory(options) / "memo" if options.cache else None)
        self.run.identify = self.memo.identifier(self.run.identify)
        # each distinct weight file's header or pickle is scanned once per run (and kept for the next)
        self.run.scan_memo = ScanMemo(cache_directory(options) / "memo-scans" if options.cache else None)
        self.code_hosts = self.run.code_hosts
        fingerprint = "|".join(map(str, (__version__, options.licence_engine, options.scan_weights, options.check_links,
                                         self.run.shared_policy(), options.history, options.since)))
        self.cache = ResultCache(options.cache_dir, fingerprint) if options.cache else None
        # what a census file's records carry, so --resume refuses a file written under other options
        self.run_id = hashlib.sha256("|".join(map(str, (fingerprint, options.revision, options.hub_repo))).encode()).hexdigest()[:16]

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base, loaded by the first target that needs it (a warm run may not)."""
        return self.run.kb

    def __call__(self, text: str) -> dict[str, Any]:
        """The record of auditing `text`: audited, or failed with its exit code and message; never raises."""
        with request_scope(self.options.target_timeout) as scope:
            try:
                return self._audit(text, scope)
            except AuditorError as error:
                message = explain(error, text, self._is_hub(text), bool(self.options.token or os.environ.get("HF_TOKEN")),
                                  listed=listed_id(self.parse_target, text))
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
        plan = self.run.plan(text)
        target = plan.target
        if target.kind is TargetKind.HUB and target.repo_id is not None:
            info = self.hub.model_info(target)
            cached = self.cache.get(target.repo_id, info.sha) if self.cache is not None else None
            if cached is not None:
                return {**cached, "target": text, "cached": True, **_extra(scope)}
            snapshot = self.hub.snapshot(target, info)
            with self._pipeline_slots:
                decision = self.run.audit(plan, snapshot)
        else:
            with self._pipeline_slots:
                decision = self.run.audit(plan)
        policy_part = {"policy": decision.outcome.to_dict()} if decision.outcome is not None else {}
        record = audited_record(text, decision.result, decision.exit_code, cached=False, **policy_part, **_extra(scope))
        if self.cache is not None and target.kind is TargetKind.HUB and target.repo_id is not None:
            self.cache.put(target.repo_id, decision.result.sha, record)
        return record


def _extra(scope: RequestScope) -> dict[str, Any]:
    waited = {"waited": round(scope.waited, 3)} if scope.waited > 0 else {}  # on rate limits: the summary adds it up
    return {"retries": scope.retries, "notes": list(scope.notes), **waited}
