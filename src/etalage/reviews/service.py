"""Reviews logic: only buyers of a delivered order write them (one per order line), with up to five
photos; the merchant replies once; anyone signed in may report one, moderators remove or restore it.

For other domains (documented interfaces):
- :func:`rating_counts` — ``{product_id: (ratings, low_ratings)}`` of published reviews (fulfilment's
  ``product_quality`` and the feed read it).
- :func:`quality` — average rating, low-rating share, return and complaint rates per product or merchant.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal, require_merchant, require_scope
from etalage.catalog import media as catalog_media
from etalage.commerce import service as commerce
from etalage.config import get_settings
from etalage.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from etalage.core.pagination import PageParams, paginate
from etalage.db import new_id, utcnow
from etalage.reviews.models import Review, ReviewEvent, ReviewPhoto, ReviewReport
from etalage.reviews.schemas import PhotoOut, QualityOut, ReplyOut, ReviewIn, ReviewOut

MAX_PHOTOS = 5
LOW = 2  # 1–2 stars count as low ratings


class NotDeliveredYet(Conflict):
    code, title = "not-delivered-yet", "Reviews open once the order is delivered"


class AlreadyReviewed(Conflict):
    code, title = "already-reviewed", "This purchase already has a review"


def _event(session: Session, review_id: str, action: str, actor: str, reason: str = "") -> None:
    session.add(
        ReviewEvent(review_id=review_id, action=action, actor=actor, reason=reason, created_at=utcnow())
    )


def write_review(session: Session, principal: Principal, order_id: str, body: ReviewIn) -> Review:
    """A review of one line of the caller's own delivered order."""
    require_scope(principal, "shop")
    lines = commerce.purchased_lines(session, principal.user_id, order_id)
    if not lines:
        raise NotFound(f"No order {order_id}.")
    line = next((ln for ln in lines if ln.variant_id == body.variant_id), None)
    if line is None:
        raise InvalidInput(f"Order {order_id} has no item {body.variant_id}.", field="variant_id")
    if not line.ever_delivered:
        raise NotDeliveredYet(
            f"Order {order_id} is {line.order_status}; you can review it once it has been delivered.",
            status_now=line.order_status,
        )
    name = accounts.display_names(session, [principal.user_id]).get(principal.user_id) or "A buyer"
    now = utcnow()
    review = Review(
        product_id=line.product_id, variant_id=line.variant_id, merchant_id=line.merchant_id, order_id=order_id,
        order_line_id=line.line_id, user_id=principal.user_id, author_name=name[:100], rating=body.rating,
        text=body.text, status="published", reports=0, created_at=now, updated_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(review)
            session.flush()
    except IntegrityError as exc:
        raise AlreadyReviewed(
            "You already reviewed this item of this order.", variant_id=body.variant_id
        ) from exc
    _event(session, review.id, "written", principal.user_id)
    return review


def own_review(session: Session, principal: Principal, review_id: str) -> Review:
    review = session.get(Review, review_id)
    if review is None or review.user_id != principal.user_id:
        raise NotFound(f"No review {review_id}.")
    return review


def photo_relpath(review_id: str, photo_id: str) -> str:
    return f"reviews/{review_id}/{photo_id}.jpg"


def add_photo(session: Session, principal: Principal, review_id: str, data: bytes) -> ReviewPhoto:
    """A photo on your own review, decoded and re-encoded like product images (EXIF and GPS stripped)."""
    review = own_review(session, principal, review_id)
    count = session.scalar(select(func.count()).where(ReviewPhoto.review_id == review.id)) or 0
    if count >= MAX_PHOTOS:
        raise Conflict(f"A review may have at most {MAX_PHOTOS} photos.")
    image = catalog_media.decode_image(data)
    photo_id = new_id("rph")
    path = photo_relpath(review.id, photo_id)
    catalog_media.save_jpeg(image, get_settings().media_dir / path)
    photo = ReviewPhoto(id=photo_id, review_id=review.id, path=path, width=image.width, height=image.height,
                        position=count, created_at=utcnow())  # fmt: skip
    session.add(photo)
    session.flush()
    return photo


def photo_file(session: Session, review_id: str, file_name: str) -> Any:
    review = session.get(Review, review_id)
    if review is None or review.status != "published":
        raise NotFound("No such photo.")
    root = (get_settings().media_dir / "reviews").resolve()
    path = (root / review_id / file_name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("No such photo.")
    return path


def reply(session: Session, principal: Principal, merchant_id: str, review_id: str, text: str) -> Review:
    """The merchant's one public answer to a review of its product."""
    require_merchant(principal, merchant_id, write=True)
    review = session.get(Review, review_id)
    if review is None or review.merchant_id != merchant_id:
        raise NotFound(f"No review {review_id}.")
    now = utcnow()
    done = session.execute(
        update(Review).where(Review.id == review.id, Review.reply_text.is_(None))
        .values(reply_text=text, reply_by=principal.user_id, replied_at=now, updated_at=now)
    ).rowcount  # fmt: skip
    if done != 1:
        raise Conflict("This review already has your reply; a review gets one public reply.")
    _event(session, review.id, "replied", principal.user_id)
    session.refresh(review)
    return review


def report(session: Session, principal: Principal, review_id: str, reason: str) -> Review:
    review = session.get(Review, review_id)
    if review is None or review.status != "published":
        raise NotFound(f"No review {review_id}.")
    if review.user_id == principal.user_id:
        raise Forbidden("You cannot report your own review.")
    try:
        with session.begin_nested():
            session.add(ReviewReport(review_id=review.id, reporter_id=principal.user_id, reason=reason,
                                     created_at=utcnow()))  # fmt: skip
            session.flush()
    except IntegrityError as exc:
        raise Conflict("You already reported this review; moderators will look at it.") from exc
    session.execute(update(Review).where(Review.id == review.id).values(reports=Review.reports + 1))
    _event(session, review.id, "reported", principal.user_id, reason)
    session.refresh(review)
    return review


def moderate(session: Session, principal: Principal, review_id: str, action: str, reason: str) -> Review:
    require_scope(principal, "moderation")
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound(f"No review {review_id}.")
    before, after = ("published", "removed") if action == "remove" else ("removed", "published")
    done = session.execute(
        update(Review)
        .where(Review.id == review.id, Review.status == before)
        .values(status=after, updated_at=utcnow())
    ).rowcount
    if done != 1:
        raise Conflict(f"The review is {review.status}; it cannot be {action}d.")
    _event(session, review.id, "removed" if action == "remove" else "restored", principal.user_id, reason)
    session.refresh(review)
    return review


# --- reading -------------------------------------------------------------------------------------------------


def reviews_out(session: Session, reviews: list[Review]) -> list[ReviewOut]:
    photos: dict[str, list[ReviewPhoto]] = defaultdict(list)
    if reviews:
        for p in session.scalars(
            select(ReviewPhoto)
            .where(ReviewPhoto.review_id.in_([r.id for r in reviews]))
            .order_by(ReviewPhoto.position)
        ):
            photos[p.review_id].append(p)
    return [
        ReviewOut(
            id=r.id,
            product_id=r.product_id,
            variant_id=r.variant_id,
            merchant_id=r.merchant_id,
            author=r.author_name,
            rating=r.rating,
            text=r.text,
            photos=[
                PhotoOut(id=p.id, url=f"/media/{p.path}", width=p.width, height=p.height)
                for p in photos[r.id]
            ],
            reply=ReplyOut(text=r.reply_text, replied_at=r.replied_at)
            if r.reply_text and r.replied_at
            else None,
            status=r.status,
            created_at=r.created_at,  # type: ignore[arg-type]
        )  # fmt: skip
        for r in reviews
    ]


def product_reviews(
    session: Session, product_id: str, params: PageParams
) -> tuple[list[ReviewOut], str | None]:
    """Published reviews of a product, newest first."""
    stmt = select(Review).where(Review.product_id == product_id, Review.status == "published")
    rows, cursor = paginate(session, stmt, Review.id, params)
    return reviews_out(session, rows), cursor


def merchant_reviews(
    session: Session, principal: Principal, merchant_id: str, params: PageParams
) -> tuple[list[ReviewOut], str | None]:
    require_merchant(principal, merchant_id)
    rows, cursor = paginate(
        session, select(Review).where(Review.merchant_id == merchant_id), Review.id, params
    )
    return reviews_out(session, rows), cursor


def reviewed_lines(session: Session, user_id: str, order_id: str) -> set[str]:
    """Variant ids of an order the user has already reviewed (the order page hides their form)."""
    return set(
        session.scalars(
            select(Review.variant_id).where(Review.order_id == order_id, Review.user_id == user_id)
        )
    )


def rating_counts(session: Session, product_ids: list[str]) -> dict[str, tuple[int, int]]:
    """``{product_id: (ratings, low_ratings)}`` of published reviews (low: 1–2 stars)."""
    if not product_ids:
        return {}
    low = func.sum(case((Review.rating <= LOW, 1), else_=0))
    rows = session.execute(
        select(Review.product_id, func.count(), low)
        .where(Review.product_id.in_(list(product_ids)), Review.status == "published")
        .group_by(Review.product_id)
    )
    return {pid: (int(n), int(lo or 0)) for pid, n, lo in rows}


def _distribution(session: Session, where: Any) -> dict[str, int]:
    dist = {str(i): 0 for i in range(1, 6)}
    for rating, n in session.execute(
        select(Review.rating, func.count()).where(where, Review.status == "published").group_by(Review.rating)
    ):
        dist[str(rating)] = int(n)
    return dist


def _returns(session: Session, product_ids: list[str]) -> dict[str, Any]:
    try:  # returns are fulfilment's; without it, there are none to count
        from etalage.fulfilment import service as fulfilment
    except ImportError:
        return {}
    return fulfilment.product_quality(session, product_ids)


def _quality(dist: dict[str, int], orders: int, returns: int, complaints: int) -> QualityOut:
    n = sum(dist.values())
    total = sum(int(k) * v for k, v in dist.items())
    return QualityOut(
        ratings=n, average_rating=round(total / n, 2) if n else None, distribution=dist,
        low_rating_share=round((dist["1"] + dist["2"]) / n, 4) if n else None, orders=orders,
        return_rate=round(returns / orders, 4) if orders else None,
        complaint_rate=round(complaints / orders, 4) if orders else None,
    )  # fmt: skip


def product_quality(session: Session, product_id: str) -> QualityOut:
    dist = _distribution(session, Review.product_id == product_id)
    q = _returns(session, [product_id]).get(product_id)
    orders = commerce.orders_per_product(session, [product_id]).get(product_id, 0)
    return _quality(dist, orders, getattr(q, "returns", 0), getattr(q, "complaints", 0))


def merchant_quality(session: Session, merchant_id: str) -> QualityOut:
    """A shop's signals over all its products (orders counted per product: an order of two of its
    products counts twice, as each product's return rate does)."""
    from etalage.catalog import lookups as catalog

    dist = _distribution(session, Review.merchant_id == merchant_id)
    product_ids = catalog.product_ids_of_merchant(session, merchant_id)
    orders_by = commerce.orders_per_product(session, product_ids)
    qual = _returns(session, product_ids)
    return _quality(
        dist,
        sum(orders_by.values()),
        sum(getattr(q, "returns", 0) for q in qual.values()),
        sum(getattr(q, "complaints", 0) for q in qual.values()),
    )
