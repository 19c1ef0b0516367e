"""The policy: --fail-on names, licence allow and deny lists, configuration files, and the report section."""

import json
from dataclasses import replace
from types import SimpleNamespace

import pytest
from auditresults import hub_result, relabelled_result, unlicensed_result

from auditor.errors import UsageError
from auditor.findings import finding
from auditor.judge.policy import Policy, check_fail_on, evaluate, policy_for, read_config, split_names
from auditor.model import Target, TargetKind
from auditor.report import OutputFormat, renderer_for
from auditor.sources.local import LocalSource


class FakeKb:
    """Two profiles and their names, with the knowledge base's get/lookup contract."""

    def __init__(self):
        apache = SimpleNamespace(id="apache-2.0", spdx="Apache-2.0")
        llama = SimpleNamespace(id="llama3.1", spdx="LicenseRef-llama3.1")
        self.by_id = {p.id: p for p in (apache, llama)}
        self.names = {"apache-2.0": apache, "apache license 2.0": apache, "apache 2": apache,
                      "llama3.1": llama, "llama 3.1 community license": llama}

    def get(self, licence_id):
        return self.by_id.get(licence_id)

    def lookup(self, name):
        return self.names.get(name.strip().lower())


KB = FakeKb()


def failed_rules(outcome):
    return [f.rule for f in outcome.failures]


def test_split_names_accepts_commas_lines_and_repeats():
    assert split_names(["not-open,unknown", "unsafe-pickle\n error,", "unknown"]) == ("not-open", "unknown", "unsafe-pickle", "error")
    assert split_names("Apache License 2.0, mit") == ("Apache License 2.0", "mit")
    assert split_names(None) == () and split_names("mit") == ("mit",)


def test_fail_on_accepts_verdicts_codes_severities_and_the_us_spelling():
    assert check_fail_on(["Not-Open,license-relabelled", "error"]) == ("not-open", "licence-relabelled", "error")


def test_unknown_fail_on_name_is_a_usage_error_listing_valid_names():
    with pytest.raises(UsageError) as caught:
        check_fail_on(["not-open,closed"])
    message = str(caught.value)
    assert "'closed'" in message and "restricted-weights" in message and "--list-findings" in message and "warning" in message
    assert "pickle" not in message and len(message) < 400  # the codes are listed by --list-findings, not here
    assert caught.value.exit_code == 2


def test_unknown_fail_on_name_suggests_the_closest_and_reads_underscores_as_hyphens():
    assert check_fail_on(["unsafe_pickle", "Not_Open"]) == ("unsafe-pickle", "not-open")
    with pytest.raises(UsageError) as caught:
        check_fail_on("unsafe-pickel")
    assert "did you mean 'unsafe-pickle'" in str(caught.value)


def test_verdict_rule():
    outcome = evaluate(Policy(fail_on=("restricted-weights", "not-open")), relabelled_result(), KB)
    assert failed_rules(outcome) == ["fail-on restricted-weights"]
    assert "restricted-weights" in outcome.failures[0].message and not outcome.passed
    assert evaluate(Policy(fail_on=("not-open",)), hub_result(), KB).passed


def test_finding_code_rule_carries_the_finding_and_its_evidence():
    outcome = evaluate(Policy(fail_on=("licence-relabelled", "unsafe-pickle")), relabelled_result(), KB)
    assert failed_rules(outcome) == ["fail-on licence-relabelled"]
    assert outcome.failures[0].evidence == ("card:license", "LICENSE")


