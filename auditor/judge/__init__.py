"""Judging: licence terms, components, lineage, duties and the verdict, from what the earlier stages found."""
