"""`audit-model`: argument wiring, the error table, and exit codes. No audit logic lives here.

Exit codes (documented in the README, in --help, and tested):
  0 audited (and the policy, if any, passed)   1 audited, policy failed, or a file unsafe to load
  2 usage error                                3 repo, revision or path not found
  4 access denied                              5 network or Hub failure after retries
  70 internal error (a bug: set AUDITOR_DEBUG=1 for the traceback)
  130 interrupted (Ctrl-C); the targets audited by then are still reported
In a batch the exit code is the highest of all targets', and every audited target's report
is still written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from auditor import __version__
from auditor.logs import log
from auditor.report import OutputFormat
from auditor.sources.interface import DEFAULT_TARGET_TIMEOUT
from auditor.target_run import PolicyFiles, RunSettings
from auditor.targets import FileTargets, parse_target  # parse_target is also imported from here by older callers

if TYPE_CHECKING:
    from auditor.judge.policy import Policy, PolicyOutcome
    from auditor.model import AuditResult, Target
    from auditor.output import Destination
    from auditor.report.interface import Renderer
    from auditor.sources.hub import HubSource  # imported when a target needs the Hub: a local audit never does

STREAMED_ONLY = ("jsonl", "csv")  # formats only a census writes (auditor.batch)
# Codes 2-5 belong to the errors that cause them (auditor.errors, `exit_code`); these are the rest.
EXIT_OK, EXIT_POLICY, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 70, 130


class Batch:
    """What auditing the targets gave: results, (target, error) failures, policy outcomes, exit code."""

    def __init__(self) -> None:
        self.results: list[AuditResult] = []
        self.failures: list[tuple[str, str]] = []
        self.outcomes: list[PolicyOutcome | None] = []
        self.exit_codes: list[int] = []  # each audited target's own, as auditor.target_run decided it
        self.exit_code = EXIT_OK
        self.interrupted = False  # Ctrl-C stopped the batch; the results so far are kept

    def render(self, output_format: str, renderer: Renderer | None = None) -> str:
        """The report in `output_format`, by that format's renderer unless one is given, policy last."""
        renderer = renderer or OutputFormat.named(output_format).renderer()
        return renderer.render_batch(self.results, self.failures, self.outcomes)


def audit_targets(targets: Sequence[str], settings: RunSettings | None = None,
                  parse: Callable[[str, str | None], Target] = parse_target) -> Batch:
    """Audit every target and check the policy (flags merged with the policy file, see PolicyFiles),
    each through the one per-target run (auditor.target_run) a census and the Action use too;
    `parse` reads what each target names (FileTargets for targets read from files).

    Ctrl-C stops the batch: what was audited by then is kept, and the exit code is 130."""
    from auditor.errors import AuditorError
    from auditor.model import TargetKind
    from auditor.target_run import TargetRun
    from auditor.targets import explain, listed_id

    settings = settings or RunSettings()
    hub: list[HubSource] = []

    def hub_source() -> HubSource:
        """The Hub source (HF_ENDPOINT points it at a mirror), built on first use."""
        if not hub:
            from auditor.sources.hub import HubSource
            from auditor.sources.hub_history import HubHistorySource

            kind = HubHistorySource if settings.history else HubSource  # --history reads many revisions, each blob once
            hub.append(kind(endpoint=os.environ.get("HF_ENDPOINT") or None, token=settings.token))
        return hub[0]

    run = TargetRun(settings, hub_source, parse)
    batch = Batch()
    token_given = bool(settings.token or os.environ.get("HF_TOKEN"))
    announced: set[str] = set()
    for text in targets:
        target = None
        try:
            plan = run.plan(text)
            target = plan.target
            if plan.policy.origin and plan.policy.origin not in announced:
                announced.add(plan.policy.origin)
                log.info("policy from %s", plan.policy.origin)
            log.info("auditing %s ...", target.label)
            decision = run.audit(plan)
            batch.results.append(decision.result)
            batch.outcomes.append(decision.outcome)
            batch.exit_codes.append(decision.exit_code)
        except AuditorError as error:
            message = explain(error, text, target is not None and target.kind is TargetKind.HUB, token_given,
                              listed=listed_id(parse, text))
            log.error("error: %s: %s", text, message)
            batch.failures.append((text, message))
            batch.exit_code = max(batch.exit_code, error.exit_code)
        except KeyboardInterrupt:
            log.error("interrupted while auditing %s: reporting the %d target(s) audited before", text, len(batch.results))
            batch.interrupted = True
            batch.exit_code = EXIT_INTERRUPTED
            break
        except Exception as error:  # noqa: BLE001 - a bug in one target's audit never loses the others'
            if os.environ.get("AUDITOR_DEBUG"):
                raise
            message = f"internal error: {type(error).__name__}: {error}"
            log.error("error: %s: %s", text, message)
            batch.failures.append((text, message))
            batch.exit_code = max(batch.exit_code, EXIT_INTERNAL)
    for result, outcome, code in zip(batch.results, batch.outcomes, batch.exit_codes, strict=True):
        if outcome is not None and not outcome.passed:
            log.warning("policy failed for %s: %s", result.target.label, "; ".join(f.rule for f in outcome.failures))
        if not batch.interrupted:
            batch.exit_code = max(batch.exit_code, code)
    return batch