def test_severity_thresholds():
    result = hub_result()  # a warning (pickle-weights) and two info findings, no error
    assert evaluate(Policy(fail_on=("error",)), result, KB).passed
    warning = evaluate(Policy(fail_on=("warning",)), result, KB)
    assert failed_rules(warning) == ["fail-on warning"] and "pickle-weights" in warning.failures[0].message
    assert "training-code-missing" in evaluate(Policy(fail_on=("info",)), result, KB).failures[0].message
    errors = replace(result, findings=result.findings + (finding("unsafe-pickle", "calls os.system", ["pytorch_model.bin"]),))
    outcome = evaluate(Policy(fail_on=("error",)), errors, KB)
    assert "unsafe-pickle" in outcome.failures[0].message and outcome.failures[0].evidence == ("pytorch_model.bin",)


@pytest.mark.parametrize("name", ["apache-2.0", "Apache-2.0", "Apache License 2.0"])
def test_allow_list_matches_ids_spdx_ids_and_aliases(name):
    assert evaluate(Policy(allow=(name,)), hub_result(), KB).passed


def test_allow_list_fails_on_every_other_licence_but_not_on_a_use_policy():
    outcome = evaluate(Policy(allow=("apache-2.0", "mit")), relabelled_result(), KB)
    assert failed_rules(outcome) == ["allow-licence apache-2.0, mit"]
    assert "Llama 3.1 Community License, found in LICENSE: not an allowed licence" == outcome.failures[0].message


def test_allow_list_fails_when_there_is_no_licence():
    outcome = evaluate(Policy(allow=("mit",)), unlicensed_result(), KB)
    assert "no licence" in outcome.failures[0].message


def test_allow_list_fails_on_an_unknown_licence():
    base = hub_result()
    other = replace(base.licences[0], id="my-custom", name="my-custom", spdx=None)
    outcome = evaluate(Policy(allow=("apache-2.0",)), replace(base, licences=(other,)), KB)
    assert outcome.failures[0].message == "my-custom, found in card:license: not an allowed licence"


def test_deny_list_by_alias_groups_sources():
    outcome = evaluate(Policy(deny=("Llama 3.1 Community License",)), relabelled_result(), KB)
    assert [f.message for f in outcome.failures] == ["Llama 3.1 Community License, found in LICENSE: a denied licence"]
    assert evaluate(Policy(deny=("llama3.1",)), hub_result(), KB).passed
    both = evaluate(Policy(deny=("Apache-2.0",)), hub_result(), KB)
    assert both.failures[0].message == "Apache License 2.0 (weights), found in card:license, LICENSE: a denied licence"


def test_without_a_knowledge_base_names_match_ids_and_spdx_ids():
    assert evaluate(Policy(allow=("APACHE-2.0",)), hub_result()).passed
    assert not evaluate(Policy(deny=("licenseref-llama3.1",)), relabelled_result()).passed


def test_outcome_dict_lists_rules_and_failures():
    outcome = evaluate(Policy(fail_on=("not-open", "restricted-weights"), deny=("mit",)), relabelled_result(), KB)
    data = outcome.to_dict()
    assert data["passed"] is False
    assert data["rules"] == ["fail-on not-open", "fail-on restricted-weights", "deny-licence mit"]
    assert [f["rule"] for f in data["failures"]] == ["fail-on restricted-weights"]


def local(path):
    return Target(TargetKind.LOCAL, path=str(path))


def test_config_from_auditor_toml_with_either_spelling(tmp_path):
    (tmp_path / ".auditor.toml").write_text('fail-on = ["not-open", "unsafe-pickle"]\nallow_licenses = "apache-2.0, mit"\n')
    policy = read_config(tmp_path)
    assert policy.fail_on == ("not-open", "unsafe-pickle") and policy.allow == ("apache-2.0", "mit")
    assert policy.origin.endswith(".auditor.toml")


def test_config_from_pyproject_tool_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.auditor]\ndeny-licence = ["cc-by-nc-4.0"]\n')
    assert read_config(tmp_path).deny == ("cc-by-nc-4.0",)


