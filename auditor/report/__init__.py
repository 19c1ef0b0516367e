"""Output formats: one Renderer per format, chosen by OutputFormat."""

from __future__ import annotations

from enum import Enum

from auditor.report.interface import Renderer


class OutputFormat(str, Enum):
    MARKDOWN = "markdown"
    JSON = "json"
    SARIF = "sarif"
    CYCLONEDX = "cyclonedx"


def renderer_for(output_format: OutputFormat) -> Renderer:
    # Imported here so `audit-model --version` never pays for renderers it does not use.
    if output_format is OutputFormat.MARKDOWN:
        from auditor.report.markdown import MarkdownRenderer

        return MarkdownRenderer()
    if output_format is OutputFormat.JSON:
        from auditor.report.json_report import JsonRenderer

        return JsonRenderer()
    if output_format is OutputFormat.SARIF:
        from auditor.report.sarif import SarifRenderer

        return SarifRenderer()
    if output_format is OutputFormat.CYCLONEDX:
        from auditor.report.cyclonedx import CycloneDxRenderer

        return CycloneDxRenderer()
    raise ValueError(output_format)