def _run(targets: Sequence[str], destination: Destination, settings: RunSettings, sarif_info: bool = False,
         parse: Callable[[str, str | None], Target] = parse_target) -> int:
    """Audit the targets, deliver the report to `destination`; returns the exit code."""
    from auditor.output import deliver

    batch = audit_targets(targets, settings, parse)
    if batch.results or len(targets) > 1:
        renderer = destination.format.renderer(include_info=sarif_info) if destination.format is OutputFormat.SARIF else None
        deliver(batch.render(destination.format.value, renderer), destination)
        if destination.path is not None:
            log.info("report written to %s", destination.path)
    return batch.exit_code


def _fail_on_option(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """Checked before any audit runs, so a misspelt name costs nothing."""
    if not value:
        return ()
    from auditor.errors import UsageError
    from auditor.judge.policy import check_fail_on

    try:
        return check_fail_on(value, where="")
    except UsageError as error:
        raise click.BadParameter(str(error)) from error


def _list_findings(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """`--list-findings`: every finding code with its severity and meaning, then exit."""
    if not value or ctx.resilient_parsing:
        return
    from auditor.findings import declared

    codes = declared()
    width = max(map(len, codes))
    for code, spec in codes.items():
        click.echo(f"{code:<{width}}  {spec['severity']:<7}  {spec['title']}")
    ctx.exit(0)


EPILOG = """\b
Examples:
  audit-model meta-llama/Llama-3.1-8B            a Hub repo (also hf.co/org/name, org/name@rev)
  audit-model ./my-model                         a local checkout
  audit-model org/name -o report.sarif           SARIF for code scanning (-o picks the format by suffix)
  audit-model org/a org/b --format json -o out.json
  audit-model . --fail-on not-open,unsafe-pickle --deny-licence 'cc-by-nc-*'

\b
Exit codes:
  0    audited, and the policy (if any) passed
  1    audited, and the policy failed; or a weight file is unsafe to load
       ("Do not load FILE" above "What may I do?"), with or without a policy,
       unless --allow-unsafe-to-load
  2    usage error (bad option, unknown name, -o into a missing directory)
  3    repo, revision or path not found; an empty folder or one with no model
       files; a census listing that finds nothing
  4    access denied: a private or gated repo, a token the Hub refused, or a
       folder that cannot be read
  5    network or Hub failure after retries; a git checkout git cannot
       read (the reason in our words, never git's)
  70   internal error (a bug; AUDITOR_DEBUG=1 shows the traceback)
  130  interrupted; the targets audited by then are still reported
  143  a census stopped by SIGTERM; its report (any format) holds the
       targets finished by then
In a batch the exit code is the highest of all targets'.
Offline (HF_HUB_OFFLINE=1) a Hub id is read from the Hugging Face cache
(refs/main or --revision's snapshot), else exit 5 "offline and not in the cache".
"""


@click.command(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.argument("targets", nargs=-1, metavar="TARGET...")
@click.option("--targets-from", "targets_from", type=click.File("r"), help="Read more Hub repos from FILE, one id per line (org/name, org/name@rev, a Hub URL or org/name/model.gguf; # starts a comment; - reads stdin). A line is never read as a local path: one that is no Hub id is an error of its own.")
@click.option("--paths-from", "paths_from", type=click.File("r"), help="Read more local folders from FILE, one path per line (# starts a comment; - reads stdin), each read as a path, never as a Hub id.")
@click.option("--revision", help="Branch, tag or commit of a Hub repo (default: main; also spelt org/name@REV), of a local git checkout (read from git, not the work tree), or a Hugging Face cache folder's snapshot.")
@click.option("--token", envvar=None, help="Hub token (default: HF_TOKEN or your `hf auth login`).")
@click.option("--format", "output_format", type=click.Choice(OutputFormat.names(), case_sensitive=False), help="Report format (default: markdown, or what the -o file's suffix says).")
@click.option("--output", "-o", metavar="FILE", help="Write the report to FILE (- for stdout); .md, .json, .sarif, .sarif.json, .cdx.json and .bom.json choose the format.")
@click.option("--licence-engine", "--license-engine", "licence_engine", type=click.Choice(["builtin", "scancode"]), default="builtin", show_default=True, help="Licence identification engine; scancode needs the [scancode] extra.")
@click.option("--fail-on", "fail_on", multiple=True, metavar="NAMES", callback=_fail_on_option, help="Exit 1 when the verdict, a finding code, or a finding of a severity (error, warning, info) is among NAMES, e.g. not-open,unknown,licence-relabelled,error.")
@click.option("--allow-licence", "--allow-license", "allow_licences", multiple=True, metavar="LICENCES", help="Exit 1 unless every licence that governs a component (the weights' effective terms, inherited ones included; code; data) or is found is one of LICENCES: ids, SPDX ids, names, families (llama: every version) or patterns such as cc-by-* or openrail* over ids, SPDX ids and families, comma-separated.")
@click.option("--deny-licence", "--deny-license", "deny_licences", multiple=True, metavar="LICENCES", help="Exit 1 if any licence that governs a component (inherited ones included) or is found is one of LICENCES (e.g. llama, cc-by-nc-*).")
@click.option("--allow-unsafe-to-load", is_flag=True, help="Do not fail the run on a file unsafe to load (a pickle that runs code, a malformed header...). Without it, such a file fails the run (exit 1), with a policy or without one.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), help="Read the policy from FILE (.auditor.toml, or pyproject.toml's [tool.auditor]); default: the current directory's.")
@click.option("--config-from-target", is_flag=True, help="Read the policy from a local target's own .auditor.toml or pyproject.toml (for a publisher auditing their own repo).")
@click.option("--scan-weights/--no-scan-weights", default=None, help="Scan model files statically: pickles, archives, numpy, Keras, TensorFlow and ONNX graphs, safetensors and GGUF headers (default: on for local checkouts; for Hub repos the files that can run code when loaded only, a torch checkpoint costing ranged reads of about 130 KB).")
@click.option("--hub-repo", "hub_repo", metavar="ORG/NAME", callback=lambda ctx, param, value: _hub_repo_option(value), help="The Hub repo a local checkout mirrors: its Git LFS pointers are scanned through Hub range reads at the checkout's commit (default: the checkout's origin, when it is a Hub repo).")
@click.option("--check-links/--no-check-links", default=True, help="Look up the licences of what the card links: code repositories on GitHub (GITHUB_TOKEN raises its rate limit), base models and datasets on the Hub (default: on).")
@click.option("--history", is_flag=True, help="Also audit every revision that changed the card, a licence or notice file or a lineage signal, and report when the terms changed (a timeline, and the findings licence-changed, terms-narrowed, terms-widened, licence-text-edited).")
@click.option("--since", metavar="DATE|REV", help="Start the history at DATE (2024-06-01) or at revision REV (e.g. the commit you pinned): the terms in force then are the baseline. Implies --history.")
@click.option("--sarif-info", is_flag=True, help="Include info findings in SARIF output (left out by default: code scanning shows each result as an alert).")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and policy failures on stderr.")
@click.option("--verbose", "-v", is_flag=True, help="Log every request and file read on stderr.")
@click.option("--list-findings", is_flag=True, is_eager=True, expose_value=False, callback=_list_findings, help="List every finding code with its severity and meaning, and exit.")
@click.option("--author", help="Audit every model of this Hub user or organisation (the Hub's model listing).")
@click.option("--search", help="Audit the Hub models whose name contains TEXT.")
@click.option("--filter", "filters", multiple=True, metavar="TAG", help="Audit the Hub models with this tag, e.g. base_model:finetune:org/name for a base model's fine-tunes (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), help="At most N models from --author/--search/--filter.")
@click.option("--shard", metavar="I/N", help="Audit only shard I of N of the targets (split by a hash of each name, the same on every machine).")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), help="Targets audited at once; any batch option makes the run a census (default 8).")
@click.option("--resume", is_flag=True, help="Skip the targets already in the --output JSONL file and append the rest.")
@click.option("--cache/--no-cache", "use_cache", default=True, help="Reuse the reports of repos whose commit has not changed (default: on).")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache directory (default: $AUDITOR_CACHE_DIR, else $XDG_CACHE_HOME/audit-model, else ~/.cache/audit-model).")
@click.option("--target-timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TARGET_TIMEOUT, show_default=True, help="Seconds one target may take before it is a failure and the batch goes on.")
@click.option("--processes", type=click.IntRange(1, 256), help="Worker processes for a census, so it uses every core (default: one per core from 200 targets, else 1).")
@click.option("--scheduler", metavar="ADDRESS", help="Audit a census on a Dask cluster: the scheduler's address, e.g. tcp://host:8786 (needs the [cluster] extra).")
@click.option("--max-rate", type=click.FloatRange(min=0, min_open=True), help="At most N Hub requests per second over the whole census.")
@click.version_option(__version__, prog_name="audit-model")
def audit_model(targets: tuple[str, ...], targets_from: IO[str] | None, paths_from: IO[str] | None, revision: str | None, token: str | None,
                output_format: str | None, output: str | None, licence_engine: str, fail_on: tuple[str, ...],
                allow_licences: tuple[str, ...], deny_licences: tuple[str, ...], allow_unsafe_to_load: bool,
                config_file: str | None, config_from_target: bool, scan_weights: bool | None, hub_repo: str | None, check_links: bool,
                history: bool, since: str | None, sarif_info: bool, quiet: bool, verbose: bool, author: str | None, search: str | None,
                filters: tuple[str, ...], limit: int | None, shard: str | None, jobs: int | None, resume: bool,
                use_cache: bool, cache_dir: str | None, target_timeout: float, processes: int | None,
                scheduler: str | None, max_rate: float | None) -> None:
    """Audit AI model repositories: what was released, under which licences, and how open it is.

    TARGET is a Hugging Face Hub repo id (org/name, org/name@rev, hf.co/org/name) or a local
    checkout of a model repo. The policy options may also be set in a [tool.auditor] table of
    pyproject.toml or in .auditor.toml: --config FILE, else the current directory's; the
    audited repo's own only with --config-from-target. Flags win.
    """
    from auditor import logs

    logs.configure(quiet=quiet, verbose=verbose)
    hub_lines, path_lines = _read_targets(targets_from), _read_targets(paths_from)
    parse = FileTargets.of(targets, hub_lines, path_lines)
    targets = tuple(targets) + hub_lines + path_lines
    if not targets and not (author or search or filters):
        raise click.UsageError("give at least one TARGET (a Hub repo id or a local directory), --targets-from FILE, --paths-from FILE, "
                               "or --author/--search/--filter")
    try:
        from auditor.output import choose

        destination = choose(output_format, output)
        config = PolicyFiles(Path(config_file) if config_file else None, config_from_target)
        flags = _policy_flags(fail_on, allow_licences, deny_licences, config, allow_unsafe_to_load)
        history = history or since is not None
        census_only = processes or scheduler or max_rate
        if author or search or filters or shard or jobs or resume or census_only or destination.format.value in STREAMED_ONLY:
            from auditor.batch import DEFAULT_JOBS, BatchOptions, parse_shard, run_census

            code = run_census(BatchOptions(
                targets=targets, author=author, search=search, filters=tuple(filters), limit=limit,
                shard=parse_shard(shard) if shard else None, jobs=jobs or DEFAULT_JOBS, target_timeout=target_timeout,
                output_format=destination.format.value, output=str(destination.path) if destination.path else None,
                resume=resume, cache=use_cache, cache_dir=cache_dir, quiet=quiet, revision=revision, token=token,
                licence_engine=licence_engine, scan_weights=scan_weights, check_links=check_links, policy=flags,
                config_file=config.file, config_from_target=config.from_target, hub_repo=hub_repo, history=history, since=since,
                processes=processes or 0, scheduler=scheduler, max_rate=max_rate,
            ), parse)
        else:
            settings = RunSettings(revision=revision, token=token, licence_engine=licence_engine, flags=flags,
                                   scan_weights=scan_weights, check_links=check_links, config=config, hub_repo=hub_repo,
                                   history=history, since=since)
            code = _run(targets, destination, settings, sarif_info, parse)
    except KeyboardInterrupt:
        log.error("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # noqa: BLE001 - the one place a bug becomes a message, not a traceback
        from auditor.errors import AuditorError

        if isinstance(error, AuditorError):
            log.error("error: %s", error)
            sys.exit(error.exit_code)
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        log.error("internal error: %s: %s (set AUDITOR_DEBUG=1 for details)", type(error).__name__, error)
        sys.exit(EXIT_INTERNAL)
    sys.exit(code)


def _hub_repo_option(value: str | None) -> str | None:
    """`--hub-repo` must be a Hub repo id; checked before any audit runs."""
    from auditor.targets import REPO_ID

    if value is not None and not REPO_ID.match(value):
        raise click.BadParameter(f"'{value}' is not a Hub repo id of the form org/name")
    return value


def _read_targets(stream: IO[str] | None) -> tuple[str, ...]:
    if stream is None:
        return ()
    lines = (line.split("#", 1)[0].strip() for line in stream)
    return tuple(line for line in lines if line)


def _policy_flags(fail_on: tuple[str, ...], allow_licences: tuple[str, ...], deny_licences: tuple[str, ...],
                  config: PolicyFiles | None = None, allow_unsafe_to_load: bool = False) -> Policy | None:
    """The policy the flags give; licence names and the policy file (--config or the current
    directory's) are checked here, before any audit."""
    from auditor.identify import load_knowledge_base
    from auditor.judge.policy import flag_policy, read_config, read_config_file

    if config is not None and config.file is not None:
        read_config_file(config.file, load_knowledge_base())
    else:
        read_config(Path.cwd(), load_knowledge_base())
    return flag_policy(fail_on, allow_licences, deny_licences, allow_unsafe_to_load=allow_unsafe_to_load)


def main() -> None:
    """The `audit-model` console script."""
    audit_model(prog_name="audit-model")  # the same name in usage lines whether run as a script or with -m
