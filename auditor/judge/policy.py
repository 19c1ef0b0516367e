"""The user's policy: which verdicts, findings and licences make an audit fail (exit code 1).

Rules come from the command line (--fail-on, --allow-licence, --deny-licence) or from a
`[tool.auditor]` table in pyproject.toml or an `.auditor.toml`: the file `--config` names,
else the current directory's; a local target's own only when the caller asks
(`--config-from-target`). A flag replaces the same key from a file. `--fail-on` takes verdicts (`not-open`), finding codes (`unsafe-pickle`) and severity
thresholds (`error` = any error finding, `warning` = any warning or error) and `unsafe-to-load`
(any file not safe to load: every run fails on it, a policy given gaining the rule, unless
the policy waives it with `allow-unsafe-to-load`). Licence lists
match our ids, SPDX ids, the knowledge base's aliases, families and patterns
(auditor.judge.licence_names), and judge the licences that govern each component as the report
shows them: the weights' effective terms (inherited licences and licences read from unknown
texts included), the code's and the data's, and every licence found (auditor.judge.governing). Evaluation is pure: an AuditResult
in, a PolicyOutcome out; auditor.report.policy_section puts the outcome into the report.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import UsageError
from auditor.findings import declared
from auditor.judge.governing import GoverningLicence, governing_licences
from auditor.model import AuditResult, Openness, Severity, Target, TargetKind

if TYPE_CHECKING:
    from auditor.identify.kb import KnowledgeBase


VERDICTS = tuple(o.value for o in Openness)
SEVERITIES = ("error", "warning", "info")
# any file not safe to load (auditor.judge.load_safety): what every run fails on unless its policy waives it
UNSAFE_TO_LOAD = "unsafe-to-load"
_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
CONFIG_FILES = (".auditor.toml", "pyproject.toml")
TargetFiles = Callable[[str], "bytes | None"]  # a file of the audited repo by name, read through its source; None: it has none
_KEYS = ("fail-on", "allow-licence", "deny-licence", "allow-unsafe-to-load")


@dataclass(frozen=True)
class Policy:
    """The rules in force; `origin` says where they were read from, for messages."""

    fail_on: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    origin: str | None = None
    # Only an explicit waiver lets a file unsafe to load pass: any other policy keeps that gate.
    allow_unsafe_to_load: bool = False

    def __bool__(self) -> bool:
        return bool(self.fail_on or self.allow or self.deny)

    def guarding_loads(self) -> Policy:
        """This policy with the `unsafe-to-load` gate added, unless it waives that gate or has it."""
        if self.allow_unsafe_to_load or UNSAFE_TO_LOAD in self.fail_on:
            return self
        return replace(self, fail_on=(*self.fail_on, UNSAFE_TO_LOAD))

    def rules(self) -> tuple[str, ...]:
        """The policy's rules in words (fail-on, allow-licence, deny-licence)."""
        rules = [f"fail-on {name}" for name in self.fail_on]
        if self.allow:
            rules.append("allow-licence " + ", ".join(self.allow))
        if self.deny:
            rules.append("deny-licence " + ", ".join(self.deny))
        return tuple(rules)


@dataclass(frozen=True)
class PolicyFailure:
    """One policy rule that failed, with why and the evidence."""

    rule: str
    message: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyOutcome:
    """The rules a policy checked and those that failed; `passed` when none did."""

    rules: tuple[str, ...]
    failures: tuple[PolicyFailure, ...]
    origin: str | None = None

    @property
    def passed(self) -> bool:
        """Whether no rule failed."""
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        """The outcome as the reports' `policy` object {passed, rules, failures}."""
        return {
            "passed": self.passed,
            "rules": list(self.rules),
            "failures": [{"rule": f.rule, "message": f.message, "evidence": list(f.evidence)} for f in self.failures],
            "source": self.origin,
        }


