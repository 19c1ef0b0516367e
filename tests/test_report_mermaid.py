"""Mermaid charts in markdown: the census summary's verdict, licence and relabelling charts and a
report's lineage graph, each parsed by the grammar of tests/mermaid_grammar.py; hostile labels
never break out of a label, a diagram or the fenced block."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from mermaid_grammar import MermaidSyntaxError, blocks, parse

from auditor.cli import audit_model
from auditor.model import Ancestor, AncestorStatus, History, HistoryEntry, Openness, Revision
from auditor.report.history_section import history_section
from auditor.report.mermaid import bar_chart, chart_label, graph_label, lineage_graph, pie

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
HOSTILE = [
    'evil" : 999\n```\n<script>alert(1)</script>',
    "]]-->|x| n0\n%%{init: {'theme': 'dark'}}%%",
    "#quot; `rm -rf` & <b>bold</b>",
    "end",
    "x" * 500,
    "\u202e\u0000 tab\there",
]


def repo_id(case: str) -> str:
    return yaml.safe_load((FIXTURES / case / "repo.yaml").read_text())["id"]


def test_the_grammar_refuses_what_mermaid_refuses():
    for bad in ['pie\n    "a" : 0', 'pie\n    "a"b" : 1', "xychart-beta\n    x-axis [\"a\"]\n    bar [1, 2]",
                'graph TD\n    n0["a"]\n    n0 -->|"r"| n1', 'graph TD\n    end["a"]', 'graph TD\n    n0["<b>a</b>"]',
                "sequenceDiagram\n    A->>B: hi",
                # empty quoted labels, titles and categories: mermaid.parse (11.x) refuses each
                'graph TD\n    n0[""]', 'graph TD\n    n0["a"]\n    n1["b"]\n    n0 -->|""| n1',
                'xychart-beta\n    x-axis [""]\n    bar [1]', 'xychart-beta\n    title ""\n    x-axis ["a"]\n    bar [1]']:
        with pytest.raises(MermaidSyntaxError):
            parse(bad)
    with pytest.raises(MermaidSyntaxError):
        blocks("```mermaid\npie\n    \"a\" : 1\n")


def test_an_empty_name_is_a_label_mermaid_accepts():
    """An ancestor with an empty relation, id or licence (a card may say so): every label still
    has a character, as Mermaid's parser requires (bench/mermaid_check.py found `-->|""|` refused)."""
    ancestor = Ancestor(repo_id="", child="org/model", relation=" ", depth=1, signal="card:base_model", licences=("",))
    graph = parse("\n".join(lineage_graph("org/model", [""], [ancestor])[1:-1]))
    assert len(graph.nodes) == 2 and graph.edges == [("n1", "?", "n0")]
    assert parse("\n".join(bar_chart("", "", [("", 1)])[1:-1])).categories == ["?"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_labels_stay_inside_their_label(hostile):
    pie_chart = parse("\n".join(pie(hostile, [(hostile, 3), ("apache-2.0", 2)])[1:-1]))
    assert [count for _, count in pie_chart.slices] == [3, 2]
    bars = parse("\n".join(bar_chart(hostile, hostile, [(hostile, 4), ("mit", 1)])[1:-1]))
    assert bars.bars == [4, 1] and len(bars.categories) == 2
    ancestor = Ancestor(repo_id=hostile, child="org/model", relation=hostile, depth=1, signal="card:base_model", licences=(hostile,))
    graph = parse("\n".join(lineage_graph("org/model", ["mit"], [ancestor])[1:-1]))
    assert len(graph.nodes) == 2 and len(graph.edges) == 1
    # a graph label decodes to the name as written (whitespace folded, bounded), nothing lost to escaping
    folded = " ".join(hostile.split())
    if len(folded) <= 60:
        assert graph.nodes["n1"].startswith(folded)
        assert graph.edges[0][1] == folded
    for line in lineage_graph("org/model", ["mit"], [ancestor]) + pie(hostile, [(hostile, 1)]):
        assert "\n" not in line and "<script" not in line and "%%" not in line
    assert chart_label(hostile).count('"') == 0 and graph_label(hostile).count('"') == 0


def test_a_lineage_graph_draws_ancestor_relation_and_release_with_licences():
    chain = [
        Ancestor("org/ft", "org/quant", "quantized", 1, "card:base_model", licences=("llama3.1",)),
        Ancestor("meta/base", "org/ft", "finetune", 2, "card:base_model", licences=("llama3.1",)),
        Ancestor("gone/base", "org/ft", "merge", 2, "card:base_model", status=AncestorStatus.UNREADABLE, reason="404"),
    ]
    graph = parse("\n".join(lineage_graph("org/quant", ["apache-2.0"], chain)[1:-1]))
    names = {label.split("<br/>")[0]: node for node, label in graph.nodes.items()}
    assert graph.nodes[names["org/quant"]].endswith("apache-2.0")
    assert graph.nodes[names["gone/base"]].endswith("no licence found (unreadable)")
    edges = {(graph.nodes[a].split("<br/>")[0], label, graph.nodes[b].split("<br/>")[0]) for a, label, b in graph.edges}
    assert edges == {("org/ft", "quantized", "org/quant"), ("meta/base", "finetune", "org/ft"), ("gone/base", "merge", "org/ft")}


def test_a_markdown_report_draws_its_lineage_chain(fake_hub):
    target = repo_id("lineage-chain-quant")
    runner = CliRunner()
    report = json.loads(runner.invoke(audit_model, [target, "--format", "json"]).stdout)
    markdown = runner.invoke(audit_model, [target, "--format", "markdown"]).stdout
    (graph,) = [parse(b) for b in blocks(markdown)]
    drawn = {label.split("<br/>")[0]: label.split("<br/>")[1] for label in graph.nodes.values()}
    assert set(drawn) == {target} | {a["repo_id"] for a in report["lineage"]}
    for ancestor in report["lineage"]:
        assert all(licence in drawn[ancestor["repo_id"]] for licence in ancestor["licences"])
    ids = {node: label.split("<br/>")[0] for node, label in graph.nodes.items()}
    assert {(ids[a], label, ids[b]) for a, label, b in graph.edges} == {
        (a["repo_id"], a["relation"], a["child"]) for a in report["lineage"]}


def test_the_census_summary_charts_verdicts_licences_and_relabelling(fake_hub, tmp_path):
    targets = ["fixture-co/apache-7b", "fixture-lab/open-science-1b", "fixture-corp/research-13b", "fetch-lab/big-weights",
               repo_id("lineage-relabelled-finetune"), repo_id("lineage-adapter")]
    out, stream = tmp_path / "census.md", tmp_path / "census.jsonl"
    runner = CliRunner()
    runner.invoke(audit_model, [*targets, "-q", "--jobs", "2", "--format", "jsonl", "-o", str(stream)])
    runner.invoke(audit_model, [*targets, "-q", "--jobs", "2", "-o", str(out)])
    summaries = [json.loads(line)["summary"] for line in stream.read_text().splitlines()]
    charts = [parse(b) for b in blocks(out.read_text(encoding="utf-8"))]
    verdicts, licences, relabelling = charts
    assert Counter({name: int(n) for name, n in verdicts.slices}) == Counter(s["verdict"] for s in summaries)
    governing = Counter(s.get("governing_licences") or "(none found)" for s in summaries)
    assert dict(zip(licences.categories, licences.bars, strict=True)) == {chart_label(k): v for k, v in governing.items()}
    derivatives = [s for s in summaries if s.get("derivative")]
    relabelled = sum(bool(s.get("relabelled")) for s in derivatives)
    assert relabelled >= 1
    assert dict(relabelling.slices) == {k: v for k, v in {"relabel": relabelled, "keep their terms": len(derivatives) - relabelled}.items() if v}
    assert re.search(r"```mermaid\npie showData title Verdicts\n", out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_history_keeps_three_events_a_period_in_the_timeline(hostile):
    """Each revision is one period with its governing licence, commercial use and verdict: a
    date, title or licence name with colons, semicolons or fences adds no event and ends none
    (Mermaid splits a timeline line at every colon)."""
    entries = (HistoryEntry(Revision("a" * 40, hostile, hostile), hostile, (hostile,), hostile, Openness.NOT_OPEN),
               HistoryEntry(Revision("b" * 40, "2025-02-01T00:00:00Z", "relicensed"), "Apache-2.0", ("Apache-2.0",), "yes",
                            Openness.OPEN_SOURCE))
    charts = blocks("\n".join(history_section(History(entries, listed=2, since=hostile))))
    assert len(charts) == 1
    timeline = parse(charts[0])
    assert [len(events) for _, events in timeline.periods] == [3, 3]
    assert timeline.periods[1] == ("2025-02-01", ["Apache-2.0", "commercial use yes", "open-source"])
