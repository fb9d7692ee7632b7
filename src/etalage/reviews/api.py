"""Review routes: a product's reviews and quality, writing one from a delivered order, photos, the
merchant's reply, reports and moderation."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, UploadFile, status
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from etalage.accounts.deps import CurrentPrincipal, MerchantReader, MerchantWriter, Moderator, Shopper
from etalage.catalog import media as catalog_media
from etalage.core.deps import DbSession
from etalage.core.errors import InvalidInput
from etalage.core.http import register_body_limit
from etalage.core.pagination import Page, PageParams, page_params
from etalage.core.routing import api_router
from etalage.reviews import service
from etalage.reviews.models import Review
from etalage.reviews.schemas import ModerateIn, QualityOut, ReplyIn, ReportIn, ReviewIn, ReviewOut

router = api_router(prefix="/api/v1", tags=["reviews"])
media_router = api_router(tags=["reviews"])
extra_routers = [media_router]
register_body_limit("/api/v1/reviews/", catalog_media.MAX_IMAGE_BYTES + 64 * 1024)
Params = Annotated[PageParams, Depends(page_params)]


def _one(session: Session, review: Review) -> ReviewOut:
    return service.reviews_out(session, [review])[0]


@router.get("/products/{product_id}/reviews", response_model=Page[ReviewOut])
def product_reviews(product_id: str, session: DbSession, params: Params) -> Page[ReviewOut]:
    """Verified-purchase reviews of a product, newest first."""
    items, cursor = service.product_reviews(session, product_id, params)
    return Page(items=items, next_cursor=cursor)


@router.get("/products/{product_id}/quality", response_model=QualityOut)
def product_quality(product_id: str, session: DbSession) -> QualityOut:
    """Average rating, low-rating share, return and complaint rates of a product."""
    return service.product_quality(session, product_id)


@router.get("/merchants/{merchant_id}/quality", response_model=QualityOut)
def merchant_quality(merchant_id: str, session: DbSession) -> QualityOut:
    """The same signals over all of a shop's products."""
    return service.merchant_quality(session, merchant_id)


@router.post("/orders/{order_id}/reviews", response_model=ReviewOut, status_code=status.HTTP_201_CREATED)
def write_review(order_id: str, body: ReviewIn, principal: Shopper, session: DbSession) -> ReviewOut:
    """Review an item of your delivered order (one review per item of an order)."""
    return _one(session, service.write_review(session, principal, order_id, body))


@router.post("/reviews/{review_id}/photos", response_model=ReviewOut, status_code=status.HTTP_201_CREATED)
def add_photo(
    review_id: str,
    principal: Shopper,
    session: DbSession,
    file: Annotated[UploadFile | None, File(description="JPEG, PNG or WebP, at most 8 MB.")] = None,
) -> ReviewOut:
    """Add a photo to your review (multipart field ``file``; at most 5 photos)."""
    service.own_review(session, principal, review_id)  # 404 before anything else
    if file is None:
        raise InvalidInput("Send the photo as the multipart field 'file'.", field="file")
    photo = service.add_photo(
        session, principal, review_id, file.file.read(catalog_media.MAX_IMAGE_BYTES + 1)
    )
    review = session.get(Review, photo.review_id)
    assert review is not None
    return _one(session, review)


@router.get("/merchants/{merchant_id}/reviews", response_model=Page[ReviewOut])
def merchant_reviews(
    merchant_id: str, principal: MerchantReader, session: DbSession, params: Params
) -> Page[ReviewOut]:
    """Reviews of this shop's products (removed ones too), newest first."""
    items, cursor = service.merchant_reviews(session, principal, merchant_id, params)
    return Page(items=items, next_cursor=cursor)


@router.post("/merchants/{merchant_id}/reviews/{review_id}/reply", response_model=ReviewOut)
def reply(
    merchant_id: str, review_id: str, body: ReplyIn, principal: MerchantWriter, session: DbSession
) -> ReviewOut:
    """The shop's one public reply to a review."""
    return _one(session, service.reply(session, principal, merchant_id, review_id, body.text))


@router.post("/reviews/{review_id}/reports", response_model=ReviewOut, status_code=status.HTTP_202_ACCEPTED)
def report(review_id: str, body: ReportIn, principal: CurrentPrincipal, session: DbSession) -> ReviewOut:
    """Tell moderators a review breaks the rules (once per person)."""
    return _one(session, service.report(session, principal, review_id, body.reason))


@router.post("/moderation/reviews/{review_id}", response_model=ReviewOut, tags=["moderation"])
def moderate(review_id: str, body: ModerateIn, principal: Moderator, session: DbSession) -> ReviewOut:
    """Remove a review that breaks the rules, or restore it; the reason is recorded."""
    return _one(session, service.moderate(session, principal, review_id, body.action, body.reason))


@media_router.get("/media/reviews/{review_id}/{file_name}", include_in_schema=False)
def review_photo(review_id: str, file_name: str, session: DbSession) -> FileResponse:
    path = service.photo_file(session, review_id, file_name)
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=86400"})
