"""What content needs to know about products, asked of the catalog's service (never its tables).

Merchant videos and rooms may feature only that merchant's products; creators may feature any active
product (they earn an affiliate commission on it). While the catalog domain is absent (an install
without it, or early development) ids are checked for shape only.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from etalage.core.errors import InvalidInput


@dataclass(frozen=True)
class ProductRef:
    id: str
    merchant_id: str | None
    title: str | None
    active: bool
    variant_ids: frozenset[str] | None = None  # None: unknown (no catalog)


def _catalog() -> Any | None:
    try:
        module = importlib.import_module("etalage.catalog.service")
    except ImportError:
        return None
    return module if hasattr(module, "get_products") else None


def catalog_available() -> bool:
    return _catalog() is not None


def _field(obj: Any, *names: str) -> Any:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return None


def _ref(obj: Any) -> ProductRef:
    status = _field(obj, "status", "state")
    active = _field(obj, "active", "is_active")
    if active is None:
        active = status in (None, "active", "published")
    variants = _field(obj, "variants", "variant_ids")
    variant_ids = None
    if variants is not None:
        variant_ids = frozenset(v if isinstance(v, str) else str(_field(v, "id")) for v in variants)
    return ProductRef(
        id=str(_field(obj, "id")),
        merchant_id=_field(obj, "merchant_id"),
        title=_field(obj, "title", "name"),
        active=bool(active),
        variant_ids=variant_ids,
    )


def lookup(session: Session, product_ids: list[str]) -> dict[str, ProductRef] | None:
    """The catalog's view of these products, or None when there is no catalog to ask."""
    catalog = _catalog()
    if catalog is None or not product_ids:
        return None if catalog is None else {}
    found = catalog.get_products(session, list(product_ids))
    items = found.values() if isinstance(found, dict) else found
    refs = [_ref(p) for p in items]
    return {r.id: r for r in refs}


def check_featurable(
    session: Session, product_ids: list[str], *, merchant_id: str | None
) -> dict[str, ProductRef]:
    """Raise 422 unless every product may be featured by this merchant (or, with None, a creator)."""
    refs = lookup(session, product_ids)
    if refs is None:
        return {}
    errors = []
    for pid in product_ids:
        ref = refs.get(pid)
        if ref is None:
            errors.append({"loc": "products", "message": f"No product {pid}.", "type": "unknown_product"})
        elif merchant_id is not None and ref.merchant_id != merchant_id:
            # the same words as for an unknown id, so other merchants' catalogues are not probed this way
            errors.append({"loc": "products", "message": f"No product {pid}.", "type": "unknown_product"})
        elif not ref.active:
            errors.append(
                {"loc": "products", "message": f"Product {pid} is not on sale.", "type": "inactive_product"}
            )
    if errors:
        raise InvalidInput("Some tagged products cannot be featured here.", errors=errors)
    return refs


def title_of(session: Session, product_id: str) -> str | None:
    refs = lookup(session, [product_id])
    return refs[product_id].title if refs and product_id in refs else None
