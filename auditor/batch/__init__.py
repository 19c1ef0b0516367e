"""Audits at Hub scale: many targets, concurrently, streamed, resumable, bounded in time.

`run_census(options)` lists and shards the targets, audits them on `--jobs` threads
(auditor.batch.runner), writes one JSON line per target as it finishes (auditor.batch.stream)
and renders the chosen format from that stream: the JSONL itself, CSV rows, the markdown
census summary or one JSON document. One failing target is one failure line; the exit
code is the highest of all targets'.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, NoReturn

from auditor.batch.options import DEFAULT_JOBS, PROCESSES_FROM, BatchOptions
from auditor.batch.targets import HubIdsAsHub, in_shard, parse_shard, target_key, unique
from auditor.errors import HubUnreachable, NotFound, UsageError
from auditor.targets import FileTargets

if TYPE_CHECKING:
    from auditor.batch.runner import Runner
    from auditor.batch.stream import RecordStream
    from auditor.batch.work import TargetWork

_SignalHandler = Callable[[int, FrameType | None], Any] | int | None  # what signal.signal returns

STREAMED_FORMATS = ("jsonl", "csv", "markdown", "json")
EXIT_INTERRUPTED = 130  # Ctrl-C; SIGTERM is 143 (128 + its number)

__all__ = ["DEFAULT_JOBS", "BatchOptions", "STREAMED_FORMATS", "parse_shard", "run_census"]


def run_census(options: BatchOptions, parse_target: Callable[[str, str | None], Any]) -> int:
    """Audit every target of `options` and write the report; returns the exit code."""
    from auditor.batch.engine import census_work
    from auditor.batch.progress import Progress
    from auditor.batch.stream import RecordStream

    if options.output_format not in STREAMED_FORMATS:
        raise UsageError(f"a census writes {', '.join(STREAMED_FORMATS)}, not {options.output_format}")
    if options.limit and not options.lists_targets:
        raise UsageError("--limit goes with --author, --search or --filter")
    if options.resume and not (options.output and options.output_format == "jsonl"):
        raise UsageError("--resume continues a JSONL file: give --format jsonl and --output FILE")
    targets = list(options.targets)
    listed: frozenset[str] = frozenset()
    if options.lists_targets:
        ids = _listed_ids(options)
        if not ids and not targets:
            raise NotFound(f"the Hub lists no model for {_listing(options)}: nothing to audit")
        listed = frozenset(ids) - set(targets)
        targets += ids
    hub_only = listed | (parse_target.hub_lines if isinstance(parse_target, FileTargets) else frozenset())
    targets = [t for t in unique(targets, hub_only) if in_shard(t, options.shard)]
    parse = HubIdsAsHub(parse_target, listed)  # a listed id is a Hub repo, never a folder of that name
    work, hub = census_work(options, parse, options.jobs, options.max_rate)
    if options.output_format == "jsonl":
        stream, done = RecordStream.to_file(options.output, options.resume, work.run_id) if options.output else (RecordStream.to_stdout(), {})
    else:
        stream, done = RecordStream.spool(), {}
    done_keys = {target_key(t, t in hub_only) for t in done}
    todo = [t for t in targets if t not in done and target_key(t, t in hub_only) not in done_keys]
    progress = Progress(len(todo), quiet=options.quiet, retries=lambda: hub.retries_total)
    give_up_after = options.target_timeout * 1.5 + 5 if options.target_timeout else None
    runner = _runner(options, parse, work, len(todo), give_up_after, progress.tick)
    exit_code = max((done[t] for t in targets if t in done), default=0)  # a resumed run answers for the whole file
    previous = None
    try:
        previous = _stop_on_sigterm()
        stopped = 0
        try:
            for record in runner.run(todo):
                stream.write(record)
                exit_code = max(exit_code, int(record.get("exit_code") or 0))
                progress.finished(record)
        except KeyboardInterrupt:
            stopped = EXIT_INTERRUPTED
        except Terminated as signal:
            stopped = signal.code
        progress.close()
        if stopped:
            print(f"interrupted: reporting the {stream.written} target(s) finished", file=sys.stderr)
        if options.output_format != "jsonl":
            _render(options, stream)  # also when interrupted: a valid report of every finished target
        if stopped:
            return stopped
        if runner.stopped_early:
            left = len(todo) - stream.written
            raise HubUnreachable(
                f"stopped after {runner.unreachable_limit} targets in a row could not connect to {hub.endpoint}, "
                f"{left} not started: offline? is HF_ENDPOINT right? (--resume continues a JSONL file)"
            )
    except BrokenPipeError:
        from auditor.output import discard

        discard(sys.stdout)  # the reader went away (`| head`): not a failure of the audits
    finally:
        stream.close()  # every finished target's line is whole, also after Ctrl-C or SIGTERM
        hub.close()
        _restore_sigterm(previous)
    return exit_code


def _listing(options: BatchOptions) -> str:
    """The listing options in words: "--author no-such-org and --filter gguf"."""
    parts = [f"--author {options.author}"] if options.author else []
    parts += [f"--search {options.search}"] if options.search else []
    parts += [f"--filter {tag}" for tag in options.filters]
    return " and ".join(parts)


def _listed_ids(options: BatchOptions) -> list[str]:
    """The repo ids the Hub's listing names for --author, --search and --filter."""
    from auditor.sources.hub import HubSource

    lister = HubSource(endpoint=os.environ.get("HF_ENDPOINT") or None, token=options.token)
    try:
        return lister.list_model_ids(options.author, options.search, options.filters, options.limit)
    finally:
        lister.close()


