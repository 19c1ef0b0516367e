"""The plain data every pipeline stage passes on: frozen dataclasses and enums, no I/O, no logic.

fetch (sources/) -> RepoSnapshot
classify (classify/) -> Artefact, WeightSet
identify (identify/) -> LicenceMatch
judge (judge/) -> Component, Verdict, Finding
report (report/) renders an AuditResult.

Enum values are the strings of the JSON contract (schema "auditor/1"), so renderers never
spell a verdict or a category themselves.

Over 400 lines: this is the one vocabulary every stage passes on and the JSON contract is
drawn from; split, each stage would import its data from several places.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class TargetKind(str, Enum):
    """Where a target lives: a Hub repo or a local folder."""

    HUB = "hub"
    LOCAL = "local"


@dataclass(frozen=True)
class Target:
    """What the user asked to audit: a Hub repo id (with an optional revision) or a local path.

    A single weight file is a target too (a release of one file): a local file's path, or a Hub
    target whose `path` names one file of the repo.
    """

    kind: TargetKind
    repo_id: str | None = None
    path: str | None = None
    revision: str | None = None

    @property
    def label(self) -> str:
        """How reports name the target: its repo id (with @revision) or its path; one file of a Hub repo as org/name[@rev]/path."""
        name = self.repo_id if self.kind is TargetKind.HUB else self.path
        label = f"{name}@{self.revision}" if self.revision else str(name)
        return f"{label}/{self.path}" if self.kind is TargetKind.HUB and self.path else label


@dataclass(frozen=True)
class FileEntry:
    """One file of the repository as listed: never its content.

    `lfs` is true when the file is stored in Git LFS (on the Hub) or is a Git LFS pointer
    standing for a large file (in a local checkout); `size` is then the real file's size.
    """

    path: str
    size: int
    lfs: bool = False
    sha256: str | None = None


PUBLIC_HUB = "https://huggingface.co"  # the Hub a snapshot names unless its source read another (HF_ENDPOINT)


class SkipKind(str, Enum):
    """Why a file was not read, as data: checks test the kind, reports print the reason."""

    GATED = "gated"  # the repo is gated and the token has no access
    TOO_LARGE = "too-large"
    OVER_BUDGET = "over-budget"  # the run's read budget (bytes or files) was spent
    BINARY = "binary"
    NOT_CHECKED_OUT = "not-checked-out"  # a Git LFS pointer in a local checkout
    OTHER = "other"


@dataclass(frozen=True)
class Skipped:
    """Something the auditor could not read, and why: data, not an exception."""

    path: str
    reason: str
    kind: SkipKind = SkipKind.OTHER


@dataclass(frozen=True)
class RepoSnapshot:
    """A repository as the fetcher saw it, pinned to one commit.

    `texts` holds the small text files the fetcher chose to read (path -> decoded text);
    everything else is only listed in `files`. `gated` is False, "auto" or "manual".
    `security` is the Hub's own scan status when it reported one. `hub_mirror` is the Hub
    repo a local checkout was cloned from (or was told it mirrors): its Git LFS pointers are
    read there, at `sha`. `checkout` says what kind of local folder was read (git, a Hugging
    Face cache or local-dir download) and what the report should state of it: a dirty work
    tree, the git revision read, how many paths .gitignore left out.
    """

    target: Target
    sha: str | None
    files: tuple[FileEntry, ...]
    texts: Mapping[str, str] = field(default_factory=dict)
    unread: tuple[Skipped, ...] = ()
    gated: bool | str = False
    private: bool = False
    hub_card_data: Mapping[str, Any] | None = None
    security: Mapping[str, Any] | None = None
    hub_mirror: str | None = None
    checkout: Mapping[str, Any] | None = None
    tags: tuple[str, ...] = ()  # the Hub's tags (base_model:..., license:...), when the source is the Hub
    hub_endpoint: str = PUBLIC_HUB  # the Hub the source read (a mirror when HF_ENDPOINT says so): reports link there

    def file(self, path: str) -> FileEntry | None:
        """The listed file at `path`, or None."""
        for entry in self.files:
            if entry.path == path:
                return entry
        return None


@dataclass(frozen=True)
class ModelCard:
    """The README's YAML front matter (`metadata`) and its markdown `body`.

    `error` says why the front matter could not be parsed; metadata is then empty.
    `body_line` is the file line (1-based) the body starts on, so matches in it can cite file lines.
    """

    path: str | None
    metadata: Mapping[str, Any]
    body: str
    error: str | None = None
    body_line: int = 1


class Category(str, Enum):
    """The one category every file of a release gets."""

    WEIGHTS = "weights"
    CODE = "code"
    CONFIG = "config"
    TOKENIZER = "tokenizer"
    TRAINING_DATA = "training_data"
    LICENCE = "licence"
    DOCUMENTATION = "documentation"
    OTHER = "other"


@dataclass(frozen=True)
class Artefact:
    """A file with its category, its format (e.g. "safetensors", "pickle", "gguf"), and the rule that put it there."""

    path: str
    category: Category
    format: str | None
    size: int
    reason: str
    lfs: bool = False


@dataclass(frozen=True)
class WeightSet:
    """Weights that belong together: one file, or the shards of a sharded checkpoint with its index."""

    name: str
    format: str
    files: tuple[str, ...]
    total_size: int
    index: str | None = None
    adapter: bool = False
    parameters: int | None = None


class Purpose(str, Enum):
    """What linked or shipped code is for, as far as the card says."""

    TRAINING = "training"
    INFERENCE = "inference"
    EVALUATION = "evaluation"
    DATA_PROCESSING = "data-processing"


@dataclass(frozen=True)
class CodeLink:
    """A code repository the card links to, with what the surrounding text says it holds."""

    url: str
    purposes: tuple[Purpose, ...]
    context: str
    library: bool = False  # a general-purpose library or tool (code_links.yaml), not this model's own code
    licence: str | None = None  # the SPDX id its host reports ("none": no licence); None when not looked up


@dataclass(frozen=True)
class ReleaseEvidence:
    """What the card and the configs say about the release beyond its files.

    `datasets` are dataset ids or names (card `datasets:` and dataset links); `papers` are
    arXiv / DOI / report URLs; `remote_code` names the modules `auto_map` points to.
    """

    datasets: tuple[str, ...] = ()
    papers: tuple[str, ...] = ()
    code_links: tuple[CodeLink, ...] = ()
    remote_code: tuple[str, ...] = ()
    base_models: tuple[str, ...] = ()
    model_type: str | None = None  # config.json `model_type`
    architectures: tuple[str, ...] = ()  # config.json `architectures`
    evaluation_results: bool = False
    data_description: bool = False
    intermediate_checkpoints: bool = False
    dataset_licences: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # as each dataset's own card declares


class LicenceKind(str, Enum):
    """What a match is: a licence (grants rights), a policy (restricts use) or a reference to one kept elsewhere."""

    LICENCE = "licence"
    POLICY = "policy"  # an acceptable-use policy: restricts, grants nothing
    REFERENCE = "reference"  # points at a licence kept elsewhere


class MatchMethod(str, Enum):
    """How a licence was recognised, cheapest first."""

    METADATA = "metadata"  # card `license:` field or tag
    EXACT = "exact"  # normalised text identical to the reference
    SIMILARITY = "similarity"  # token similarity to the reference text
    PHRASE = "phrase"  # a short notice or key phrase rule
    TITLE = "title"  # a licence known without a text: its own title names it, its markers are in its body
    REFERENCE = "reference"  # the text only points to a licence
    SCANCODE = "scancode"  # the optional deep engine
    READ = "read"  # no known licence: named from its own title, its clauses read into facts


@dataclass(frozen=True)
class LicenceMatch:
    """One licence found in one place, with the evidence for it.

    `id` is the knowledge base's id; `spdx` the SPDX id, ScanCode LicenseRef or LicenseRef-<id>.
    `source` is a file path or a card field such as "card:license".
    `span` is the (start, end) line range in the source file, 1-based and inclusive.
    `changes` summarises what differs from the reference text when `modified`.
    `unidentified` marks a licence the knowledge base does not know, named from its own title;
    its `facts` were read from its clauses (a known licence's facts are the knowledge base's).
    """

    id: str
    name: str
    spdx: str | None
    kind: LicenceKind
    source: str
    confidence: float
    method: MatchMethod
    modified: bool = False
    span: tuple[int, int] | None = None
    changes: str | None = None
    unidentified: bool = False
    facts: tuple[LicenceFact, ...] = ()


@dataclass(frozen=True)
class LicenceFact:
    """One user-facing fact of a licence (commercial_use, naming, ...) and the clause it comes from.

    `confidence` is None for the knowledge base's facts (written by hand), else how sure the
    reading of an unknown licence text is.
    """

    name: str
    value: str
    clause: str | None = None
    confidence: float | None = None
    applies_to: str | None = None  # a regex over the model's names: the fact concerns only the models it matches


@dataclass(frozen=True)
class LicenceSummary:
    """What the knowledge base says of a licence that was found: for people deciding what they may do."""

    id: str
    name: str
    spdx: str | None
    category: str
    osi_approved: bool
    facts: tuple[LicenceFact, ...] = ()
    url: str | None = None
    unidentified: bool = False  # read from a licence text the knowledge base does not know


class Severity(str, Enum):
    """How much a finding matters: error, warning or info."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """Something worth telling. `code` is one of the codes declared in auditor.findings."""

    severity: Severity
    code: str
    message: str
    evidence: tuple[str, ...] = ()


class ComponentName(str, Enum):
    """The parts of a release the verdict weighs."""

    WEIGHTS = "weights"
    CODE = "code"
    TRAINING_DATA = "training_data"
    DOCUMENTATION = "documentation"


@dataclass(frozen=True)
class Component:
    """A part of the release: whether it is there, where, and under which licence (SPDX expression)."""

    name: ComponentName
    present: bool
    files: tuple[str, ...] = ()
    licence: str | None = None
    open: bool | None = None
    notes: tuple[str, ...] = ()


class Openness(str, Enum):
    """The plain taxonomy, from most to least open (plus unknown)."""

    OPEN_SOURCE = "open-source"
    OPEN_WEIGHTS = "open-weights"
    RESTRICTED_WEIGHTS = "restricted-weights"
    NON_COMMERCIAL = "non-commercial"
    NOT_OPEN = "not-open"
    UNKNOWN = "unknown"


class MofClass(str, Enum):
    """The Model Openness Framework classes, I (open science) to III (open model)."""

    CLASS_I = "I"
    CLASS_II = "II"
    CLASS_III = "III"


class OsaidStatus(str, Enum):
    """Whether a release meets the Open Source AI Definition 1.0."""

    MEETS = "meets"
    FAILS = "fails"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verdict:
    """Where the release stands: taxonomy, OSAID, MOF class, and the reasons for each."""

    openness: Openness
    mof_class: MofClass | None
    osaid: OsaidStatus
    gated: bool
    reasons: tuple[str, ...] = ()
    improvements: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()  # what was not checked, in words

    @property
    def provisional(self) -> bool:
        """Whether the verdict rests on evidence that could not be checked (base models, datasets, linked code)."""
        return bool(self.unverified)


@dataclass(frozen=True)
class MofItem:
    """One Model Openness Framework component: which class first needs it, and whether it is met."""

    mof_class: MofClass
    label: str
    met: bool


@dataclass(frozen=True)
class WeightScanSummary:
    """What the report says of a weight scan: files read, bytes transferred, and per-file facts.

    `per_file` maps each scanned path to its format, bytes read, budget and what its header or
    pickle said (open-ended: each format reports its own facts). `read_from_hub` names the Git
    LFS pointers of a local checkout read through `hub_mirror`.
    """

    files: int
    bytes_read: int
    not_checked_out: tuple[str, ...] = ()
    hub_mirror: str | None = None
    read_from_hub: tuple[str, ...] = ()
    per_file: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditResult:
    """Everything one audit found: the one thing every renderer consumes."""

    target: Target
    sha: str | None
    artefacts: tuple[Artefact, ...]
    weight_sets: tuple[WeightSet, ...]
    components: Mapping[ComponentName, Component]
    licences: tuple[LicenceMatch, ...]
    verdict: Verdict
    findings: tuple[Finding, ...]
    card: ModelCard | None = None
    evidence: ReleaseEvidence = field(default_factory=ReleaseEvidence)
    licence_summaries: tuple[LicenceSummary, ...] = ()
    unread: tuple[Skipped, ...] = ()
    weight_scan: WeightScanSummary | None = None  # None: the weight files were not scanned
    mof_items: tuple[MofItem, ...] = ()
    checkout: Mapping[str, Any] | None = None  # the snapshot's: what kind of local folder was read
    lineage: tuple[Ancestor, ...] = ()
    terms: Mapping[str, TermFact] = field(default_factory=dict)  # fact key -> the effective term
    hub_endpoint: str = PUBLIC_HUB  # the snapshot's: where reports link the repo, its card and its datasets
    history: History | None = None  # --history: the licence-bearing state at each revision that changed it


@dataclass(frozen=True)
class AncestorRecord:
    """What a registry says of a model named as an ancestor: its card metadata, Hub tags and licence texts.

    `readable` is False when it could not be looked up (offline, not found, not asked); `reason` says why.
    """

    repo_id: str
    readable: bool
    reason: str | None = None
    card: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    texts: Mapping[str, str] = field(default_factory=dict)  # its licence and notice files, path -> text
    files: tuple[str, ...] = ()  # every file it lists


class AncestorStatus(str, Enum):
    """How far an ancestor was checked: read, unreadable, a cycle or too deep."""

    CHECKED = "checked"
    UNREADABLE = "unreadable"  # named, but its licences could not be read
    CYCLE = "cycle"  # names a model already in its own chain
    TOO_DEEP = "too-deep"  # beyond the depth the chain is followed to


@dataclass(frozen=True)
class Ancestor:
    """One model in a release's chain of ancestors, and the licences it carries.

    `relation` is how `child` derives from it (finetune, adapter, merge, quantized, or derived
    when unsaid); `signal` where the link was read (card:base_model, adapter_config.json,
    mergekit_config.yml, gguf, hub:tags); `licence_source` where its licences were read.
    """

    repo_id: str
    child: str
    relation: str
    depth: int
    signal: str
    status: AncestorStatus = AncestorStatus.CHECKED
    licences: tuple[str, ...] = ()
    licence_source: str | None = None
    reason: str | None = None
    notices: tuple[str, ...] = ()  # its NOTICE / attribution files, which derivatives must carry over


@dataclass(frozen=True)
class TermFact:
    """One effective term of the weights: its value, the licences it comes from and why they bind.

    `because` names, for each of `sources` in turn, the file, the card or the ancestor (repo id) it was found in.
    """

    key: str
    value: str
    sources: tuple[str, ...] = ()
    because: tuple[str, ...] = ()
    clause: str | None = None
    names: tuple[str, ...] = ()  # the licences' names, in the order of `sources`
    listed: tuple[str, ...] = ()  # what the licences list under it (use_restrictions: their prohibited uses)


@dataclass(frozen=True)
class Revision:
    """One commit of a repository's history: its id, its date (ISO 8601) and its title."""

    commit: str
    date: str
    title: str


@dataclass(frozen=True)
class HistoryEntry:
    """The licence-bearing state from one revision on: what governed the weights and what that allowed.

    `changed` are the licence-bearing files this revision added, edited or deleted; `baseline`
    marks the state in force at `--since` (not necessarily a change of its own).
    """

    revision: Revision
    governing: str  # the weights' licence expression ("" when none was found)
    licences: tuple[str, ...]  # every licence id found
    commercial_use: str  # the effective term ("" when unsaid)
    verdict: Openness
    terms: Mapping[str, TermFact] = field(default_factory=dict)
    changed: tuple[str, ...] = ()
    baseline: bool = False


@dataclass(frozen=True)
class History:
    """A repository's licence history: one entry per revision that changed it, oldest first.

    `listed` is how many commits the listing gave (within `since`); `findings` the changes
    between consecutive entries (licence-changed, terms-narrowed, terms-widened, licence-text-edited).
    """

    entries: tuple[HistoryEntry, ...]
    listed: int
    since: str | None = None
    findings: tuple[Finding, ...] = ()
    terms_since: Revision | None = None  # the revision since which the current terms hold (None: unchanged in the history)
