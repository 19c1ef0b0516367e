#!/usr/bin/env python3
"""Check every kind of Mermaid chart the reports draw with Mermaid's own parser, hostile names included.

The charts are made by the code the reports use: the census summary (auditor.report.census,
its verdict pie, governing-licence bar chart and relabelling pie) over records whose verdicts
and licence names are hostile, and the lineage graph (auditor.report.mermaid.lineage_graph, as
a single report draws it) of ancestors with hostile repo ids, relations and licences. Each
chart goes to `mermaid.parse` (the npm package, under node with jsdom); each is also parsed
by the suite's grammar (tests/mermaid_grammar.py), and the two must agree that it is valid.
The suite keeps the grammar test; this is run on purpose, where node is installed:

    mkdir -p /tmp/mmd && (cd /tmp/mmd && npm init -y && npm install mermaid jsdom)
    python bench/mermaid_check.py --mermaid-dir /tmp/mmd

Exit 0 when Mermaid accepts every chart, 1 when it refuses one (each refusal printed), 2 when
node or the mermaid package is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

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
let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const chart of JSON.parse(input)) {
  try {
    const parsed = await mermaid.parse(chart.text);
    results.push({ name: chart.name, ok: true, type: parsed && parsed.diagramType });
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

    charts = census_charts() + lineage_charts()
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
        try:
            parse(text)
            grammar_ok = True
        except MermaidSyntaxError:
            grammar_ok = False
        if not result["ok"]:
            refused.append((name, text, result["error"]))
        if grammar_ok and not result["ok"]:
            disagreements.append(name)
    kinds: dict[str, int] = {}
    for result in results:
        kinds[result.get("type") or "refused"] = kinds.get(result.get("type") or "refused", 0) + 1
    print(f"mermaid {version}: {len(results) - len(refused)} of {len(results)} charts parsed "
          f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); {len(HOSTILE)} hostile names")
    for name, text, error in refused:
        print(f"\nREFUSED {name}:\n{text}\n  -> {error}")
    if disagreements:
        print(f"\nthe grammar test accepts what Mermaid refuses: {', '.join(disagreements)}")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