def test_pyproject_without_the_table_is_no_policy(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert not read_config(tmp_path)


@pytest.mark.parametrize("text, fragment", [
    ('fail-on = ["closed"]\n', "unknown name 'closed'"),
    ('fail-if = ["not-open"]\n', "unknown policy key 'fail-if'"),
    ("fail-on = [\n", "cannot read"),
    ("fail-on = 3\n", "must be a list"),
])
def test_bad_config_is_a_usage_error_naming_the_file(tmp_path, text, fragment):
    (tmp_path / ".auditor.toml").write_text(text)
    with pytest.raises(UsageError) as caught:
        read_config(tmp_path)
    assert fragment in str(caught.value) and ".auditor.toml" in str(caught.value)


def test_flags_override_the_file_key_by_key(tmp_path):
    (tmp_path / ".auditor.toml").write_text('fail-on = ["not-open"]\nallow-licence = ["mit"]\n')
    target = local(tmp_path)
    files = lambda name: LocalSource().read_file(target, name)  # noqa: E731 - the repo's own file, through its source
    policy = policy_for(target, Policy(fail_on=("error",)), from_target=True, target_files=files)
    assert policy.fail_on == ("error",) and policy.allow == ("mit",) and policy.origin
    only_flags = policy_for(target, Policy(fail_on=("error",), allow=("apache-2.0",)), from_target=True, target_files=files)
    assert only_flags.origin is None


def test_the_repos_own_policy_file_is_read_within_its_boundary(tmp_path):
    """A target's .auditor.toml that is a symlink out of the repo is not followed: the repo's policy is its own files'."""
    outside = tmp_path / "outside.toml"
    outside.write_text('fail-on = ["not-open"]\n')
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".auditor.toml").symlink_to(outside)
    target = local(repo)
    policy = policy_for(target, Policy(), cwd=tmp_path / "elsewhere", from_target=True,
                        target_files=lambda name: LocalSource().read_file(target, name))
    assert policy.fail_on == () and policy.origin is None


def test_every_target_reads_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / ".auditor.toml").write_text('fail-on = ["unknown"]\n')
    hub = Target(TargetKind.HUB, repo_id="org/name")
    assert policy_for(hub, Policy(), cwd=tmp_path).fail_on == ("unknown",)
    monkeypatch.chdir(tmp_path)
    assert policy_for(hub, Policy()).fail_on == ("unknown",)
    assert policy_for(local(tmp_path / "elsewhere"), Policy()).fail_on == ("unknown",)


def test_the_targets_own_policy_applies_only_when_asked_and_config_file_replaces_the_current_directory(tmp_path):
    repo, elsewhere = tmp_path / "repo", tmp_path / "cwd"
    repo.mkdir(), elsewhere.mkdir()
    (repo / ".auditor.toml").write_text('fail-on = ["error"]\n')
    (elsewhere / ".auditor.toml").write_text('fail-on = ["not-open"]\n')
    chosen = tmp_path / "policy.toml"
    chosen.write_text('[tool.auditor]\ndeny-licence = ["mit"]\n')
    assert policy_for(local(repo), Policy(), cwd=elsewhere).fail_on == ("not-open",)  # the repo does not pick its rules
    own = policy_for(local(repo), Policy(), cwd=elsewhere, from_target=True, target_files=lambda name: LocalSource().read_file(local(repo), name))
    assert own.fail_on == ("error",)
    by_file = policy_for(local(repo), Policy(), cwd=elsewhere, config_file=chosen)
    assert by_file.deny == ("mit",) and not by_file.fail_on and by_file.origin == str(chosen)


def outcomes():
    return [evaluate(Policy(fail_on=("restricted-weights",), allow=("apache-2.0",)), relabelled_result(), KB)]


def test_markdown_policy_section_comes_last_with_failures():
    renderer = renderer_for(OutputFormat.MARKDOWN)
    report = renderer.render(relabelled_result())
    text = renderer.render_batch([relabelled_result()], outcomes=outcomes())
    section = text[text.index("## Policy"):]
    assert text.startswith(report.rstrip("\n")) and "## " not in section[3:]
    assert "**Policy failed** (2 failures)" in section
    assert section.rstrip().endswith("not an allowed licence")


