"""Catalog routes: merchants manage products; everyone browses and searches what is on sale."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Query, Response, UploadFile, status
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant
from etalage.accounts.deps import Admin, MerchantReader, MerchantWriter
from etalage.catalog import media, public, search, service
from etalage.catalog.models import Product
from etalage.catalog.schemas import (
    CategoryIn,
    CategoryOut,
    PriceSet,
    ProductIn,
    ProductOut,
    ProductPatch,
    RegionPrice,
    VariantIn,
    VariantPatch,
)
from etalage.catalog.views import build_products
from etalage.core.deps import DbSession
from etalage.core.errors import InvalidInput, NotFound
from etalage.core.http import register_body_limit
from etalage.core.pagination import Page, PageParams, page_params
from etalage.core.routing import api_router

router = api_router(prefix="/api/v1", tags=["catalog"])
media_router = api_router(tags=["catalog"])
extra_routers = [media_router]
IMAGE_UPLOAD_PREFIX = "/api/v1/product-images/"
register_body_limit(IMAGE_UPLOAD_PREFIX, media.MAX_IMAGE_BYTES + 64 * 1024)
RegionQuery = Annotated[str, Query(pattern=r"^[A-Z]{2}$", description="The shopper's region, e.g. BE.")]


def startup(app) -> None:  # type: ignore[no-untyped-def]
    with app.state.db.session() as session:
        search.ensure_index(session)


# --- public ---------------------------------------------------------------------------------------------


@router.get("/categories", response_model=list[CategoryOut])
def list_categories(session: DbSession) -> list[CategoryOut]:
    return [CategoryOut.model_validate(c, from_attributes=True) for c in service.list_categories(session)]


@router.post(
    "/admin/categories", response_model=CategoryOut, status_code=status.HTTP_201_CREATED, tags=["admin"]
)
def create_category(body: CategoryIn, principal: Admin, session: DbSession) -> CategoryOut:
    category = service.create_category(session, principal, body.slug, body.name, body.parent_id)
    session.flush()
    return CategoryOut.model_validate(category, from_attributes=True)


@router.get("/products", response_model=Page[ProductOut])
def browse_products(
    session: DbSession,
    region: RegionQuery,
    params: Annotated[PageParams, Depends(page_params)],
    q: Annotated[str | None, Query(max_length=200, description="Words to search for.")] = None,
    category_id: Annotated[str | None, Query(max_length=40)] = None,
    merchant_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[ProductOut]:
    """Products on sale in ``region``, newest first, or best match first with ``q``."""
    items, cursor = public.list_products(
        session, region, params, q=q, category_id=category_id, merchant_id=merchant_id
    )
    return Page(items=items, next_cursor=cursor)


@router.get("/products/{product_id}", response_model=ProductOut)
def get_product(product_id: str, region: RegionQuery, session: DbSession) -> ProductOut:
    """One product on sale, with each variant's price and availability in ``region``."""
    return public.get_product(session, product_id, region)


@media_router.get("/media/products/{product_id}/{file_name}", include_in_schema=False)
def product_image(product_id: str, file_name: str) -> FileResponse:
    path = media.file_for(product_id, file_name)
    # File names are ids, so a URL always means the same bytes.
    return FileResponse(
        path, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )


# --- merchants ------------------------------------------------------------------------------------------


@router.post(
    "/merchants/{merchant_id}/products", response_model=ProductOut, status_code=status.HTTP_201_CREATED
)
def create_product(
    merchant_id: str, body: ProductIn, principal: MerchantWriter, session: DbSession
) -> ProductOut:
    product = service.create_product(session, principal, merchant_id, body.model_dump())
    return service.product_out(session, product)


@router.get("/merchants/{merchant_id}/products", response_model=Page[ProductOut])
def list_merchant_products(
    merchant_id: str,
    principal: MerchantReader,
    session: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
    status_filter: Annotated[str | None, Query(alias="status", pattern="^(draft|active|archived)$")] = None,
) -> Page[ProductOut]:
    items, cursor = service.list_merchant_products(session, principal, merchant_id, params, status_filter)
    return Page(items=items, next_cursor=cursor)


