"""Merchants routes: trader details and verification, warehouses. Thin wrappers over the service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, status

from etalage.accounts.deps import CurrentPrincipal, MerchantReader, MerchantWriter, Moderator
from etalage.core.deps import DbSession
from etalage.core.pagination import Page, PageParams, page_params
from etalage.core.routing import api_router
from etalage.merchants import service
from etalage.merchants.models import TraderProfile, Warehouse
from etalage.merchants.schemas import (
    DecisionIn,
    PublicTraderOut,
    ReviewItemOut,
    StatusEventOut,
    TraderDetailsIn,
    TraderProfileOut,
    WarehouseIn,
    WarehouseOut,
    WarehousePatch,
)

router = api_router(prefix="/api/v1", tags=["merchants"])


def profile_out(profile: TraderProfile, *, full_account: bool = False) -> TraderProfileOut:
    data = {c: getattr(profile, c) for c in TraderProfileOut.model_fields if hasattr(profile, c)}
    if not full_account:
        data["payment_account"] = service.mask_account(profile.payment_account)
    return TraderProfileOut(**data, missing=service.missing_fields(profile))


def warehouse_out(w: Warehouse) -> WarehouseOut:
    return WarehouseOut.model_validate(w, from_attributes=True)


@router.get("/merchants/{merchant_id}/trader-profile", response_model=TraderProfileOut)
def get_trader_profile(merchant_id: str, principal: CurrentPrincipal, session: DbSession) -> TraderProfileOut:
    """The trader details (members; moderators reviewing see the payment account in full)."""
    profile, reviewer = service.get_profile(session, principal, merchant_id)
    return profile_out(profile, full_account=reviewer)


@router.put("/merchants/{merchant_id}/trader-profile", response_model=TraderProfileOut)
def put_trader_profile(
    merchant_id: str, body: TraderDetailsIn, principal: MerchantWriter, session: DbSession
) -> TraderProfileOut:
    """Fill in or change the trader details (owner only); fields left out are kept."""
    profile = service.update_profile(session, principal, merchant_id, body.model_dump(exclude_unset=True))
    return profile_out(profile)


@router.post("/merchants/{merchant_id}/trader-profile/submit", response_model=TraderProfileOut)
def submit_trader_profile(
    merchant_id: str, principal: MerchantWriter, session: DbSession
) -> TraderProfileOut:
    """Send the details for verification; a moderator decides. Selling starts once verified."""
    return profile_out(service.submit_profile(session, principal, merchant_id))


@router.post("/merchants/{merchant_id}/verification", response_model=TraderProfileOut, tags=["moderation"])
def decide_verification(
    merchant_id: str, body: DecisionIn, principal: Moderator, session: DbSession
) -> TraderProfileOut:
    """Verify, reject, suspend or reinstate a trader, with the reason the trader will read."""
    profile = service.decide(session, principal, merchant_id, body.decision, body.reason)
    return profile_out(profile, full_account=True)


@router.get("/merchants/{merchant_id}/verification-history", response_model=list[StatusEventOut])
def verification_history(
    merchant_id: str, principal: CurrentPrincipal, session: DbSession
) -> list[StatusEventOut]:
    return [
        StatusEventOut.model_validate(e, from_attributes=True)
        for e in service.history(session, principal, merchant_id)
    ]


@router.get("/moderation/traders", response_model=Page[ReviewItemOut], tags=["moderation"])
def review_queue(
    principal: Moderator,
    session: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
    status_filter: Annotated[
        str, Query(alias="status", pattern="^(draft|submitted|verified|rejected|suspended)$")
    ] = "submitted",
) -> Page[ReviewItemOut]:
    rows, cursor = service.review_queue(session, principal, status_filter, params)
    items = [
        ReviewItemOut(
            merchant_id=p.merchant_id,
            name=name,
            status=p.status,
            legal_name=p.legal_name,
            country=p.country,
            submitted_at=p.submitted_at,
        )
        for p, name in rows
    ]
    return Page(items=items, next_cursor=cursor)


@router.get("/merchants/{merchant_id}/trader", response_model=PublicTraderOut)
def public_trader(merchant_id: str, session: DbSession) -> PublicTraderOut:
    """The trader details every shopper may read before buying (DSA Art. 30(7)). Verified traders only."""
    p, name = service.public_trader(session, merchant_id)
    address = ", ".join(x for x in (p.address_line1, p.address_line2, f"{p.postal_code} {p.city}") if x)
    return PublicTraderOut(
        merchant_id=p.merchant_id,
        name=name,
        legal_name=p.legal_name or "",
        address=address,
        country=p.country or "",
        phone=p.phone or "",
        email=p.email or "",
        trade_register_name=p.trade_register_name,
        trade_register_number=p.trade_register_number,
        self_certified=p.self_certified_at is not None,
        verified_at=p.decided_at,
    )


@router.post(
    "/merchants/{merchant_id}/warehouses", status_code=status.HTTP_201_CREATED, response_model=WarehouseOut
)
def create_warehouse(
    merchant_id: str, body: WarehouseIn, principal: MerchantWriter, session: DbSession
) -> WarehouseOut:
    return warehouse_out(service.create_warehouse(session, principal, merchant_id, body.model_dump()))


@router.get("/merchants/{merchant_id}/warehouses", response_model=list[WarehouseOut])
def list_warehouses(merchant_id: str, principal: MerchantReader, session: DbSession) -> list[WarehouseOut]:
    return [warehouse_out(w) for w in service.list_warehouses(session, principal, merchant_id)]


@router.patch("/merchants/{merchant_id}/warehouses/{warehouse_id}", response_model=WarehouseOut)
def update_warehouse(
    merchant_id: str, warehouse_id: str, body: WarehousePatch, principal: MerchantWriter, session: DbSession
) -> WarehouseOut:
    """Rename, or take out of (or back into) service; stock in an inactive warehouse is not sold."""
    changes = body.model_dump(exclude_unset=True)
    return warehouse_out(service.update_warehouse(session, principal, merchant_id, warehouse_id, changes))
