"""A file's scan has a wall-clock budget: once its deadline has passed, the next read ends the walk
out of budget (pickle-unscannable with the reason), never a scan that goes on."""

from __future__ import annotations

import pickle

from auditor.scan.base import RangeReader, RangeStream
from auditor.scan.pickles import walk


def test_a_walk_past_its_files_deadline_ends_out_of_budget():
    data = pickle.dumps({"weights": list(range(100))}, protocol=4)
    reader = RangeReader(lambda at, length: data[at:at + length], len(data), len(data), deadline=0.0)  # long past
    result = walk(RangeStream(reader, 0, len(data)))
    assert result.out_of_budget
    assert result.error is not None and "time budget" in result.error


def test_a_walk_within_its_deadline_reads_to_the_end():
    data = pickle.dumps({"weights": list(range(100))}, protocol=4)
    reader = RangeReader(lambda at, length: data[at:at + length], len(data), len(data))
    result = walk(RangeStream(reader, 0, len(data)))
    assert result.error is None and not result.out_of_budget
