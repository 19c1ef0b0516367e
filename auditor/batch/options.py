"""What a census run was asked to do: the batch options of the command line, as one value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.sources.interface import DEFAULT_TARGET_TIMEOUT

if TYPE_CHECKING:
    from auditor.judge.policy import Policy
    from auditor.target_run import RunSettings

DEFAULT_JOBS = 8  # concurrent targets: well inside the Hub's anonymous rate limits
PROCESSES_FROM = 200  # with --processes unsaid, a census of this many targets uses a worker process per core


@dataclass(frozen=True)
class BatchOptions:
    """Targets, where to list more, how to run them, and where the records go."""

    targets: tuple[str, ...] = ()
    author: str | None = None
    search: str | None = None
    filters: tuple[str, ...] = ()
    limit: int | None = None
    shard: tuple[int, int] | None = None  # (index from 1, count)
    jobs: int = DEFAULT_JOBS
    target_timeout: float = DEFAULT_TARGET_TIMEOUT
    output_format: str = "jsonl"
    output: str | None = None
    resume: bool = False
    cache: bool = True
    cache_dir: str | None = None
    quiet: bool = False
    revision: str | None = None
    token: str | None = None
    licence_engine: str = "builtin"
    scan_weights: bool | None = None
    check_links: bool = True
    policy: Policy | None = None  # the policy the flags give, or None
    config_file: Path | None = None  # --config: the policy file, else the current directory's
    config_from_target: bool = False  # --config-from-target: a local target's own policy file
    processes: int = 1  # worker processes auditing the targets (1: all in this process; 0: chosen by the run's size)
    scheduler: str | None = None  # a Dask scheduler's address: the cluster's workers audit the targets
    max_rate: float | None = None  # requests per second for the whole run
    hub_repo: str | None = None  # --hub-repo: the Hub repo the local targets mirror
    history: bool = False  # --history: each record's summary says since which commit the terms hold
    since: str | None = None  # --since DATE or REV: where each history starts

    def run_settings(self) -> RunSettings:
        """What each target of the census is audited with: the settings a single run has."""
        from auditor.target_run import PolicyFiles, RunSettings

        return RunSettings(revision=self.revision, token=self.token, licence_engine=self.licence_engine, flags=self.policy,
                           scan_weights=self.scan_weights, check_links=self.check_links,
                           config=PolicyFiles(self.config_file, self.config_from_target), hub_repo=self.hub_repo,
                           history=self.history, since=self.since)

    @property
    def lists_targets(self) -> bool:
        """Whether the run lists its targets from the Hub (--author, --search, --filter)."""
        return bool(self.author or self.search or self.filters)
