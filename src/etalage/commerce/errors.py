"""The problems buying can run into, each telling the client what to do next."""

from __future__ import annotations

from etalage.core.errors import Conflict, Forbidden, InvalidInput, Problem, ServiceUnavailable

# Re-exported so callers catch them from one place; raised by inventory.stock.
from etalage.inventory.stock import NotDeliverable, OutOfStock  # noqa: F401


class PriceChanged(Conflict):
    code, title = "price-changed", "Prices changed since you saw them"


class TotalChanged(Conflict):
    code, title = "total-changed", "The total is not what you expected"


class NoLongerSold(Conflict):
    code, title = "no-longer-sold", "No longer on sale"


class MerchantNotSelling(Conflict):
    code, title = "merchant-not-selling", "This merchant cannot sell right now"


class RegionNotLaunched(InvalidInput):
    code, title = "region-not-launched", "Etalage does not sell in this region yet"


class RegionMismatch(Conflict):
    code, title = "region-mismatch", "The cart is priced for another region"


class AgeRestricted(Forbidden):
    code, title = "age-restricted", "Purchases are not allowed at your age here"


class MissingCheckoutDetail(InvalidInput):
    code, title = "checkout-detail-missing", "Something needed for checkout is missing"


class IdempotencyKeyRequired(Problem):
    status, code, title = 400, "idempotency-key-required", "This request needs an Idempotency-Key header"


class IdempotencyKeyReused(InvalidInput):
    code, title = "idempotency-key-reused", "This Idempotency-Key was used for a different request"


class RequestInProgress(Conflict):
    code, title = "request-in-progress", "The first request with this Idempotency-Key is still running"

    def __init__(self, detail: str | None = None, **kw: object) -> None:
        kw.setdefault("headers", {"Retry-After": "1"})
        super().__init__(detail, **kw)  # type: ignore[arg-type]


class PaymentDeclined(Problem):
    status, code, title = 402, "payment-declined", "The payment was declined"


class PaymentFailed(Problem):
    status, code, title = 422, "payment-failed", "The payment could not be made"


class PaymentProviderUnavailable(ServiceUnavailable):
    code, title = "payment-provider-unavailable", "The payment provider is not reachable"

    def __init__(self, detail: str | None = None, **kw: object) -> None:
        kw.setdefault("headers", {"Retry-After": "5"})
        super().__init__(detail, **kw)  # type: ignore[arg-type]
