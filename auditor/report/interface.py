"""The renderer contract: one AuditResult (or a batch of them) in, text out.

Every output format is one module in this package implementing Renderer, and one member of
OutputFormat in auditor.report; nothing else changes when a format is added.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from auditor.model import AuditResult


class Renderer(ABC):
    """A report format's renderer: one audit, or a batch with its failures, as text."""

    @abstractmethod
    def render(self, result: AuditResult) -> str:
        """One audit as text."""

    def render_batch(self, results: Sequence[AuditResult], failures: Sequence[tuple[str, str]] = ()) -> str:
        """Several audits; `failures` are (target, one-line error) of targets that could not be audited."""
        parts = [self.render(result) for result in results]
        parts += [f"# {target}\n\nnot audited: {message}\n" for target, message in failures]
        return "\n\n".join(parts)
