"""Licence identification: which licences, policies and references a text or a model card holds.

The knowledge base (kb.py) is read from licences/ once per process; the matcher indexes its
reference texts on first use. Nothing heavy happens at import time, so the CLI starts fast.
"""

from auditor.identify.engine import identify_text
from auditor.identify.expression import spdx_expression
from auditor.identify.interface import LicenceIdentifier, licence_engine
from auditor.identify.kb import KnowledgeBase, LicenceCategory, LicenceProfile, load_knowledge_base
from auditor.identify.metadata import identify_card_licences, identify_gguf_licences, identify_readme_sections

__all__ = [
    "KnowledgeBase",
    "LicenceCategory",
    "LicenceIdentifier",
    "LicenceProfile",
    "identify_card_licences",
    "identify_gguf_licences",
    "identify_readme_sections",
    "identify_text",
    "licence_engine",
    "load_knowledge_base",
    "spdx_expression",
]
