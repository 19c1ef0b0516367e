"""Find the known licence texts inside a file: shingle hits, regions, and a greedy choice.

For every reference sharing shingles with the file (found through the inverted index), the
positions of its hits are cut into chunks at small gaps and the chunks chained while they
follow the reference in order, so a clause added in the middle does not split a licence but
two different licences side by side stay apart. A region's recall (share of the reference's
shingles found) and precision (share of the region's words that match) rank the candidates;
the best is accepted and claims its words, and the next candidates are re-cut without the
claimed words. Several licences in one file, a licence inside a README, and the right one of
near-identical versions (the closer text wins the words first) all fall out of this.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from auditor.identify.index import SHINGLE, Index, Reference

MIN_RECALL = 0.5  # at least half of a reference must be there to call the region that licence
MIN_PRECISION = 0.5  # and at least half of the region's words must be the licence's
# Licences open with their grant and close with boilerplate many share (warranty disclaimers):
# a region must hold this share of the reference's first half, or it is only the boilerplate.
MIN_OPENING = 0.2
_SPLIT_GAP = 12  # a gap of more unmatched positions than this ends a chunk
_MIN_HITS = 4  # chunks with fewer hits are chance phrase overlaps


@dataclass
class Region:
    """One stretch of the file matched to one reference."""

    reference: Reference
    start: int  # first token (inclusive)
    end: int  # last token (inclusive)
    covered: set[int]  # the file's token positions inside matched shingles
    matched: set[int]  # the reference's shingles found

    @property
    def recall(self) -> float:
        """How much of the reference text the region matches."""
        return len(self.matched) / self.reference.size

    @property
    def precision(self) -> float:
        """How much of the region the reference text covers."""
        return len(self.covered) / (self.end - self.start + 1)

    @property
    def complete(self) -> bool:
        """Every shingle of the reference found and nothing else in between."""
        return len(self.matched) == self.reference.size and len(self.covered) == self.end - self.start + 1


def _chunks(positions: list[int]) -> list[list[int]]:
    chunks: list[list[int]] = []
    for position in positions:
        if chunks and position - chunks[-1][-1] <= _SPLIT_GAP:
            chunks[-1].append(position)
        else:
            chunks.append([position])
    return [c for c in chunks if len(c) >= _MIN_HITS]


def _chains(reference: Reference, positions: list[int], shingles: list[int], claimed: set[int]) -> list[list[int]]:
    """The hit positions of one reference, chained into runs that follow the reference in order."""
    where = reference.positions
    chains: list[list[int]] = []
    last_ref = -1
    max_gap = max(200, len(reference.tokens) // 2)
    for chunk in _chunks(positions):
        ref_start = min(where[shingles[p]][0] for p in chunk[:8])
        if (
            chains
            and ref_start >= last_ref - 3 * SHINGLE
            and chunk[0] - chains[-1][-1] <= max_gap
            and not (claimed and any(p in claimed for p in range(chains[-1][-1] + SHINGLE, chunk[0])))
        ):
            chains[-1].extend(chunk)
        else:
            chains.append(list(chunk))
        last_ref = max(where[shingles[p]][0] for p in chunk[-8:])
    return chains


def _scores(chain: list[int], shingles: list[int], size: int) -> tuple[float, float]:
    """(recall, precision) of a chain, without building its sets."""
    matched = len({shingles[p] for p in chain})
    covered = SHINGLE
    for before, after in pairwise(chain):
        covered += min(SHINGLE, after - before)
    return matched / size, covered / (chain[-1] + SHINGLE - chain[0])


def _holds_opening(reference: Reference, chain: list[int], shingles: list[int]) -> bool:
    """Whether the chain matches enough of the reference's first half (see MIN_OPENING)."""
    half = len(reference.tokens) / 2
    opening = {s for s, where in reference.positions.items() if where[0] < half}
    if not opening:
        return True
    found = {shingles[p] for p in chain} & opening
    return len(found) >= MIN_OPENING * len(opening)


def _region(reference: Reference, chain: list[int], shingles: list[int]) -> Region:
    covered: set[int] = set()
    for p in chain:
        covered.update(range(p, p + SHINGLE))
    return Region(reference, chain[0], chain[-1] + SHINGLE - 1, covered, {shingles[p] for p in chain})


def find_regions(tokens: tuple[str, ...], index: Index) -> list[Region]:
    """The licence regions of a token stream, best first, none sharing words."""
    shingles = index.shingles_of(tokens)
    hits: dict[int, list[int]] = {}
    postings, groups = index.postings, index.groups
    for position, shingle in enumerate(shingles):
        group = postings.get(shingle)
        if group is not None:
            for number in groups[group]:
                hits.setdefault(number, []).append(position)
    candidates = []
    for number, positions in hits.items():
        size = index.references[number].size
        if len(positions) < MIN_RECALL * 0.8 * size:
            continue  # too few hits to reach MIN_RECALL even before chaining
        best = -1.0
        for chain in _chains(index.references[number], positions, shingles, set()):
            recall, precision = _scores(chain, shingles, size)
            best = max(best, recall - 0.5 * (1.0 - precision))
        if best > 0:
            candidates.append((best, size, number))
    candidates.sort(reverse=True)
    claimed: set[int] = set()
    accepted: list[Region] = []
    for _, size, number in candidates:
        reference = index.references[number]
        free = [p for p in hits[number] if p not in claimed and p + SHINGLE - 1 not in claimed] if claimed else hits[number]
        for chain in _chains(reference, free, shingles, claimed):
            recall, precision = _scores(chain, shingles, size)
            if recall >= MIN_RECALL and precision >= MIN_PRECISION and _holds_opening(reference, chain, shingles):
                region = _region(reference, chain, shingles)
                accepted.append(region)
                claimed |= region.covered
    accepted.sort(key=lambda r: r.start)
    return accepted


def _runs(positions: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for p in positions:
        if runs and p == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], p)
        else:
            runs.append((p, p))
    return runs


def added_runs(region: Region, claimed_elsewhere: set[int]) -> list[tuple[int, int]]:
    """Stretches of the file inside the region that the reference does not have."""
    gaps = [p for p in range(region.start, region.end + 1) if p not in region.covered and p not in claimed_elsewhere]
    return _runs(gaps)


def removed_runs(region: Region) -> list[tuple[int, int]]:
    """Stretches of the reference the region does not have."""
    if len(region.matched) == region.reference.size:
        return []
    covered: set[int] = set()
    for shingle in region.matched:
        for start in region.reference.positions[shingle]:
            covered.update(range(start, start + SHINGLE))
    return _runs([p for p in range(len(region.reference.tokens)) if p not in covered])
