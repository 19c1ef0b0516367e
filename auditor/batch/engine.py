"""What audits a census's targets, wherever they run: the Hub client and the per-target work.

`census_work` builds them the same way in the census's own process, in each worker process
(auditor.batch.processes) and on each worker of a cluster (auditor.batch.cluster): a Hub client
sized for `jobs` concurrent targets, with the cache directory's blob store and a rate budget
of `max_rate` requests per second, and the TargetWork that audits one target into its record.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from auditor.batch.options import BatchOptions

if TYPE_CHECKING:
    from auditor.batch.work import TargetWork
    from auditor.sources.hub import HubSource


def census_work(options: BatchOptions, parse_target: Callable[[str, str | None], Any], jobs: int,
                max_rate: float | None = None, on_pause: Callable[[float], None] | None = None,
                heard: Callable[[], float] | None = None) -> tuple[TargetWork, HubSource]:
    """The per-target work of a census and the Hub client under it (close it when done)."""
    from auditor.batch.work import TargetWork
    from auditor.sources.budget import RateBudget
    from auditor.sources.hub import HubSource
    from auditor.sources.hub_history import HubHistorySource

    kind = HubHistorySource if options.history else HubSource  # --history reads many revisions, each blob once
    hub = kind(endpoint=os.environ.get("HF_ENDPOINT") or None, token=options.token,
               workers=max(4, jobs), api_slots=max(4, jobs))
    hub.http.budget = RateBudget(max_rate, on_pause=on_pause, heard=heard)
    if options.cache:
        from auditor.batch.cache import cache_directory
        from auditor.sources.blobs import BlobStore

        hub.blobs = BlobStore(cache_directory(options) / "blobs")
    return TargetWork(options, hub, parse_target), hub