@router.get("/merchants/{merchant_id}/products/{product_id}", response_model=ProductOut)
def get_merchant_product(
    merchant_id: str, product_id: str, principal: MerchantReader, session: DbSession
) -> ProductOut:
    return service.get_merchant_product(session, principal, merchant_id, product_id)


@router.patch("/merchants/{merchant_id}/products/{product_id}", response_model=ProductOut)
def update_product(
    merchant_id: str, product_id: str, body: ProductPatch, principal: MerchantWriter, session: DbSession
) -> ProductOut:
    """Edit, publish (``status: active``) or archive a product."""
    product = service.update_product(
        session, principal, merchant_id, product_id, body.model_dump(exclude_unset=True)
    )
    return service.product_out(session, product)


@router.post(
    "/merchants/{merchant_id}/products/{product_id}/variants",
    response_model=ProductOut,
    status_code=status.HTTP_201_CREATED,
)
def add_variants(
    merchant_id: str, product_id: str, body: list[VariantIn], principal: MerchantWriter, session: DbSession
) -> ProductOut:
    product = service.add_variants(
        session, principal, merchant_id, product_id, [v.model_dump() for v in body][:50]
    )
    return service.product_out(session, product)


@router.patch("/merchants/{merchant_id}/variants/{variant_id}", response_model=ProductOut)
def update_variant(
    merchant_id: str, variant_id: str, body: VariantPatch, principal: MerchantWriter, session: DbSession
) -> ProductOut:
    """Change a variant's options, or archive it (it stays on past orders, but is no longer sold)."""
    variant = service.update_variant(
        session, principal, merchant_id, variant_id, body.model_dump(exclude_unset=True)
    )
    product = session.get(Product, variant.product_id)
    return build_products(session, [product])[0]


@router.put("/merchants/{merchant_id}/variants/{variant_id}/prices/{region_code}", response_model=RegionPrice)
def set_price(
    merchant_id: str,
    variant_id: str,
    region_code: str,
    body: PriceSet,
    principal: MerchantWriter,
    session: DbSession,
) -> RegionPrice:
    price = service.set_price(
        session, principal, merchant_id, variant_id, region_code, body.amount, body.currency
    )
    return RegionPrice(region_code=price.region_code, amount=price.amount, currency=price.currency)


@router.delete(
    "/merchants/{merchant_id}/variants/{variant_id}/prices/{region_code}",
    status_code=status.HTTP_204_NO_CONTENT,
)
def remove_price(
    merchant_id: str, variant_id: str, region_code: str, principal: MerchantWriter, session: DbSession
) -> Response:
    """Stop selling a variant in a region."""
    service.remove_price(session, principal, merchant_id, variant_id, region_code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _merchant_of(session: Session, principal: Principal, product_id: str) -> str:
    """The merchant of a product the caller may edit; anything else is simply 'no such product'."""
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"No product {product_id}.")
    try:
        require_merchant(principal, product.merchant_id, write=True)
    except NotFound:
        raise NotFound(f"No product {product_id}.") from None  # never name another merchant
    return product.merchant_id


@router.post("/product-images/{product_id}", response_model=ProductOut, status_code=status.HTTP_201_CREATED)
def upload_image(
    product_id: str,
    principal: MerchantWriter,
    session: DbSession,
    file: Annotated[UploadFile | None, File(description="JPEG, PNG or WebP, at most 8 MB.")] = None,
    alt: Annotated[str, Form(max_length=200)] = "",
) -> ProductOut:
    """Add an image to one of your products (multipart form: ``file``, optional ``alt``)."""
    merchant_id = _merchant_of(session, principal, product_id)  # 404 before anything else
    if file is None:
        raise InvalidInput("Send the image as the multipart field 'file'.", field="file")
    data = file.file.read(media.MAX_IMAGE_BYTES + 1)
    media.add_image(session, principal, merchant_id, product_id, data, alt)
    return service.product_out(session, session.get(Product, product_id))


@router.delete("/product-images/{product_id}/{media_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_image(product_id: str, media_id: str, principal: MerchantWriter, session: DbSession) -> Response:
    media.remove_image(session, principal, _merchant_of(session, principal, product_id), product_id, media_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
