"""The markdown report drawn on a terminal with rich: headings, tables, and severities in colour.

Only used when stdout is a terminal; piped or redirected output stays raw markdown. The
markdown is already escaped (auditor.report.escape), and every piece of text rich draws is
passed through `escape.terminal` again, so nothing the repository supplied can reach the
terminal as an escape sequence (an HTML entity such as `&#27;` decodes to one inside rich).
"""

from __future__ import annotations

from typing import Iterable, TextIO

from auditor.report.escape import terminal

# Severity words are drawn bold (`**error**`); these colours make them stand out.
SEVERITY_STYLES = {"error": "bold red", "warning": "bold yellow", "info": "bold cyan",
                   "Policy failed": "bold red", "Policy passed.": "bold green"}


def _coloured(segments: Iterable, styles: dict) -> Iterable:
    from rich.segment import Segment
    from rich.style import Style

    for segment in segments:
        text, style, control = segment
        if control:  # cursor movement and the like: never emitted for a report
            continue
        text = terminal(text)
        colour = styles.get(text.strip()) if style is not None and style.bold else None
        yield Segment(text, (style + Style.parse(colour)) if colour else style)


def print_markdown(markdown: str, stream: TextIO, width: int | None = None) -> None:
    """Draw `markdown` on `stream`, a terminal, in colour."""
    from rich.console import Console
    from rich.markdown import Markdown
    from rich.segment import Segments

    console = Console(file=stream, width=width, force_terminal=True, highlight=False, emoji=False)
    segments = list(_coloured(console.render(Markdown(markdown), console.options), SEVERITY_STYLES))
    console.print(Segments(segments))
