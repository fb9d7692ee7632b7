"""A person's reviews, for data export (GDPR Art. 15/20) and erasure (Art. 17), asked by compliance.

Reviews are the person's own words and pictures, and nothing requires keeping them: erasure deletes the
reviews (with their photos, files included, and their history) and the reports the person filed. The shop's
product loses those ratings from its signals.
"""

from __future__ import annotations

import shutil
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from etalage.config import get_settings
from etalage.db import on_commit
from etalage.reviews.models import Review, ReviewPhoto, ReviewReport


def export_user_reviews(session: Session, user_id: str) -> dict[str, Any]:
    reviews = list(session.scalars(select(Review).where(Review.user_id == user_id).order_by(Review.id)))
    photos: dict[str, list[str]] = {r.id: [] for r in reviews}
    if reviews:
        for p in session.scalars(select(ReviewPhoto).where(ReviewPhoto.review_id.in_(list(photos)))):
            photos[p.review_id].append(f"/media/{p.path}")
    reports = session.scalars(select(ReviewReport).where(ReviewReport.reporter_id == user_id))
    return {
        "reviews": [
            {"id": r.id, "product_id": r.product_id, "order_id": r.order_id, "rating": r.rating, "text": r.text,
             "status": r.status, "photos": photos[r.id], "reply": r.reply_text, "created_at": r.created_at.isoformat()}
            for r in reviews
        ],
        "reports": [{"review_id": x.review_id, "reason": x.reason, "at": x.created_at.isoformat()} for x in reports],
    }  # fmt: skip


def erase_user_reviews(session: Session, user_id: str) -> dict[str, int]:
    ids = list(session.scalars(select(Review.id).where(Review.user_id == user_id)))
    root = get_settings().media_dir / "reviews"
    removed = session.execute(delete(Review).where(Review.user_id == user_id)).rowcount if ids else 0
    reports = session.execute(delete(ReviewReport).where(ReviewReport.reporter_id == user_id)).rowcount

    def drop_files() -> None:  # only once the rows are gone for good
        for rid in ids:
            shutil.rmtree(root / rid, ignore_errors=True)

    on_commit(session, drop_files)
    return {"reviews_deleted": int(removed or 0), "reports_deleted": int(reports or 0)}
