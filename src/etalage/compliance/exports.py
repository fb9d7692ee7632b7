"""Data portability (GDPR Art. 15 and 20): a person asks for a copy of their data; a job gathers it from
every domain (``compliance.privacy``), their interaction events from the log (by pseudonym) and what the
feed keeps under that pseudonym, and writes one zip under ``<data dir>/exports/``: ``data.json`` (every
domain's section), ``events.jsonl`` (one event a line, oldest first) and a README. Progress (0–100) is
written as it goes; the file is served only to its owner and deleted after ``TTL_DAYS``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal, require_scope
from etalage.compliance import privacy, records
from etalage.compliance.models import Appeal, DataExport, Decision, ErasureRequest, Notice
from etalage.config import get_settings
from etalage.core import jobs
from etalage.core.errors import Conflict, Forbidden, NotFound, RateLimited
from etalage.db import Database, utcnow

EXPORT_JOB = "compliance.export"
EXPIRE_JOB = "compliance.export_expire"
TTL_DAYS = 7
PER_DAY = 3
README = """Your data at Etalage, as of {at}.

data.json     everything Etalage's domains hold about you, one section per domain: your account
              (profile, memberships, the metadata of your API tokens and sessions), orders, addresses
              and cart (commerce), saved payment methods (brand, last four digits and a reference to the
              provider's token only; Etalage never holds card numbers) and payments, your videos,
              comments and live chat (content), trader details of merchants you own, what you reported
              and the moderation decisions about you (compliance), and what the feed keeps under your
              pseudonymous key.
events.jsonl  your interactions (views, likes, purchases…), one JSON object a line, as the interaction
              log stores them: under your pseudonymous key, never your name or e-mail.

This file is deleted from our servers on {expires}.
"""


def export_dir() -> Path:
    return get_settings().data_dir / "exports"


def export_json(export: DataExport) -> dict[str, Any]:
    ready = export.status == "ready"
    return {
        "id": export.id, "status": export.status, "progress": export.progress, "stage": export.stage,
        "bytes": export.bytes if ready else None, "sha256": export.sha256 if ready else None,
        "download_url": f"/api/v1/me/exports/{export.id}/download" if ready else None,
        "created_at": export.created_at, "finished_at": export.finished_at, "expires_at": export.expires_at,
    }  # fmt: skip


def _owner_only(principal: Principal) -> None:
    require_scope(principal, "profile")
    if principal.bound_merchant_id is not None:
        raise Forbidden("A token bound to a merchant cannot ask for a person's data; use your own session.")


def start(session: Session, principal: Principal, limiter: Any) -> DataExport:
    _owner_only(principal)
    running = session.scalar(
        select(DataExport).where(
            DataExport.user_id == principal.user_id, DataExport.status.in_(("queued", "running"))
        )
    )
    if running is not None:
        raise Conflict("An export of your data is already being prepared.", export_id=running.id)
    decision = limiter.hit(f"compliance:export:{principal.user_id}", PER_DAY, 86400)
    if not decision.allowed:
        raise RateLimited(f"At most {PER_DAY} exports a day.", retry_after=decision.retry_after)
    export = DataExport(user_id=principal.user_id, status="queued", progress=0, stage="queued")
    session.add(export)
    session.flush()
    jobs.enqueue(session, EXPORT_JOB, {"export_id": export.id}, dedupe_key=f"{EXPORT_JOB}:{export.id}")
    records.record(session, "export", export.id, "requested", principal.user_id)
    return export


def get(session: Session, principal: Principal, export_id: str) -> DataExport:
    _owner_only(principal)
    export = session.get(DataExport, export_id)
    if export is None or export.user_id != principal.user_id:
        raise NotFound(f"No export {export_id}.")
    if export.status == "ready" and export.expires_at is not None and export.expires_at <= utcnow():
        export.status = "expired"  # (the expiry job deletes the file; this answer does not wait for it)
    return export


def mine(session: Session, principal: Principal) -> list[DataExport]:
    _owner_only(principal)
    stmt = select(DataExport).where(DataExport.user_id == principal.user_id).order_by(DataExport.id.desc())
    return list(session.scalars(stmt.limit(20)))


def file_for(session: Session, principal: Principal, export_id: str) -> Path:
    export = get(session, principal, export_id)
    if export.status != "ready" or not export.path:
        raise Conflict(f"This export is {export.status}, not ready to download.", status=export.status)
    path = get_settings().data_dir / export.path
    if not path.exists():
        raise NotFound("The export file is gone; ask for a new one.")
    return path


# --- the job ----------------------------------------------------------------------------------------------


def _progress(db: Database, export_id: str, progress: int, stage: str) -> None:
    with db.session() as s:
        s.execute(update(DataExport).where(DataExport.id == export_id).values(progress=progress, stage=stage))


def _compliance_section(session: Session, user_id: str) -> dict[str, Any]:
    from etalage.compliance import decisions as decisions_mod

    notices = session.scalars(select(Notice).where(Notice.reporter_user_id == user_id).order_by(Notice.id))
    affected = session.scalars(
        select(Decision).where(Decision.affected_user_id == user_id).order_by(Decision.id)
    )
    appeals = session.scalars(select(Appeal).where(Appeal.appellant_user_id == user_id).order_by(Appeal.id))
    iso = lambda v: v.isoformat() if v else None  # noqa: E731
    return {
        "notices": [{"id": n.id, "target": {"kind": n.target_kind, "id": n.target_id}, "category": n.category,
                     "explanation": n.explanation, "location": n.location, "status": n.status,
                     "decision_id": n.decision_id, "created_at": iso(n.created_at)} for n in notices],
        "decisions_about_you": [
            json.loads(json.dumps(decisions_mod.statement_json(d, [], moderator=False, affected=True), default=str))
            for d in affected
        ],
        "appeals": [{"id": a.id, "decision_id": a.decision_id, "statement": a.statement, "status": a.status,
                     "outcome_reason": a.outcome_reason, "created_at": iso(a.created_at)} for a in appeals],
        "erasure_requests": [{"id": e.id, "status": e.status} for e in
                             session.scalars(select(ErasureRequest).where(ErasureRequest.user_id == user_id))],
    }  # fmt: skip


def pseudonymous_module(name: str) -> Any:
    """``etalage.<name>.service`` if that domain is installed (the feed is optional)."""
    try:
        return importlib.import_module(f"etalage.{name}.service")
    except ImportError:
        return None


def _feed_section(session: Session, pseudonym: str | None) -> Any:
    feed = pseudonymous_module("feed")
    export = getattr(feed, "export_pseudonym", None) if feed is not None else None
    if pseudonym is None or export is None:
        return None
    return export(session, pseudonym)


def run(db: Database, export_id: str) -> None:
    """Build the export (idempotent: a re-run after a crash starts the file again)."""
    from etalage.events import privacy as events_privacy
    from etalage.events import service as events

    with db.session() as s:
        export = s.get(DataExport, export_id)
        if export is None or export.status not in ("queued", "running"):
            return
        export.status, export.progress, export.stage = "running", 2, "gathering"
        user_id = export.user_id
    with db.read() as s:
        sections = privacy.export_sections(s, user_id)
        sections["compliance"] = _compliance_section(s, user_id)
        pseudonym = accounts.principal_for_user(s, user_id).pseudonym
        sections["feed"] = _feed_section(s, pseudonym)
    _progress(db, export_id, 30, "events")
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    final, partial = folder / f"{export_id}.zip", folder / f"{export_id}.zip.part"
    now, expires = utcnow(), utcnow() + timedelta(days=TTL_DAYS)
    last = [30]

    def progress(fraction: float) -> None:
        value = 30 + int(fraction * 60)
        if value >= last[0] + 5:
            last[0] = value
            _progress(db, export_id, value, "events")

    count = 0
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("events.jsonl", "w") as out:
            if pseudonym is not None:
                for event in events_privacy.user_events(events.event_log(), pseudonym, progress=progress):
                    out.write(json.dumps(event, ensure_ascii=False, default=str).encode() + b"\n")
                    count += 1
        sections["events"] = {"count": count, "file": "events.jsonl", "pseudonym": pseudonym}
        document = {"generated_at": now.isoformat(), "user_id": user_id, "sections": sections}
        zf.writestr("data.json", json.dumps(document, ensure_ascii=False, indent=1, default=str))
        zf.writestr("README.txt", README.format(at=now.isoformat(), expires=expires.date().isoformat()))
    digest = hashlib.sha256(partial.read_bytes()).hexdigest()
    partial.replace(final)
    with db.session() as s:
        export = s.get(DataExport, export_id)
        if export is None:  # erased meanwhile
            final.unlink(missing_ok=True)
            return
        export.status, export.progress, export.stage = "ready", 100, "ready"
        export.path = str(final.relative_to(get_settings().data_dir))
        export.bytes, export.sha256 = final.stat().st_size, digest
        export.finished_at, export.expires_at = utcnow(), expires
        records.record(s, "export", export_id, "ready", None, bytes=export.bytes, events=count)
        jobs.enqueue(s, EXPIRE_JOB, {"export_id": export_id}, delay_seconds=TTL_DAYS * 86400,
                     dedupe_key=f"{EXPIRE_JOB}:{export_id}")  # fmt: skip


def expire(db: Database, export_id: str) -> None:
    with db.session() as s:
        export = s.get(DataExport, export_id)
        if export is None:
            return
        if export.path:
            (get_settings().data_dir / export.path).unlink(missing_ok=True)
        if export.status != "expired":
            export.status, export.path = "expired", None
            records.record(s, "export", export_id, "expired", None)


def fail(db: Database, export_id: str, error: str) -> None:
    with db.session() as s:
        export = s.get(DataExport, export_id)
        if export is not None and export.status != "ready":
            export.status, export.error, export.stage = "failed", error[:2000], "failed"


def delete_user_exports(session: Session, user_id: str) -> int:
    """Erasure: the files and their rows go."""
    rows = list(session.scalars(select(DataExport).where(DataExport.user_id == user_id)))
    for export in rows:
        if export.path:
            (get_settings().data_dir / export.path).unlink(missing_ok=True)
        (export_dir() / f"{export.id}.zip.part").unlink(missing_ok=True)
        session.delete(export)
    return len(rows)
