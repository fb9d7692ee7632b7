"""Test card numbers and payment methods of the test PSP, and what each one does.

| number              | behaviour                                                        |
|---------------------|------------------------------------------------------------------|
| 4242 4242 4242 4242 | Visa, succeeds                                                   |
| 5555 5555 5555 4444 | Mastercard, succeeds                                             |
| 4000 0000 0000 0002 | declined (``card_declined``)                                      |
| 4000 0000 0000 9995 | declined (``insufficient_funds``)                                 |
| 4000 0000 0000 0069 | declined (``expired_card``)                                       |
| 4000 0000 0000 3220 | 3-D Secure challenge: the shopper must approve                   |
| 4000 0000 0000 0119 | the provider answers only after ``--slow-seconds`` (then succeeds) |

Local methods: ``bancontact`` (EUR), ``ideal`` (EUR) and ``bizum`` (EUR) always need the shopper's
approval in their bank or app (a redirect); ``apple_pay`` and ``google_pay`` wrap a card number and behave
like that card.
"""

from __future__ import annotations

SUCCESS = "success"
BEHAVIOUR = {
    "4242424242424242": SUCCESS,
    "5555555555554444": SUCCESS,
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000003220": "three_ds",
    "4000000000000119": "slow",
}
CARD_TYPES = ("card", "apple_pay", "google_pay")
REDIRECT_TYPES = {"bancontact": ("EUR",), "ideal": ("EUR",), "bizum": ("EUR",)}
METHOD_TYPES = CARD_TYPES + tuple(REDIRECT_TYPES)


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "card"


def behaviour(number: str | None, method_type: str) -> str:
    if method_type in REDIRECT_TYPES:
        return "redirect"
    return BEHAVIOUR.get(number or "", SUCCESS)
