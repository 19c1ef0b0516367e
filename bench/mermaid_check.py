#!/usr/bin/env python3
"""Check every kind of Mermaid chart the reports draw with Mermaid's own parser, hostile names included.

The charts are made by the code the reports use: the census summary (auditor.report.census,
its verdict pie, governing-licence bar chart and relabelling pie) over records whose verdicts
and licence names are hostile, the lineage graph (auditor.report.mermaid.lineage_graph, as
a single report draws it) of ancestors with hostile repo ids, relations and licences, and the
--history timeline (auditor.report.history_section) of hostile dates, titles and licences.
Each chart goes to `mermaid.parse` (the npm package, under node with jsdom) and is also parsed
by the suite's grammar (tests/mermaid_grammar.py), which must never accept what Mermaid refuses.
The suite keeps the grammar test; this is run on purpose, where node is installed:

    mkdir -p /tmp/mmd && (cd /tmp/mmd && npm init -y && npm install mermaid jsdom)
    python bench/mermaid_check.py --mermaid-dir /tmp/mmd

Beyond parsing, each chart's shape in Mermaid's own model (pie slices, graph nodes and edges, bar
chart categories and bars, timeline periods and events) must be the one the grammar reads, so
no hostile name added or swallowed a slice, node, edge or event. Exit 0 when Mermaid accepts
every chart with that shape, 1 otherwise (each difference printed), 2 when node or the mermaid
package is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

HOSTILE = [
    'evil" : 999\n```\n<script>alert(1)</script>',
    "]]-->|x| n0\n%%{init: {'theme': 'dark'}}%%",
    "#quot; `rm -rf` & <b>bold</b>",
    "a --> b",
    "[brackets] (parens) {braces}",
    "%% comment",
    "`backticks`",
    "Licence « Ünïcödé » 许可证 🚀",
    "end",
    "graph TD",
    "x" * 500,
    "\u202e\u0000 tab\there",
    "quote's \"double\" 'single'",
    ";;;:::,,,",
    "",
    "#35; #quot; &amp; &#60;",
    "click n0 call alert()",
    "style n0 fill:#f00",
]

# Reads [{name, text}] as JSON on stdin, writes [{name, ok, error}]: mermaid's own parse of each chart.
_PARSER = """
import { JSDOM } from "jsdom";
const dom = new JSDOM("<!DOCTYPE html><body></body>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const key of ["DOMParser", "Element", "HTMLElement", "Node", "SVGElement"]) {
  if (!(key in globalThis)) globalThis[key] = dom.window[key];
}
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
const count = (value) => (value instanceof Map ? value.size : Array.isArray(value) ? value.length : Object.keys(value).length);
async function shape(text) {  // what the diagram declares, as Mermaid's own model of it holds it
  const db = (await mermaid.mermaidAPI.getDiagramFromText(text)).db;
  const found = {};
  if (db.getVertices) found.nodes = count(db.getVertices());
  if (db.getEdges) found.edges = db.getEdges().length;
  if (db.getTasks) found.events = db.getTasks().map((task) => task.events.length);
  else if (db.getSections) found.slices = count(db.getSections());
  if (db.getXYChartData) {
    const data = db.getXYChartData();
    found.categories = data.xAxis.categories.length;
    found.bars = data.plots.map((plot) => plot.data.length);
  }
  return found;
}
let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const chart of JSON.parse(input)) {
  try {
    const parsed = await mermaid.parse(chart.text);
    results.push({ name: chart.name, ok: true, type: parsed && parsed.diagramType, shape: await shape(chart.text) });
  } catch (error) {
    results.push({ name: chart.name, ok: false, error: String((error && error.message) || error).slice(0, 500) });
  }
}
process.stdout.write(JSON.stringify(results) + "\\n");
"""


def census_charts() -> list[tuple[str, str]]:
    """The charts of census summaries whose verdicts and governing licences are hostile names."""
    from mermaid_grammar import blocks

    from auditor.report.census import render_census

    charts = []
    for index, name in enumerate(HOSTILE):
        records = [
            {"status": "audited", "summary": {"verdict": name, "governing_licences": name, "derivative": True, "relabelled": True}},
            {"status": "audited", "summary": {"verdict": "open-source", "governing_licences": "Apache-2.0", "derivative": True}},
            {"status": "failed", "summary": {"repo": name}},
        ]
        markdown = "".join(render_census(lambda records=records: iter(records)))
        charts += [(f"census {index} chart {n}", block) for n, block in enumerate(blocks(markdown))]
    return charts


def lineage_charts() -> list[tuple[str, str]]:
    """Lineage graphs whose ancestors' ids, relations and licences are hostile names."""
    from auditor.model import Ancestor, AncestorStatus
    from auditor.report.mermaid import lineage_graph

    charts = []
    for index, name in enumerate(HOSTILE):
        chain = [Ancestor(repo_id=name, child="org/model", relation=name, depth=1, signal="card:base_model", licences=(name, "MIT")),
                 Ancestor(repo_id="base/" + name, child=name, relation="finetune", depth=2, signal="card:base_model",
                          licences=(), status=AncestorStatus.UNREADABLE)]
        lines = lineage_graph(name or "org/model", [name, "Apache-2.0"], chain)
        charts.append((f"lineage {index}", "\n".join(lines[1:-1])))
    return charts


