"""The problems a voucher or a flash sale can run into at checkout, each saying what to do next."""

from __future__ import annotations

from etalage.core.errors import Conflict, InvalidInput


class VoucherUnknown(InvalidInput):
    code, title = "voucher-unknown", "No such voucher"


class VoucherNotValidNow(InvalidInput):
    code, title = "voucher-not-valid-now", "This voucher is not valid now"


class VoucherNotApplicable(InvalidInput):
    code, title = "voucher-not-applicable", "This voucher does not apply to this order"


class VoucherMinimumSpend(InvalidInput):
    code, title = "voucher-minimum-spend", "The order is below the voucher's minimum spend"


class VoucherLimitReached(Conflict):
    code, title = "voucher-limit-reached", "You have used this voucher as often as allowed"


class VoucherUsedUp(Conflict):
    code, title = "voucher-used-up", "This voucher has been used up"


class FlashSaleSoldOut(Conflict):
    code, title = "flash-sale-sold-out", "The flash sale sold out"