def _runner(options: BatchOptions, parse_target: Callable[[str, str | None], Any], work: TargetWork,
            count: int, give_up_after: float | None, on_wait: Callable[[], None]) -> Runner:
    """Where the targets are audited: on a cluster, in worker processes, or on this process's threads."""
    from auditor.batch.runner import ConcurrentRunner

    if options.scheduler:
        from auditor.batch.cluster import ClusterRunner

        return ClusterRunner(options, parse_target, on_wait=on_wait, give_up_after=give_up_after, cache=work.cache)
    processes = options.processes or ((os.cpu_count() or 1) if count >= PROCESSES_FROM and options.jobs > 1 else 1)
    processes = min(processes, options.jobs, max(1, count))
    if processes > 1:
        from auditor.batch.processes import ProcessRunner

        return ProcessRunner(options, parse_target, processes, give_up_after, on_wait=on_wait)
    return ConcurrentRunner(work, options.jobs, give_up_after, on_wait=on_wait)


class Terminated(SystemExit):
    """SIGTERM arrived: the census stops as after Ctrl-C, its report written, and exits 143."""

    code: int


def _stop_on_sigterm() -> _SignalHandler:
    """SIGTERM ends the run like Ctrl-C does (exit 143): the finished targets are still reported."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum: int, frame: FrameType | None) -> NoReturn:
        raise Terminated(128 + signum)

    return signal.signal(signal.SIGTERM, stop)


def _restore_sigterm(previous: _SignalHandler) -> None:
    import signal

    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _render(options: BatchOptions, stream: RecordStream) -> None:
    """The table formats, rendered from the spooled records."""
    from auditor.output import output_file

    if options.output:
        with output_file(options.output, "w", encoding="utf-8", newline="") as out:
            _write_table(options.output_format, stream, out)
    else:
        _write_table(options.output_format, stream, sys.stdout)
    if options.output and not options.quiet:
        print(f"report written to {options.output}", file=sys.stderr)


def _write_table(output_format: str, stream: RecordStream, out: IO[str]) -> None:
    """The records as CSV, a Markdown census table or one JSON document."""
    from auditor.report.census import render_census
    from auditor.report.csv_report import write_rows

    if output_format == "csv":
        write_rows(stream.records(), out)
    elif output_format == "markdown":
        out.writelines(render_census(stream.records))
    else:
        out.writelines(_json_document(stream.records()))


def _json_document(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One JSON document, {"schema", "results", "failures"}, as the batch JSON report has it."""
    from auditor.report.json_report import SCHEMA

    yield f'{{"schema": "{SCHEMA}", "results": ['
    failures = []
    first = True
    for record in records:
        if record.get("status") == "audited":
            yield ("" if first else ",") + "\n" + json.dumps(record["report"], ensure_ascii=False)
            first = False
        else:
            failures.append({"target": record["target"], "error": record["error"]["message"], "exit_code": record["exit_code"]})
    yield "\n], \"failures\": " + json.dumps(failures, ensure_ascii=False) + "}\n"
