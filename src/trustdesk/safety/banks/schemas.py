"""API shapes for banks, entries, lookups and exchanges."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from trustdesk.core.ids import RowId
from trustdesk.safety.banks.matcher import BankMatch, MatchResult
from trustdesk.safety.banks.models import BankKind
from trustdesk.safety.banks.service import MAX_THRESHOLD, BankSummary
from trustdesk.safety.signals.hashing import MediaHashes


class BankBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field("", max_length=4000)
    policy: str | None = Field(None, description="Platform policy key (policies.json); sets the DSA category.")
    labels: list[str] = Field(default_factory=list, max_length=50)
    threshold: int = Field(
        31, ge=0, le=MAX_THRESHOLD, description="PDQ Hamming distance at or under which an entry matches (0-64)."
    )
    enabled: bool = True
    rollout_percent: int = Field(100, ge=0, le=100, description="Share of content (by a hash of it) that this bank matches.")
    all_orientations: bool | None = Field(
        None,
        description="Match an upload in any of its 8 rotations and flips (PDQ). "
        "Default: on for a positive bank (exchange lists are hashed on the raw pixel grid), off for a negative bank.",
    )


class BankCreate(BankBase):
    name: str = Field(max_length=120)
    kind: BankKind = BankKind.POSITIVE


class BankUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=2000)
    description: str | None = Field(None, max_length=4000)
    policy: str | None = None
    labels: list[str] | None = None
    threshold: Annotated[int, Field(ge=0, le=MAX_THRESHOLD)] | None = None
    enabled: bool | None = None
    rollout_percent: Annotated[int, Field(ge=0, le=100)] | None = None
    all_orientations: bool | None = None


class BankRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: BankKind
    description: str
    policy: str | None
    dsa_category: str | None
    labels: list[str]
    threshold: int
    enabled: bool
    rollout_percent: int
    all_orientations: bool
    created_at: datetime
    created_by: str
    entries: int = 0
    enabled_entries: int = 0
    by_signal: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def of(cls, summary: BankSummary) -> BankRead:
        return cls.model_validate(summary.bank).model_copy(
            update={"entries": summary.entries, "enabled_entries": summary.enabled_entries, "by_signal": summary.by_signal}
        )


SIGNAL_NAME_HELP = (
    "A signal type this instance uses (the signal_types setting; by default pdq, md5, sha256, video_md5, vpdq). "
    "An unknown name is refused with the list of valid ones."
)
# A name, not an enum: the types are the process's registry (safety/signals/types), so adding one
# is its file and a setting value; the service checks the name against the registry.
SignalName = Annotated[str, Field(min_length=1, max_length=32, description=SIGNAL_NAME_HELP)]


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signal_type: SignalName
    value: str = Field(
        max_length=2_000_000,
        description="The hash; for vPDQ python-threatexchange's JSON list of frames (long, hence the limit).",
    )
    notes: str = Field("", max_length=4000)
    external_id: str | None = Field(None, max_length=200)


class EntriesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[EntryIn] = Field(max_length=200_000)
    reason: str | None = Field(None, max_length=2000)


class EntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    bank_id: int
    signal_type: str
    value: str
    signal_data: str | None = Field(
        None, description="The whole signal where `value` cannot hold it (vPDQ: its JSON of frames; `value` is its SHA-256)."
    )
    notes: str
    enabled: bool
    exchange: str | None
    external_id: str | None
    fetched_at: datetime | None
    created_at: datetime
    created_by: str
    flood_paused_at: datetime | None


class EntryStateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_ids: list[RowId] = Field(min_length=1, max_length=10_000)
    reason: str = Field(min_length=3, max_length=2000)


class RetroactionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    entries: int
    media_scanned: int
    matches: int
    cases: int
    removed: int = Field(0, description="Messages removed automatically (banks the automation policy allows only).")


class AddedRead(BaseModel):
    added: int
    skipped: int
    entry_ids: list[int]
    retroaction: RetroactionRead | None


class HashesRead(BaseModel):
    kind: str
    md5: str
    sha256: str
    pdq: str | None
    pdq_quality: int | None
    vpdq: str | None = Field(None, description="A video's vPDQ signal (python-threatexchange's JSON of frames).")

    @classmethod
    def of(cls, hashes: MediaHashes) -> HashesRead:
        return cls(
            kind=str(hashes.kind),
            md5=hashes.md5,
            sha256=hashes.sha256,
            pdq=hashes.pdq,
            pdq_quality=hashes.pdq_quality,
            vpdq=hashes.vpdq,
        )


class MatchRead(BaseModel):
    bank_id: int
    bank: str
    bank_kind: str
    entry_id: int
    signal_type: str
    value: str
    distance: int
    orientation: str = Field(
        "original",
        description="Which rotation or flip of the upload matched the entry: original, rotate_90, rotate_180, "
        "rotate_270 (counter-clockwise), flip_top_bottom, flip_left_right, transpose, transverse (as Pillow's Image.Transpose).",
    )
    policy: str | None
    dsa_category: str | None
    labels: list[str]
    action_paused: bool = Field(description="The flood guard paused automatic action on this entry: a person decides.")
    exchange: str | None
    query_match_percent: float | None = Field(None, description="vPDQ: share of the video's frames that match the entry's.")
    compared_match_percent: float | None = Field(None, description="vPDQ: share of the entry's frames that match the video's.")

    @classmethod
    def of(cls, match: BankMatch) -> MatchRead:
        return cls(**{**match.__dict__, "labels": list(match.labels)})


class MatchesRead(BaseModel):
    matches: list[MatchRead]
    suppressed: list[MatchRead] = Field(description="Positive matches cancelled because a negative bank matched too.")
    negatives: list[MatchRead]
    held_back: int = Field(description="Matches of banks whose rollout does not cover this content.")
    pdq_used: bool
    capped: bool = Field(False, description="True when more matched than one answer lists (the nearest are listed).")
    omitted: int = Field(0, description="How many matches (or suppressed matches) were left out of this answer by the cap.")

    @classmethod
    def of(cls, result: MatchResult) -> MatchesRead:
        return cls(
            matches=[MatchRead.of(m) for m in result.matches],
            suppressed=[MatchRead.of(m) for m in result.suppressed],
            negatives=[MatchRead.of(m) for m in result.negatives],
            held_back=result.held_back,
            pdq_used=result.pdq_used,
            capped=result.capped,
            omitted=result.omitted,
        )


class LookupRead(MatchesRead):
    hashes: HashesRead
    media_hash_id: int | None = Field(None, description="Set when a platform media item was hashed and remembered.")
    flood_alerts: list[int] = Field(default_factory=list)


class MatcherRead(BaseModel):
    pdq_entries: int
    exact_entries: int
    index_bytes: int
    exact_bytes: int
    total_bytes: int
    bytes_per_pdq_hash: float
    last_change_id: int
    max_entries: int
    refused_entries: int


class FloodAlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entry_id: int
    bank_id: int
    raised_at: datetime
    hits: int
    baseline: float
    paging_note: str
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


class FloodResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resume: bool
    reason: str = Field(min_length=3, max_length=2000)


class ExchangeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=120)
    api: str = Field(description="python-threatexchange exchange: sample, local_file, ncmec, stop_ncii, tat, fb_threatexchange.")
    bank_id: RowId
    config: dict[str, Any] = Field(default_factory=dict, description="The exchange's collaboration settings (no secrets).")


class ExchangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    api: str
    config: dict[str, Any]
    bank_id: int
    enabled: bool
    state: str
    checkpoint: dict[str, Any] | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_error: str | None
    fetched_total: int
    last_added: int
    last_removed: int


class FetchRead(BaseModel):
    exchange: str
    deltas: int
    records: int
    added: int
    disabled: int
    skipped_invalid: int
    retro_matches: int
    error: str | None