def history_charts() -> list[tuple[str, str]]:
    """The --history timeline of entries whose dates, governing licences and terms are hostile names."""
    from mermaid_grammar import blocks

    from auditor.model import History, HistoryEntry, Openness, Revision
    from auditor.report.history_section import history_section

    charts = []
    for index, name in enumerate(HOSTILE):
        entries = (HistoryEntry(Revision("a" * 40, name or "2025-01-01", name), name, (name,), name, Openness.NOT_OPEN),
                   HistoryEntry(Revision("b" * 40, "2025-02-01T00:00:00Z", "relicensed"), "Apache-2.0", ("Apache-2.0",),
                                "yes", Openness.OPEN_SOURCE))
        markdown = "\n".join(history_section(History(entries, listed=2, since=name)))
        charts += [(f"history {index}", block) for block in blocks(markdown)]
    return charts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mermaid-dir", type=Path, default=Path(os.environ.get("AUDITOR_MERMAID_DIR", "/tmp/mmd")),
                        help="a folder where `npm install mermaid jsdom` was run")
    args = parser.parse_args()
    node = shutil.which("node")
    if node is None or not (args.mermaid_dir / "node_modules" / "mermaid").is_dir():
        print(f"needs node and `npm install mermaid jsdom` in {args.mermaid_dir}", file=sys.stderr)
        return 2
    from mermaid_grammar import MermaidSyntaxError, parse

    charts = census_charts() + lineage_charts() + history_charts()
    script = args.mermaid_dir / "audit-model-parse.mjs"
    script.write_text(_PARSER, encoding="utf-8")
    version = json.loads((args.mermaid_dir / "node_modules" / "mermaid" / "package.json").read_text())["version"]
    answer = subprocess.run([node, str(script)], input=json.dumps([{"name": n, "text": t} for n, t in charts]),
                            capture_output=True, text=True, cwd=args.mermaid_dir, timeout=300)
    if answer.returncode != 0:
        print(answer.stderr, file=sys.stderr)
        return 2
    results = json.loads(answer.stdout)
    refused, disagreements = [], []
    for (name, text), result in zip(charts, results, strict=True):
        if not result["ok"]:
            refused.append((name, text, result["error"]))
        try:
            ours = _shape(parse(text))
        except MermaidSyntaxError:
            continue
        if not result["ok"] or any(result["shape"].get(key) != value for key, value in ours.items()):
            disagreements.append(f"{name}: grammar {ours}, Mermaid {result.get('shape') or 'refused'}")
    timelines = [(name, result) for (name, _), result in zip(charts, results, strict=True) if result.get("type") == "timeline"]
    for name, result in timelines:  # two entries of three events each (licence, commercial use, verdict): no name adds or ends one
        if result["shape"].get("events") != [3, 3]:
            disagreements.append(f"{name}: timeline periods and events {result['shape'].get('events')}, not [3, 3]")
    kinds: dict[str, int] = {}
    for result in results:
        kinds[result.get("type") or "refused"] = kinds.get(result.get("type") or "refused", 0) + 1
    print(f"mermaid {version}: {len(results) - len(refused)} of {len(results)} charts parsed "
          f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); {len(HOSTILE)} hostile names")
    for name, text, error in refused:
        print(f"\nREFUSED {name}:\n{text}\n  -> {error}")
    print(f"shapes in Mermaid's model as the grammar reads them (timelines: three events a period): "
          f"{len(results) - len(refused) - len(disagreements)} of {len(results)}")
    for line in disagreements:
        print(f"DIFFERENT {line}")
    return 1 if refused or disagreements else 0


def _shape(diagram: Any) -> dict[str, Any]:
    """What the grammar of tests/mermaid_grammar.py read in a diagram, as the Mermaid side counts it."""
    if diagram.kind == "pie":
        return {"slices": len({label for label, _ in diagram.slices})}  # Mermaid keys slices by label
    if diagram.kind == "xychart":
        return {"categories": len(diagram.categories), "bars": [len(diagram.bars)]}
    if diagram.kind == "timeline":
        return {"events": [len(events) for _, events in diagram.periods]}
    return {"nodes": len(diagram.nodes), "edges": len(diagram.edges)}


if __name__ == "__main__":
    sys.exit(main())
