"""Helpers for the hostile-input suite: a Hub that answers what each test scripts, and a CLI
runner with a deadline and a memory cap per case."""
