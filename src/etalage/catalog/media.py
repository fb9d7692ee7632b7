"""Product images: checked with Pillow, re-encoded (which strips EXIF, GPS included), stored under media/.

An upload is decoded, never trusted by name or declared type; anything larger than 4096 px on a side is
refused before decoding (decompression bombs), and the stored copy is a JPEG at most 1200 px wide.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal
from etalage.catalog.models import ProductMedia
from etalage.catalog.service import _changed, _own_product
from etalage.config import get_settings
from etalage.core.errors import InvalidInput, NotFound, PayloadTooLarge
from etalage.db import new_id

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_SIDE = 4096
STORED_SIDE = 1200
FORMATS = {"JPEG", "PNG", "WEBP"}


def relpath(product_id: str, media_id: str) -> str:
    return f"products/{product_id}/{media_id}.jpg"


def save_jpeg(image: Image.Image, path: Path, *, quality: int = 85) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    image.save(tmp, "JPEG", quality=quality, optimize=False, progressive=True)
    tmp.replace(path)  # atomic: a half-written image is never served


def decode_image(data: bytes) -> Image.Image:
    """An uploaded image decoded and checked (size, format, sides), as RGB and at most STORED_SIDE px; for
    any domain that stores pictures (product images, review photos)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise PayloadTooLarge(f"Images may be at most {MAX_IMAGE_BYTES // 1024 // 1024} MB.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt, (w, h) = probe.format, probe.size
            if fmt not in FORMATS:
                raise InvalidInput(f"Send a JPEG, PNG or WebP image, not {fmt}.", field="file")
            if w > MAX_SIDE or h > MAX_SIDE or w < 16 or h < 16:
                raise InvalidInput(
                    f"Images must be between 16 and {MAX_SIDE} pixels on each side.", field="file"
                )
            probe.load()
            image = probe.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InvalidInput("The file is not an image we can read.", field="file") from exc
    image.thumbnail((STORED_SIDE, STORED_SIDE))
    return image


def add_image(
    session: Session, principal: Principal, merchant_id: str, product_id: str, data: bytes, alt: str
) -> ProductMedia:
    product = _own_product(session, principal, merchant_id, product_id, write=True)
    image = decode_image(data)
    media_id = new_id("med")
    path = relpath(product.id, media_id)
    save_jpeg(image, get_settings().media_dir / path)
    position = session.scalar(select(func.count()).where(ProductMedia.product_id == product.id)) or 0
    media = ProductMedia(
        id=media_id,
        product_id=product.id,
        merchant_id=merchant_id,
        path=path,
        content_type="image/jpeg",
        width=image.width,
        height=image.height,
        alt=alt,
        position=position,
    )
    session.add(media)
    session.flush()
    _changed(session, product.id)
    return media


def remove_image(
    session: Session, principal: Principal, merchant_id: str, product_id: str, media_id: str
) -> None:
    _own_product(session, principal, merchant_id, product_id, write=True)
    media = session.get(ProductMedia, media_id)
    if media is None or media.product_id != product_id:
        raise NotFound(f"No image {media_id}.")
    session.delete(media)
    _changed(session, product_id)
    # The file stays until the transaction commits; a sweep could remove orphans, but an orphan is harmless.


def file_for(product_id: str, file_name: str) -> Path:
    root = (get_settings().media_dir / "products").resolve()
    path = (root / product_id / file_name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("No such image.")
    return path
