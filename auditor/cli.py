"""`audit-model`: argument wiring, the error table, and exit codes. No audit logic lives here.

Exit codes (documented in the README and tested):
  0 audited (and the policy, if any, passed)   1 audited, policy failed
  2 usage error                                3 repo, revision or path not found
  4 access denied                              5 network or Hub failure after retries
  70 internal error (a bug: set AUDITOR_DEBUG=1 for the traceback)
In a batch the exit code is the highest of all targets', and every audited target's report
is still written.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from auditor import __version__

# Codes 2-5 belong to the errors that cause them (auditor.errors, `exit_code`); these are the rest.
EXIT_OK, EXIT_POLICY, EXIT_INTERNAL = 0, 1, 70
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")
_HUB_URL = re.compile(r"^https?://(?:www\.)?(?:huggingface\.co|hf\.co)/(?P<repo>[\w.-]+/[\w.-]+)(?:/tree/(?P<rev>[^/\s]+))?/?$")
_FORMAT_BY_SUFFIX = {".md": "markdown", ".markdown": "markdown", ".json": "json", ".sarif": "sarif"}


def parse_target(text: str, revision: str | None):
    """A local directory when one exists at that path, else a Hub repo id (or Hub URL)."""
    from auditor.errors import NotFound, UsageError
    from auditor.model import Target, TargetKind

    url = _HUB_URL.match(text)
    if url:
        return Target(TargetKind.HUB, repo_id=url.group("repo"), revision=revision or url.group("rev"))
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise NotFound(f"{text} is a file, not a model repository directory")
        return Target(TargetKind.LOCAL, path=str(path), revision=revision)
    if _REPO_ID.match(text) and not text.startswith((".", "/", "~")):
        return Target(TargetKind.HUB, repo_id=text, revision=revision)
    if text.startswith((".", "/", "~")) or os.sep in text:
        raise NotFound(f"no such directory: {text}")
    raise UsageError(f"'{text}' is neither a local directory nor a Hub repo id of the form org/name")


def _choose_format(output_format: str | None, output: str | None) -> str:
    if output_format:
        return output_format
    if output:
        return _FORMAT_BY_SUFFIX.get(Path(output).suffix.lower(), "markdown")
    return "markdown" if sys.stdout.isatty() else "json"


def offline() -> bool:
    """HF_HUB_OFFLINE=1: no look-up of any kind (base models, datasets, linked code)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


class _Sources:
    """Builds each kind of source once per run, and only when a target needs it."""

    def __init__(self, token: str | None):
        self.token = token
        self._hub = None
        self._local = None

    def code_hosts(self):
        """Looks up the licences of linked code repositories; AUDITOR_GITHUB_API points it elsewhere."""
        from auditor.sources.github import API, GitHubLicences

        return GitHubLicences(api=os.environ.get("AUDITOR_GITHUB_API") or API, token=os.environ.get("GITHUB_TOKEN") or None)

    def hub(self):
        if self._hub is None:
            from auditor.sources.hub import HubSource

            self._hub = HubSource(endpoint=os.environ.get("HF_ENDPOINT") or None, token=self.token)
        return self._hub

    def registry_for(self, target, check_links: bool):
        """Where base models and datasets are looked up: the Hub, also for a local checkout."""
        from auditor.model import TargetKind
        from auditor.sources.interface import NoLookups

        if offline():
            return NoLookups("HF_HUB_OFFLINE=1: not looked up")
        if not check_links:
            return NoLookups()
        return self.hub() if target.kind is TargetKind.LOCAL else None

    def for_target(self, target):
        from auditor.model import TargetKind

        if target.kind is TargetKind.HUB:
            return self.hub()
        if self._local is None:
            from auditor.sources.local import LocalSource

            self._local = LocalSource()
        return self._local


class Batch:
    """What auditing the targets gave: results, (target, error) failures, policy outcomes, exit code."""

    def __init__(self):
        self.results, self.failures, self.outcomes, self.exit_code = [], [], [], EXIT_OK

    def render(self, output_format: str, renderer=None) -> str:
        """The report in `output_format`, by that format's renderer unless one is given, policy last."""
        from auditor.report import OutputFormat, renderer_for
        from auditor.report.policy_section import attach_policy

        renderer = renderer or renderer_for(OutputFormat(output_format))
        report = renderer.render_batch(self.results, self.failures)
        return attach_policy(report, output_format, self.outcomes, [r.target.label for r in self.results])


def audit_targets(targets, revision, token, licence_engine, flags=None, scan_weights=None, check_links=True) -> Batch:
    """Audit every target and check the policy (flags merged with each target's config file)."""
    from auditor.audit import Auditor
    from auditor.errors import AuditorError
    from auditor.identify import identify_text, load_knowledge_base
    from auditor.judge.policy import Policy, evaluate, policy_for

    identify = identify_text
    if licence_engine == "scancode":
        from auditor.identify.scancode_engine import identify_text_scancode

        identify = identify_text_scancode
    kb = load_knowledge_base()
    sources = _Sources(token)
    code_hosts = sources.code_hosts() if check_links and not offline() else None  # HF_HUB_OFFLINE=1 turns off GitHub too
    batch = Batch()
    for text in targets:
        try:
            target = parse_target(text, revision)
            policy = policy_for(target, flags or Policy())
            click.echo(f"auditing {target.label} ...", err=True)
            result = Auditor(sources.for_target(target), kb, identify, scan_weights, code_hosts, sources.registry_for(target, check_links)).run(target)
            batch.results.append(result)
            batch.outcomes.append(evaluate(policy, result, kb) if policy else None)
        except AuditorError as error:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            click.echo(f"error: {text}: {message}", err=True)
            batch.failures.append((text, message))
            batch.exit_code = max(batch.exit_code, error.exit_code)
    for result, outcome in zip(batch.results, batch.outcomes):
        if outcome is not None and not outcome.passed:
            click.echo(f"policy failed for {result.target.label}: {'; '.join(f.rule for f in outcome.failures)}", err=True)
            batch.exit_code = max(batch.exit_code, EXIT_POLICY)
    return batch


