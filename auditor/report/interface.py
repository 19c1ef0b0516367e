"""The renderer contract: one AuditResult (or a batch of them, with their policy outcomes) in, text out.

Every output format is one module in this package implementing Renderer, and one member of
OutputFormat in auditor.report; nothing else changes when a format is added. A renderer writes
the policy outcomes into its own structure; no finished report is parsed again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from auditor.model import AuditResult

if TYPE_CHECKING:
    from auditor.judge.policy import PolicyOutcome

# The policy outcome of each result, lined up with the results; None where no rule applied.
Outcomes = Sequence["PolicyOutcome | None"]


def outcome_at(outcomes: Outcomes, index: int) -> PolicyOutcome | None:
    """The outcome of the `index`-th result, None when there is none."""
    return outcomes[index] if index < len(outcomes) else None


class Renderer(ABC):
    """A report format's renderer: one audit, or a batch with its failures, as text."""

    @abstractmethod
    def render(self, result: AuditResult) -> str:
        """One audit as text."""

    @abstractmethod
    def render_batch(self, results: Sequence[AuditResult], failures: Sequence[tuple[str, str]] = (),
                     outcomes: Outcomes = ()) -> str:
        """Several audits; `failures` are (target, one-line error) of targets that could not be audited,
        `outcomes` the policy outcomes of the results, which each format writes into its own structure."""