def split_names(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """Names from repeated flags or config values, each possibly a comma- or line-separated list.

    Not split on spaces: licence names such as "Apache License 2.0" have them."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    names = []
    for value in values:
        names += [part.strip() for part in re.split(r"[,\n]+", str(value)) if part.strip()]
    return tuple(dict.fromkeys(names))


def flag_policy(fail_on: tuple[str, ...], allow: Iterable[str] | str | None, deny: Iterable[str] | str | None,
                where: str = "--{}", allow_unsafe_to_load: bool = False) -> Policy | None:
    """The policy a caller's own settings give (the CLI's flags, the Action's inputs), its licence
    names checked against the knowledge base; None when they set nothing."""
    from auditor.judge.licence_names import check_allow_deny

    allowed, denied = split_names(allow), split_names(deny)
    check_allow_deny(allowed, denied, where=where)
    if not (fail_on or allowed or denied or allow_unsafe_to_load):
        return None
    return Policy(fail_on=tuple(fail_on), allow=allowed, deny=denied, allow_unsafe_to_load=allow_unsafe_to_load)


def valid_fail_on() -> tuple[str, ...]:
    """Every name --fail-on accepts: verdicts, severities and finding codes."""
    return VERDICTS + SEVERITIES + (UNSAFE_TO_LOAD,) + tuple(declared())


def check_fail_on(values: Iterable[str] | str | None, where: str = "--fail-on") -> tuple[str, ...]:
    """Normalised --fail-on names; an unknown name is a usage error with the closest valid names."""
    from auditor.judge.licence_names import did_you_mean

    names = []
    valid = valid_fail_on()
    for raw in split_names(values):
        # The US spelling of our own codes is accepted, as for the option names, and `_` for `-`.
        name = raw.lower().replace("_", "-").replace("license", "licence")
        if name not in valid:
            raise UsageError(
                (f"{where}: " if where else "") + f"unknown name '{raw}'{did_you_mean(name, valid)}. Valid names are "
                f"verdicts ({', '.join(VERDICTS)}), severities ({', '.join(SEVERITIES)}), {UNSAFE_TO_LOAD} and finding codes "
                "(audit-model --list-findings lists them)"
            )
        names.append(name)
    return tuple(dict.fromkeys(names))


def _config_table(path: Path) -> Mapping[str, Any] | None:
    try:
        content = path.read_bytes()
    except OSError as error:
        raise UsageError(f"{path}: cannot read the auditor policy: {error}") from error
    return _parsed_table(content, path)


def _parsed_table(content: bytes, path: Path) -> Mapping[str, Any] | None:
    """The auditor table of a policy file's content; `path` names it in messages and says which kind it is."""
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"{path}: cannot read the auditor policy: {error}") from error
    table = data.get("tool", {}).get("auditor") if isinstance(data.get("tool"), dict) else None
    if table is None and path.name != "pyproject.toml":  # .auditor.toml, or a --config file: keys at the top
        table = {k: v for k, v in data.items() if k != "tool"}
    if table is not None and not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.auditor] must be a table")
    return table


def _config_key(key: str) -> str:
    """`allow_licenses`, `allow-license` and `allow-licence` are all one key."""
    key = key.lower().replace("_", "-").replace("license", "licence")
    return key[:-1] if key.endswith("licences") else key


def read_config(directory: Path, kb: KnowledgeBase | None = None) -> Policy:
    """The policy in `directory`'s .auditor.toml, else in its pyproject.toml; empty when neither has one."""
    for name in CONFIG_FILES:
        path = directory / name
        if path.is_file():
            policy = read_config_file(path, kb)
            if policy is not None:
                return policy
    return Policy()


def read_target_config(read: TargetFiles, directory: Path, kb: KnowledgeBase | None = None) -> Policy:
    """The policy in the audited repo's own .auditor.toml, else its pyproject.toml, read through its
    source (`read`), which keeps to the repo's boundary as the audit does; empty when neither has one."""
    for name in CONFIG_FILES:
        content = read(name)
        if content is not None:
            policy = _config_policy(_parsed_table(content, directory / name), directory / name, kb)
            if policy is not None:
                return policy
    return Policy()


def read_config_file(path: Path, kb: KnowledgeBase | None = None) -> Policy | None:
    """The policy one file declares; None when it has no auditor table. Licence names are
    checked against `kb` when one is given."""
    return _config_policy(_config_table(path), path, kb)


def _config_policy(table: Mapping[str, Any] | None, path: Path, kb: KnowledgeBase | None) -> Policy | None:
    if not table:
        return None
    values: dict[str, tuple[str, ...]] = {}
    allow_unsafe_to_load = False
    for key, value in table.items():
        normal = _config_key(str(key))
        if normal not in _KEYS:
            raise UsageError(f"{path}: unknown policy key '{key}'; valid keys: {', '.join(_KEYS)}")
        if normal == "allow-unsafe-to-load":
            if not isinstance(value, bool):
                raise UsageError(f"{path}: '{key}' must be true or false")
            allow_unsafe_to_load = value
            continue
        if not isinstance(value, (str, list)):
            raise UsageError(f"{path}: '{key}' must be a list of names or a comma-separated string")
        values[normal] = split_names(value)
    if kb is not None:
        from auditor.judge.licence_names import check_licence_names

        for key in ("allow-licence", "deny-licence"):
            check_licence_names(values.get(key, ()), kb, where=f"{path}: {key}")
    return Policy(
        fail_on=check_fail_on(values.get("fail-on"), where=f"{path}: fail-on"),
        allow=values.get("allow-licence", ()),
        deny=values.get("deny-licence", ()),
        origin=str(path),
        allow_unsafe_to_load=allow_unsafe_to_load,
    )


