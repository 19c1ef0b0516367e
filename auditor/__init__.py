"""auditor: what an AI model release contains, under which licences, and how open it is."""

__version__ = "0.1.0"
