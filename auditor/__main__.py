"""`python -m auditor` runs the audit-model command."""

from auditor.cli import main

main()