def policy_for(target: Target, flags: Policy, cwd: Path | None = None, config_file: Path | None = None,
               from_target: bool = False, kb: KnowledgeBase | None = None, target_files: TargetFiles | None = None) -> Policy:
    """The policy for one target, with each key given as a flag replacing the file's.

    The file is `config_file` when given, else the current directory's; the audited repo's own
    file replaces it only when `from_target` (a publisher auditing their own repo): a repo
    must not choose the rules it is judged by. The repo's file is read through its source
    (`target_files`), never from the disk directly: the repo is hostile until read within its boundary."""
    if config_file is not None:
        config = read_config_file(Path(config_file), kb)
        if config is None:
            raise UsageError(f"{config_file}: no auditor policy in it ([tool.auditor] or .auditor.toml keys)")
    else:
        config = read_config(cwd or Path.cwd(), kb)
    if from_target and target.kind is TargetKind.LOCAL and target.path:
        if target_files is None:
            raise ValueError("the audited repo's own policy file is read through its source: pass target_files")
        config = read_target_config(target_files, Path(target.path), kb) or config
    from_file = (config.fail_on and not flags.fail_on) or (config.allow and not flags.allow) or (config.deny and not flags.deny)
    return Policy(
        fail_on=flags.fail_on or config.fail_on,
        allow=flags.allow or config.allow,
        deny=flags.deny or config.deny,
        origin=config.origin if from_file else None,
        allow_unsafe_to_load=flags.allow_unsafe_to_load or config.allow_unsafe_to_load,
    )


def _name_keys(name: str, kb: KnowledgeBase | None) -> set[str]:
    from auditor.judge.licence_names import licence_keys

    keys = {name.strip().lower()}
    return keys | licence_keys(name, kb) if kb is not None else keys


def _licence_keys(licence: GoverningLicence, kb: KnowledgeBase | None) -> set[str]:
    keys = licence.keys()
    profile = kb.get(licence.id) if kb is not None and hasattr(kb, "get") else None
    if profile is not None:
        keys |= {profile.id.lower(), (profile.spdx or "").lower()} - {""}
    return keys


def evaluate(policy: Policy, result: AuditResult, kb: KnowledgeBase | None = None) -> PolicyOutcome:
    """Every rule of `policy` checked against one audit; the failures say why, with evidence."""
    failures: list[PolicyFailure] = []
    verdict = result.verdict.openness.value
    for name in policy.fail_on:
        rule = f"fail-on {name}"
        if name in VERDICTS:
            if verdict == name:
                reason = f": {result.verdict.reasons[0]}" if result.verdict.reasons else ""
                failures.append(PolicyFailure(rule, f"the verdict is {verdict}{reason}"))
        elif name == UNSAFE_TO_LOAD:
            from auditor.judge.load_safety import unsafe_to_load

            failures += [PolicyFailure(rule, warning.line, (warning.path,)) for warning in unsafe_to_load(result)]
        elif name in SEVERITIES:
            limit = _RANK[Severity(name)]
            hits = [f for f in result.findings if _RANK[f.severity] <= limit]
            if hits:
                codes = ", ".join(dict.fromkeys(f.code for f in hits))
                failures.append(PolicyFailure(rule, f"{len(hits)} finding(s) of severity {name} or worse: {codes}",
                                              tuple(dict.fromkeys(e for f in hits for e in f.evidence))))
        else:
            for item in (f for f in result.findings if gates(f.code, name)):
                prefix = "" if item.code == name else f"{item.code} (could not be checked): "
                failures.append(PolicyFailure(rule, prefix + item.message, item.evidence))
    if policy.allow:
        failures += _allow_failures(policy, result, kb)
    if policy.deny:
        denied = set().union(*(_name_keys(n, kb) for n in policy.deny))
        rule = "deny-licence " + ", ".join(policy.deny)
        failures += [PolicyFailure(rule, f"{licence.describe()}: a denied licence", licence.origins)
                     for licence in governing_licences(result, kb) if _licence_keys(licence, kb) & denied]
    return PolicyOutcome(policy.rules(), tuple(dict.fromkeys(failures)), policy.origin)  # each failure once


def gates(code: str, name: str) -> bool:
    """Whether a finding of `code` fails `--fail-on name`: its own code, or one it declares `also-fails`.

    A check that could not run (a pickle not scanned) fails the gate of what it would have found."""
    return code == name or name in (declared().get(code, {}).get("also-fails") or ())


def _allow_failures(policy: Policy, result: AuditResult, kb: KnowledgeBase | None) -> list[PolicyFailure]:
    rule = "allow-licence " + ", ".join(policy.allow)
    allowed = set().union(*(_name_keys(n, kb) for n in policy.allow))
    # An acceptable-use policy grants nothing, so it is neither allowed nor disallowed; the
    # licence that incorporates it is what the list is about.
    granting = [licence for licence in governing_licences(result, kb) if not licence.policy]
    if not granting:
        return [PolicyFailure(rule, "no licence was found, so none of the allowed licences applies")]
    return [PolicyFailure(rule, f"{licence.describe()}: not an allowed licence", licence.origins)
            for licence in granting if not (_licence_keys(licence, kb) & allowed)]