def test_json_policy_object_is_added_last():
    data = json.loads(renderer_for(OutputFormat.JSON).render_batch([relabelled_result()], outcomes=outcomes()))
    assert list(data)[-1] == "policy"
    assert data["policy"]["passed"] is False and len(data["policy"]["failures"]) == 2


def test_json_batch_gets_a_policy_per_result():
    passed = evaluate(Policy(fail_on=("not-open",)), hub_result(), KB)
    report = renderer_for(OutputFormat.JSON).render_batch([relabelled_result(), hub_result()], [("x/y", "not found")],
                                                          outcomes() + [passed])
    data = json.loads(report)
    assert [r["policy"]["passed"] for r in data["results"]] == [False, True]


def test_sarif_and_cyclonedx_carry_the_outcome():
    sarif = json.loads(renderer_for(OutputFormat.SARIF).render_batch([relabelled_result()], outcomes=outcomes()))
    assert sarif["runs"][0]["properties"]["policy"]["passed"] is False
    bom = json.loads(renderer_for(OutputFormat.CYCLONEDX).render_batch([relabelled_result()], outcomes=outcomes()))
    model = [c for c in bom["components"] if c["type"] == "machine-learning-model"][0]
    assert {"name": "audit-model:policy", "value": "failed"} in model["properties"]


def test_no_policy_leaves_the_report_untouched():
    for output_format in (OutputFormat.MARKDOWN, OutputFormat.JSON, OutputFormat.SARIF):
        renderer = renderer_for(output_format)
        assert renderer.render_batch([hub_result()], outcomes=[None]) == renderer.render(hub_result())
    bom = renderer_for(OutputFormat.CYCLONEDX).render_batch([hub_result()], outcomes=[None])  # its serial number differs each time
    assert "audit-model:policy" not in bom


def test_cli_rejects_an_unknown_fail_on_name_before_auditing(tmp_path):
    from click.testing import CliRunner

    from auditor.cli import audit_model

    outcome = CliRunner().invoke(audit_model, [str(tmp_path), "--fail-on", "not-open,closed"])
    assert outcome.exit_code == 2
    assert "unknown name 'closed'" in outcome.output and "--list-findings" in outcome.output
    assert "auditing" not in outcome.output


def test_cli_policy_end_to_end_with_the_real_knowledge_base(tmp_path):
    from click.testing import CliRunner

    from auditor.cli import audit_model
    from fakehub.checkout import materialise

    fixtures = __import__("pathlib").Path(__file__).parent / "fixtures" / "repos"
    checkout = materialise(fixtures / "relabelled", tmp_path / "relabelled")
    runner = CliRunner()
    # The Llama licence is denied by its full name, an alias the knowledge base resolves.
    denied = runner.invoke(audit_model, [str(checkout), "--format", "json", "--deny-license", "Llama 3.1 Community License"])
    assert denied.exit_code == 1, denied.output
    data = json.loads(denied.stdout)
    assert data["policy"]["passed"] is False
    assert data["policy"]["failures"][0]["rule"] == "deny-licence Llama 3.1 Community License"
    allowed = runner.invoke(audit_model, [str(checkout), "--format", "json", "--allow-licence", "llama3.1,Apache License 2.0"])
    assert allowed.exit_code == 0, allowed.output
    # every policy keeps the gate on files unsafe to load, and says so among its rules
    assert json.loads(allowed.stdout)["policy"] == {"passed": True, "rules": ["fail-on unsafe-to-load", "allow-licence llama3.1, Apache License 2.0"],
                                                     "failures": [], "source": None}
    plain = runner.invoke(audit_model, [str(checkout), "--format", "json"])
    assert plain.exit_code == 0 and "policy" not in json.loads(plain.stdout)
