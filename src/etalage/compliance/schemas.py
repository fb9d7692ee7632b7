"""Compliance request and response bodies: notices, the moderation queue, decisions and their statements of
reasons, appeals, the transparency report, data exports and erasure. Inputs forbid unknown fields and bound
every string; outputs carry no personal data beyond what the caller is entitled to."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

TargetKind = Literal["video", "product", "comment", "live_message", "live_room", "merchant"]
Category = Literal[
    "minor_safety",
    "illegal_product",
    "unsafe_product",
    "hate_speech",
    "scam",
    "counterfeit",
    "intellectual_property",
    "privacy_violation",
    "other",
]
Action = Literal["remove", "restrict_visibility", "no_action", "suspend_merchant", "ban_from_live"]
Ground = Literal["illegal", "terms"]
ItemId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=40, pattern=r"^[a-z]+_[0-9A-Za-z]+$"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Target(StrictModel):
    kind: TargetKind
    id: ItemId


# --- notices --------------------------------------------------------------------------------------------


class NoticeIn(StrictModel):
    """A notice (DSA Art. 16). Every category but ``other`` claims the content is illegal: then the notice
    must explain why (``explanation``, at least 20 characters) and state that it is made in good faith;
    an anonymous notifier also gives a name and e-mail, except for the safety of minors (Art. 16(2)(c))."""

    target: Target
    category: Category
    explanation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = ""
    legal_reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = Field(
        None, description="Where exactly, within the target: a moment in the video, a URL, a quote."
    )
    good_faith: bool = Field(False, description="The notifier believes the notice is accurate and complete.")
    contact_email: Email | None = Field(None, description="Anonymous notifiers: where to tell the outcome.")
    contact_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class DecisionSummary(BaseModel):
    """What a notifier learns of the decision taken on their notice (Art. 16(5))."""

    decision_id: str
    action: str
    ground: str | None
    legal_reference: str | None
    terms_clause: str | None
    automated: bool
    decided_at: datetime
    reversed: bool = False


class NoticeOut(BaseModel):
    id: str
    status: Literal["open", "decided"]
    target: dict[str, str]
    category: str
    illegal_claim: bool
    explanation: str
    location: str | None
    submissions: int
    merged: bool = Field(False, description="True when this submission was merged into an earlier notice.")
    created_at: datetime
    decision: DecisionSummary | None = None
    receipt_token: str | None = Field(
        None, description="Anonymous notifiers only, shown once: GET /api/v1/notices/{id}?receipt_token=…"
    )
    redress: str | None = None


# --- the moderation queue -------------------------------------------------------------------------------


class Preview(BaseModel):
    """The target as the owning domain describes it to a moderator."""

    kind: str
    id: str
    exists: bool
    state: str | None = None
    title: str | None = None
    text: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    merchant_id: str | None = None
    merchant_name: str | None = None
    url: str | None = None
    poster_url: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class CaseOut(BaseModel):
    id: str
    target: dict[str, str]
    status: Literal["open", "decided"]
    open_notices: int
    total_notices: int
    categories: dict[str, int]
    severity: int = Field(description="1 is the most urgent (safety of minors) … 9 the least.")
    opened_at: datetime
    last_notice_at: datetime
    assigned_to: str | None
    claimed_at: datetime | None
    last_decision_id: str | None
    preview: Preview


class CaseNoticeOut(BaseModel):
    """A notice as moderators read it (the notifier is named by account id or as anonymous, never by e-mail)."""

    id: str
    category: str
    illegal_claim: bool
    explanation: str
    legal_reference: str | None
    location: str | None
    good_faith: bool
    reporter: Literal["account", "anonymous"]
    reporter_user_id: str | None
    submissions: int
    status: str
    created_at: datetime


class CaseDetailOut(CaseOut):
    notices: list[CaseNoticeOut]
    decisions: list[dict[str, Any]]


# --- decisions ------------------------------------------------------------------------------------------


class DecisionIn(StrictModel):
    target: Target
    action: Action
    ground: Ground | None = Field(None, description="Required unless the action is no_action.")
    legal_reference: Short | None = Field(
        None, description="With ground=illegal: the law, e.g. 'EU 2023/988 Art. 5'."
    )
    terms_clause: Short | None = Field(
        None, description="With ground=terms: the clause of the terms, e.g. '4.2'."
    )
    facts: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=5000)]
    automated: bool = Field(False, description="Automated means detected the content or took the decision.")
    notice_ids: list[ItemId] | None = Field(
        None,
        max_length=1000,
        description="Notices this decision answers; default: every open one on the target.",
    )
    territorial_scope: list[RegionCode] = Field(
        default_factory=list, max_length=20, description="[] = everywhere."
    )
    duration_days: int | None = Field(
        None, ge=1, le=3650, description="A temporary restriction (ban_from_live)."
    )

    @model_validator(mode="after")
    def _ground(self) -> DecisionIn:
        if self.action == "no_action":
            return self
        if self.ground is None:
            raise ValueError("a decision that restricts something needs a ground: illegal or terms")
        if self.ground == "illegal" and not self.legal_reference:
            raise ValueError("ground 'illegal' needs legal_reference: the law the content breaks")
        if self.ground == "terms" and not self.terms_clause:
            raise ValueError("ground 'terms' needs terms_clause: the clause of the terms it breaks")
        return self


class StatementOut(BaseModel):
    """A statement of reasons (DSA Art. 17(3)): what was restricted, where and for how long, the facts, whether
    automated means were used, the legal or contractual ground, and how to seek redress."""

    id: str
    target: dict[str, str]
    action: str
    restriction: str
    territorial_scope: list[str]
    ends_at: datetime | None
    ground: str | None
    legal_reference: str | None
    terms_clause: str | None
    facts: str
    automated: bool
    source: Literal["notice", "own_initiative", "appeal"]
    notice_count: int
    categories: list[str]
    affected_user_id: str | None
    affected_merchant_id: str | None
    decided_at: datetime
    status: Literal["in_force", "reversed", "expired"]
    appeal_until: datetime
    appeals: list[dict[str, Any]]
    redress: str
    enacted: dict[str, Any] | None = Field(None, description="Moderators only: what the owning domain did.")
    decided_by: str | None = Field(None, description="Moderators only.")


# --- appeals --------------------------------------------------------------------------------------------


class AppealIn(StrictModel):
    statement: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=5000)]


class AppealDecisionIn(StrictModel):
    outcome: Literal["upheld", "reversed"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=5000)]


class AppealOut(BaseModel):
    id: str
    decision_id: str
    appellant_role: str
    appellant_user_id: str | None = None
    statement: str
    status: Literal["open", "upheld", "reversed"]
    outcome_reason: str | None
    restored: dict[str, Any]
    decided_at: datetime | None
    created_at: datetime


class AppealQueueItem(AppealOut):
    """An appeal as moderators see it: who appealed (an account id) and the decision it contests."""

    decision: StatementOut | None


# --- privacy requests -----------------------------------------------------------------------------------


class ExportOut(BaseModel):
    id: str
    status: Literal["queued", "running", "ready", "failed", "expired"]
    progress: int = Field(ge=0, le=100)
    stage: str | None
    bytes: int | None
    sha256: str | None
    download_url: str | None
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None


class ErasureIn(StrictModel):
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    confirm: Literal[True] = Field(description="Must be true: the caller understands this cannot be undone.")


class ErasureOut(BaseModel):
    id: str
    status: Literal["requested", "running", "done"]
    steps_done: list[str]
    requested_at: datetime
    completed_at: datetime | None
    retention: str = Field(description="What is kept, and why.")
