"""Compliance's background jobs: building exports, deleting them when they expire, erasing people, and
forgetting anonymous notifiers' contact details once the appeal window of their notice has passed."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import update

from etalage.compliance import erasure, exports
from etalage.compliance.decisions import FORGET_CONTACTS_JOB
from etalage.compliance.models import Notice
from etalage.core import jobs
from etalage.db import Database

log = logging.getLogger("etalage.compliance")


@jobs.handler(exports.EXPORT_JOB, max_attempts=1, lease_seconds=3600)
def build_export(db: Database, payload: dict[str, Any]) -> None:
    """One attempt: a failed export says so (the person asks again) rather than retrying for hours."""
    try:
        exports.run(db, payload["export_id"])
    except Exception as exc:
        log.exception("export %s failed", payload["export_id"])
        exports.fail(db, payload["export_id"], f"{exc.__class__.__name__}: {exc}")


@jobs.handler(exports.EXPIRE_JOB)
def expire_export(db: Database, payload: dict[str, Any]) -> None:
    exports.expire(db, payload["export_id"])


@jobs.handler(erasure.ERASE_JOB, max_attempts=30, lease_seconds=900)
def erase(db: Database, payload: dict[str, Any]) -> None:
    """Resumable: each step is recorded as done in its own transaction; retried with backoff on failure."""
    erasure.run(db, payload["erasure_id"])


@jobs.handler(FORGET_CONTACTS_JOB)
def forget_notifier_contacts(db: Database, payload: dict[str, Any]) -> None:
    with db.session() as s:
        s.execute(
            update(Notice)
            .where(Notice.decision_id == payload["decision_id"])
            .values(contact_email=None, contact_name=None)
        )
