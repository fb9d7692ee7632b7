"""Promotion routes: merchants' vouchers and flash sales, the platform's vouchers, prices with their EU
prior price. Vouchers are redeemed through checkout (``voucher_code`` on buy-now and cart checkout)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, status

from etalage.accounts.deps import Admin, MerchantReader, MerchantWriter
from etalage.core.deps import DbSession
from etalage.core.errors import InvalidInput
from etalage.core.pagination import Page, PageParams, page_params
from etalage.core.routing import api_router
from etalage.promotions import service
from etalage.promotions.schemas import (
    EndIn,
    FlashSaleIn,
    FlashSaleOut,
    VariantPriceOut,
    VoucherIn,
    VoucherOut,
)

router = api_router(prefix="/api/v1", tags=["promotions"])
Params = Annotated[PageParams, Depends(page_params)]


@router.post(
    "/merchants/{merchant_id}/vouchers", response_model=VoucherOut, status_code=status.HTTP_201_CREATED
)
def create_voucher(
    merchant_id: str, body: VoucherIn, principal: MerchantWriter, session: DbSession
) -> VoucherOut:
    """A voucher funded by this merchant, valid on its own items only."""
    return service.voucher_out(service.create_voucher(session, principal, merchant_id, body))


@router.get("/merchants/{merchant_id}/vouchers", response_model=Page[VoucherOut])
def list_vouchers(
    merchant_id: str, principal: MerchantReader, session: DbSession, params: Params
) -> Page[VoucherOut]:
    items, cursor = service.list_vouchers(session, principal, merchant_id, params)
    return Page(items=items, next_cursor=cursor)


@router.get("/merchants/{merchant_id}/vouchers/{voucher_id}", response_model=VoucherOut)
def get_voucher(
    merchant_id: str, voucher_id: str, principal: MerchantReader, session: DbSession
) -> VoucherOut:
    return service.voucher_out(service.get_voucher(session, principal, merchant_id, voucher_id))


@router.post("/merchants/{merchant_id}/vouchers/{voucher_id}/end", response_model=VoucherOut)
def end_voucher(
    merchant_id: str, voucher_id: str, body: EndIn, principal: MerchantWriter, session: DbSession
) -> VoucherOut:
    """Stop the voucher now (orders that used it keep their discount)."""
    return service.voucher_out(service.end_voucher(session, principal, merchant_id, voucher_id, body.reason))


@router.post(
    "/admin/vouchers", response_model=VoucherOut, status_code=status.HTTP_201_CREATED, tags=["admin"]
)
def create_platform_voucher(body: VoucherIn, principal: Admin, session: DbSession) -> VoucherOut:
    """A voucher funded by the platform, valid on every shop's items."""
    return service.voucher_out(service.create_voucher(session, principal, None, body))


@router.get("/admin/vouchers", response_model=Page[VoucherOut], tags=["admin"])
def list_platform_vouchers(principal: Admin, session: DbSession, params: Params) -> Page[VoucherOut]:
    items, cursor = service.list_vouchers(session, principal, None, params)
    return Page(items=items, next_cursor=cursor)


@router.post("/admin/vouchers/{voucher_id}/end", response_model=VoucherOut, tags=["admin"])
def end_platform_voucher(voucher_id: str, body: EndIn, principal: Admin, session: DbSession) -> VoucherOut:
    return service.voucher_out(service.end_voucher(session, principal, None, voucher_id, body.reason))


@router.post(
    "/merchants/{merchant_id}/flash-sales", response_model=FlashSaleOut, status_code=status.HTTP_201_CREATED
)
def create_flash_sale(
    merchant_id: str, body: FlashSaleIn, principal: MerchantWriter, session: DbSession
) -> FlashSaleOut:
    """A time-boxed lower price for one variant in one region, for at most ``quantity`` units."""
    return service.flash_sale_out(service.create_flash_sale(session, principal, merchant_id, body))


@router.get("/merchants/{merchant_id}/flash-sales", response_model=Page[FlashSaleOut])
def list_flash_sales(
    merchant_id: str, principal: MerchantReader, session: DbSession, params: Params
) -> Page[FlashSaleOut]:
    items, cursor = service.list_flash_sales(session, principal, merchant_id, params)
    return Page(items=items, next_cursor=cursor)


@router.post("/merchants/{merchant_id}/flash-sales/{flash_sale_id}/end", response_model=FlashSaleOut)
def end_flash_sale(
    merchant_id: str, flash_sale_id: str, body: EndIn, principal: MerchantWriter, session: DbSession
) -> FlashSaleOut:
    return service.flash_sale_out(
        service.end_flash_sale(session, principal, merchant_id, flash_sale_id, body.reason)
    )


@router.get("/prices", response_model=list[VariantPriceOut])
def prices(
    session: DbSession,
    region: Annotated[str, Query(pattern=r"^[A-Z]{2}$", description="The shopper's region, e.g. BE.")],
    variant_id: Annotated[
        list[str], Query(max_length=100, description="Variant ids (repeat the parameter).")
    ],
) -> list[VariantPriceOut]:
    """What variants cost now in a region; where a price is reduced in the EU, the lowest price of the
    30 days before the reduction."""
    from etalage.commerce.regions import is_region

    if not is_region(region):
        raise InvalidInput(f"Etalage does not sell in region {region}.", field="region")
    answers = service.variant_prices(session, variant_id[:100], region)
    return [answers[v] for v in variant_id if v in answers]
