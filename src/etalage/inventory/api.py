"""Inventory routes: merchants record stock movements and read levels and the ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, status

from etalage.accounts.deps import MerchantReader, MerchantWriter
from etalage.core.deps import DbSession
from etalage.core.pagination import Page, PageParams, page_params
from etalage.core.routing import api_router
from etalage.inventory import service
from etalage.inventory.models import StockLevel
from etalage.inventory.schemas import LevelOut, MovementIn, MovementOut

router = api_router(prefix="/api/v1", tags=["inventory"])


def level_out(level: StockLevel) -> LevelOut:
    return LevelOut(
        variant_id=level.variant_id,
        warehouse_id=level.warehouse_id,
        product_id=level.product_id,
        region_code=level.region_code,
        warehouse_active=level.warehouse_active,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.on_hand - level.reserved,
        updated_at=level.updated_at,
    )


@router.post(
    "/merchants/{merchant_id}/stock-movements", response_model=LevelOut, status_code=status.HTTP_201_CREATED
)
def record_movement(
    merchant_id: str, body: MovementIn, principal: MerchantWriter, session: DbSession
) -> LevelOut:
    """Record units received, removed or counted; answers the level after it. Every movement is in the ledger."""
    service.record_movement(session, principal, merchant_id, **body.model_dump())
    levels = service.list_levels(session, principal, merchant_id, body.variant_id)
    return level_out(next(lv for lv in levels if lv.warehouse_id == body.warehouse_id))


@router.get("/merchants/{merchant_id}/stock", response_model=list[LevelOut])
def list_levels(
    merchant_id: str,
    principal: MerchantReader,
    session: DbSession,
    variant_id: Annotated[str | None, Query(max_length=40)] = None,
) -> list[LevelOut]:
    return [level_out(lv) for lv in service.list_levels(session, principal, merchant_id, variant_id)]


@router.get("/merchants/{merchant_id}/stock-ledger", response_model=Page[MovementOut])
def stock_ledger(
    merchant_id: str,
    principal: MerchantReader,
    session: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
    variant_id: Annotated[str | None, Query(max_length=40)] = None,
    warehouse_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[MovementOut]:
    """Every stock movement, newest first: who, when, why, and the levels after it."""
    rows, cursor = service.ledger(
        session, principal, merchant_id, params, variant_id=variant_id, warehouse_id=warehouse_id
    )
    return Page(items=[MovementOut.model_validate(m, from_attributes=True) for m in rows], next_cursor=cursor)
