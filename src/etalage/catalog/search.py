"""Full-text product search behind one interface: SQLite FTS5 or PostgreSQL ``tsvector``.

- PostgreSQL: ``products.search_vector`` (GIN-indexed), written with ``to_tsvector('simple', …)``.
- SQLite: a standalone FTS5 table ``catalog_search(product_id, body)``. It is a derived index, rebuilt from
  the products by :func:`reindex` (``etalage catalog reindex``), so it is created when first needed rather
  than by a migration (Alembic cannot describe virtual tables).

Queries are reduced to word tokens and matched as prefixes (``"sne"`` finds sneakers), all tokens
required, best match first; user input never reaches either query language unescaped.
"""

from __future__ import annotations

import re
import threading

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from etalage.catalog.models import Category, Product, Variant

_TOKEN = re.compile(r"\w+", re.UNICODE)
_ready: set[str] = set()
_ready_lock = threading.Lock()
FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS catalog_search USING fts5("
    "product_id UNINDEXED, body, tokenize='unicode61 remove_diacritics 2')"
)


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def ensure_index(session: Session) -> None:
    """Create the SQLite FTS5 table once per database (no-op on PostgreSQL)."""
    if not _is_sqlite(session):
        return
    url = str(session.get_bind().engine.url)
    if url in _ready:
        return
    with _ready_lock:
        session.execute(text(FTS_DDL))
        _ready.add(url)


def tokens(query: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(query)][:8]


def document(
    title: str, brand: str | None, description: str, category: str | None, variants: list[tuple[str, dict]]
) -> str:
    parts = [title, brand or "", category or "", description[:2000]]
    for sku, options in variants:
        parts.append(sku)
        parts.extend(str(v) for v in options.values())
    return " ".join(p for p in parts if p)


def index_products(session: Session, product_ids: list[str]) -> None:
    """(Re)index these products from their current rows."""
    if not product_ids:
        return
    rows = session.execute(
        select(Product.id, Product.title, Product.brand, Product.description, Category.name)
        .outerjoin(Category, Category.id == Product.category_id)
        .where(Product.id.in_(product_ids))
    ).all()
    variants: dict[str, list[tuple[str, dict]]] = {}
    for pid, sku, options in session.execute(
        select(Variant.product_id, Variant.sku, Variant.options).where(Variant.product_id.in_(product_ids))
    ):
        variants.setdefault(pid, []).append((sku, options or {}))
    docs = [(pid, document(t, b, d, c, variants.get(pid, []))) for pid, t, b, d, c in rows]
    write_documents(session, docs)


def write_documents(session: Session, docs: list[tuple[str, str]]) -> None:
    if not docs:
        return
    if _is_sqlite(session):
        ensure_index(session)
        session.execute(
            text("DELETE FROM catalog_search WHERE product_id = :pid"), [{"pid": pid} for pid, _ in docs]
        )
        session.execute(
            text("INSERT INTO catalog_search (product_id, body) VALUES (:pid, :body)"),
            [{"pid": pid, "body": body} for pid, body in docs],
        )
    else:
        session.execute(
            text("UPDATE products SET search_vector = to_tsvector('simple', :body) WHERE id = :pid"),
            [{"pid": p, "body": b} for p, b in docs],
        )


def search_product_ids(session: Session, query: str, limit: int = 500) -> list[str]:
    """Ids of products matching every word of ``query``, best first (any status; callers filter)."""
    words = tokens(query)
    if not words:
        return []
    if _is_sqlite(session):
        ensure_index(session)
        match = " AND ".join('"' + w.replace('"', "") + '"*' for w in words)
        rows = session.execute(
            text(
                "SELECT product_id FROM catalog_search WHERE catalog_search MATCH :m ORDER BY rank LIMIT :n"
            ),
            {"m": match, "n": limit},
        )
        return [r[0] for r in rows]
    tsquery = " & ".join(w + ":*" for w in words)
    rows = session.execute(
        text(
            "SELECT id FROM products WHERE search_vector @@ to_tsquery('simple', :q) "
            "ORDER BY ts_rank(search_vector, to_tsquery('simple', :q)) DESC, id DESC LIMIT :n"
        ),
        {"q": tsquery, "n": limit},
    )
    return [r[0] for r in rows]


def reindex(session: Session) -> int:
    """Rebuild the whole index from the products (after a restore, or to repair it)."""
    if _is_sqlite(session):
        ensure_index(session)
        session.execute(text("DELETE FROM catalog_search"))
    ids = list(session.scalars(select(Product.id)))
    for start in range(0, len(ids), 500):
        index_products(session, ids[start : start + 500])
    return len(ids)


def forget(session: Session, product_ids: list[str]) -> None:
    if product_ids and _is_sqlite(session):
        ensure_index(session)
        session.execute(
            text("DELETE FROM catalog_search WHERE product_id = :pid"), [{"pid": p} for p in product_ids]
        )