def _run(targets, revision, token, output_format, output, licence_engine, flags=None, scan_weights=None, check_links=True):
    batch = audit_targets(targets, revision, token, licence_engine, flags, scan_weights, check_links)
    if batch.results or len(targets) > 1:
        report = batch.render(output_format)
        if output:
            Path(output).write_text(report, encoding="utf-8")
            click.echo(f"report written to {output}", err=True)
        else:
            click.echo(report, nl=False)
    return batch.exit_code


def _fail_on_option(ctx, param, value):
    """Checked before any audit runs, so a misspelt name costs nothing."""
    if not value:
        return ()
    from auditor.errors import UsageError
    from auditor.judge.policy import check_fail_on

    try:
        return check_fail_on(value, where="")
    except UsageError as error:
        raise click.BadParameter(str(error)) from error


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("targets", nargs=-1, metavar="TARGET...")
@click.option("--targets-from", "targets_from", type=click.File("r"), help="Read more targets from FILE, one per line (# starts a comment; - reads stdin).")
@click.option("--revision", help="Branch, tag or commit of a Hub repo (default: main).")
@click.option("--token", envvar=None, help="Hub token (default: HF_TOKEN or your `hf auth login`).")
@click.option("--format", "output_format", type=click.Choice(["markdown", "json", "sarif", "cyclonedx"]), help="Report format (default: markdown on a terminal, else json; sarif for a .sarif --output).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE instead of stdout.")
@click.option("--licence-engine", "--license-engine", "licence_engine", type=click.Choice(["builtin", "scancode"]), default="builtin", show_default=True, help="Licence identification engine; scancode needs the [scancode] extra.")
@click.option("--fail-on", "fail_on", multiple=True, metavar="NAMES", callback=_fail_on_option, help="Exit 1 when the verdict, a finding code, or a finding of a severity (error, warning, info) is among NAMES, e.g. not-open,unknown,licence-relabelled,error.")
@click.option("--allow-licence", "--allow-license", "allow_licences", multiple=True, metavar="LICENCES", help="Exit 1 unless every licence found is one of LICENCES (ids, SPDX ids or names, comma-separated).")
@click.option("--deny-licence", "--deny-license", "deny_licences", multiple=True, metavar="LICENCES", help="Exit 1 if any licence found is one of LICENCES.")
@click.option("--scan-weights/--no-scan-weights", default=None, help="Scan weight files statically: pickle imports, safetensors and GGUF headers (default: on for local checkouts; off for Hub repos, where each file costs ranged reads of at most 1 MiB).")
@click.option("--check-links/--no-check-links", default=True, help="Look up the licences of what the card links: code repositories on GitHub (GITHUB_TOKEN raises its rate limit), base models and datasets on the Hub (default: on).")
@click.version_option(__version__, prog_name="audit-model")
def audit_model(targets, targets_from, revision, token, output_format, output, licence_engine, fail_on, allow_licences, deny_licences, scan_weights, check_links):
    """Audit AI model repositories: what was released, under which licences, and how open it is.

    TARGET is a Hugging Face Hub repo id (org/name) or a local checkout of a model repo.
    The policy options may also be set in a [tool.auditor] table of pyproject.toml or in
    .auditor.toml (read from a local target's directory, else the current one); flags win.
    """
    targets = tuple(targets) + _read_targets(targets_from)
    if not targets:
        raise click.UsageError("give at least one TARGET (a Hub repo id or a local directory), or --targets-from FILE")
    chosen = _choose_format(output_format, output)
    try:
        flags = _policy_flags(fail_on, allow_licences, deny_licences)
        code = _run(targets, revision, token, chosen, output, licence_engine, flags, scan_weights, check_links)
    except Exception as error:  # noqa: BLE001 - the one place a bug becomes a message, not a traceback
        from auditor.errors import AuditorError

        if isinstance(error, AuditorError):
            click.echo(f"error: {error}", err=True)
            sys.exit(error.exit_code)
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        click.echo(f"internal error: {type(error).__name__}: {error} (set AUDITOR_DEBUG=1 for details)", err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(code)


def _read_targets(stream) -> tuple[str, ...]:
    if stream is None:
        return ()
    lines = (line.split("#", 1)[0].strip() for line in stream)
    return tuple(line for line in lines if line)


def _policy_flags(fail_on, allow_licences, deny_licences):
    if not (fail_on or allow_licences or deny_licences):
        return None
    from auditor.judge.policy import Policy, split_names

    return Policy(fail_on=tuple(fail_on), allow=split_names(allow_licences), deny=split_names(deny_licences))


def main() -> None:
    audit_model(prog_name="audit-model")  # the same name in usage lines whether run as a script or with -m
