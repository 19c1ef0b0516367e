"""Judging: licence terms, components, lineage, duties and the verdict, from what the earlier stages found.

The one entry point is `judgement.judge_release`: a release's `ReleaseReading` in, one frozen
`Judgement` out. The other modules are its parts (tests/test_architecture.py keeps their use
inside this package), besides `lineage.trace_lineage`, which reads the ancestors the reading
carries, and `policy`, the gate applied to finished results.
"""
