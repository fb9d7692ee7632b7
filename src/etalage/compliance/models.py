"""Compliance tables: notices (DSA Art. 16), moderation cases, decisions with their statement of reasons
(Art. 17), appeals (Art. 20), the append-only record of every state change, data exports (GDPR Art. 15/20)
and erasure requests (Art. 17 GDPR).

Decisions are never updated once written: a reversal on appeal is the appeal's outcome, and the record
(``compliance_events``) says who did what and when. No table here holds an e-mail address or a name,
except the optional contact details an anonymous notifier gives (Art. 16(2)(c)).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from etalage.db import ID_LENGTH, Base, IdColumn, utcnow

TARGET_KINDS = ("video", "product", "comment", "live_message", "live_room", "merchant")
CATEGORIES = (
    "minor_safety",
    "illegal_product",
    "unsafe_product",
    "hate_speech",
    "scam",
    "counterfeit",
    "intellectual_property",
    "privacy_violation",
    "other",
)
ACTIONS = ("remove", "restrict_visibility", "no_action", "suspend_merchant", "ban_from_live")
GROUNDS = ("illegal", "terms")


class Notice(Base):
    """One person's notice about one target. A second notice from the same person on the same open target
    is merged into this row (``submissions`` grows), so a queue is never flooded by one reporter."""

    __tablename__ = "compliance_notices"

    id: Mapped[str] = IdColumn("ntc")
    case_id: Mapped[str] = mapped_column(ForeignKey("moderation_cases.id", ondelete="CASCADE"), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    category: Mapped[str] = mapped_column(String(32))
    illegal_claim: Mapped[bool] = mapped_column(Boolean)  # an Art. 16 notice of illegal content
    explanation: Mapped[str] = mapped_column(Text, default="")
    legal_reference: Mapped[str | None] = mapped_column(String(300))  # the law the notifier invokes
    location: Mapped[str | None] = mapped_column(String(500))  # e.g. a moment in the video, a URL
    good_faith: Mapped[bool] = mapped_column(Boolean, default=False)
    reporter_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Anonymous notifiers only, and only if they want an answer (erased when the notice is closed + 6 months)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    receipt_hash: Mapped[str | None] = mapped_column(String(64))  # an anonymous notifier's receipt token
    # "<reporter>:<kind>:<id>" while open, so a duplicate is merged (NULL once decided: a new one may come)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    submissions: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|decided
    decision_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(f"target_kind IN {TARGET_KINDS}", name="target_kind"),
        CheckConstraint(f"category IN {CATEGORIES}", name="category"),
        Index("ix_compliance_notices_target", "target_kind", "target_id"),
        Index("ix_compliance_notices_reporter", "reporter_user_id", "id"),
        Index("ix_compliance_notices_created", "created_at"),
    )


class ModerationCase(Base):
    """A target with notices, as a moderator's queue shows it: one row per target while it has open notices
    (a later notice after a decision opens the same case again)."""

    __tablename__ = "moderation_cases"

    id: Mapped[str] = IdColumn("cas")
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|decided
    open_notices: Mapped[int] = mapped_column(default=0)
    total_notices: Mapped[int] = mapped_column(default=0)
    categories: Mapped[dict[str, Any]] = mapped_column(default=dict)  # category -> open notices
    severity: Mapped[int] = mapped_column(default=9)  # 1 most urgent; the worst of its open notices
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)  # oldest open notice
    last_notice_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_to: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    claimed_at: Mapped[datetime | None]
    last_decision_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(f"target_kind IN {TARGET_KINDS}", name="target_kind"),
        Index("uq_moderation_cases_target", "target_kind", "target_id", unique=True),
        Index("ix_moderation_cases_queue", "status", "opened_at", "id"),
        Index("ix_moderation_cases_severity", "status", "severity", "opened_at", "id"),
    )


class Decision(Base):
    """A moderation decision and its statement of reasons (DSA Art. 17). Written once, never updated."""

    __tablename__ = "moderation_decisions"

    id: Mapped[str] = IdColumn("dcs")
    case_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(24))
    ground: Mapped[str | None] = mapped_column(String(8))  # illegal|terms; None for no_action
    legal_reference: Mapped[str | None] = mapped_column(String(300))
    terms_clause: Mapped[str | None] = mapped_column(String(300))
    facts: Mapped[str] = mapped_column(Text)
    automated: Mapped[bool] = mapped_column(Boolean, default=False)  # automated detection or decision
    source: Mapped[str] = mapped_column(String(16))  # notice|own_initiative|appeal
    territorial_scope: Mapped[list[str]] = mapped_column(default=list)  # [] = everywhere
    ends_at: Mapped[datetime | None]  # a temporary restriction's end
    notice_count: Mapped[int] = mapped_column(default=0)
    categories: Mapped[list[str]] = mapped_column(default=list)  # of the notices it answers
    affected_user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    affected_merchant_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    # What the owning domain did, and the state to restore if an appeal reverses it
    enacted: Mapped[dict[str, Any]] = mapped_column(default=dict)
    decided_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_notice_at: Mapped[datetime | None]  # for the time-to-decision figures

    __table_args__ = (
        CheckConstraint(f"action IN {ACTIONS}", name="action"),
        Index("ix_moderation_decisions_target", "target_kind", "target_id", "id"),
        Index("ix_moderation_decisions_decided", "decided_at"),
    )


class Appeal(Base):
    """An internal complaint against a decision (DSA Art. 20), decided by another moderator."""

    __tablename__ = "moderation_appeals"

    id: Mapped[str] = IdColumn("apl")
    decision_id: Mapped[str] = mapped_column(ForeignKey("moderation_decisions.id", ondelete="CASCADE"))
    appellant_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    appellant_role: Mapped[str] = mapped_column(String(16))  # affected|notifier
    statement: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|upheld|reversed
    open_key: Mapped[str | None] = mapped_column(String(100), unique=True)  # one open appeal per decision
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    restored: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what the reversal put back
    decided_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_moderation_appeals_decision", "decision_id"),
        Index("ix_moderation_appeals_status", "status", "id"),
        Index("ix_moderation_appeals_created", "created_at"),
    )


class ComplianceEvent(Base):
    """Every state change of a notice, case, decision, appeal, export or erasure: who, what, when.
    Append-only; ``details`` never holds personal data (ids, counts, states)."""

    __tablename__ = "compliance_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))  # None: anonymous or the system
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_compliance_events_subject", "subject_kind", "subject_id", "id"),)


class DataExport(Base):
    """A person's copy of their data (GDPR Art. 15/20): a zip built by a job, served only to them."""

    __tablename__ = "data_exports"

    id: Mapped[str] = IdColumn("exp")
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|ready|failed|expired
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str | None] = mapped_column(String(32))
    path: Mapped[str | None] = mapped_column(String(300))  # relative to the data folder
    bytes: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class ErasureRequest(Base):
    """A person's request to be erased (GDPR Art. 17): which steps are done, so a crash resumes safely.
    Holds the user id (now pointing at a scrubbed account) and counts, nothing personal."""

    __tablename__ = "erasure_requests"

    id: Mapped[str] = IdColumn("era")
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="requested")  # requested|running|done
    steps_done: Mapped[list[str]] = mapped_column(default=list)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
