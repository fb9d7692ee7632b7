"""The launch regions, as code: currency, languages, tax rules, age rule, default shipping.

These facts change with the law, not with the operator's mood, so they are reviewed like code. What the
operator decides (whether a region is launched) lives in the database (``commerce.models.LaunchRegion``).

Tax, in short:
- EU member states, the UK and Indonesia charge VAT by the *destination* country and the product's tax
  class; consumer prices there include VAT, so checkout extracts it from the gross price.
- The US charges sales tax by the destination *state*; prices there exclude it, so checkout adds it. The
  rates below are the state-level rates only (county and city rates are not modelled); a deployment that
  needs them plugs a tax service in behind :func:`tax_rate_bp`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

TaxClass = Literal["standard", "reduced", "super_reduced", "zero"]
TAX_CLASSES: tuple[TaxClass, ...] = ("standard", "reduced", "super_reduced", "zero")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    currency: str
    languages: tuple[str, ...]
    tax_kind: Literal["vat", "us_sales_tax"]
    # basis points per tax class (VAT regions); US rates come from US_STATE_SALES_TAX_BP
    vat_bp: MappingProxyType[str, int]
    # None: no age rule; otherwise buyers must be at least this old (and must have told us their age)
    min_purchase_age: int | None
    # default shipping per merchant order, in minor units; merchants may set their own
    shipping_fee: int
    free_shipping_over: int | None
    launched_by_default: bool = True
    # days a shopper may return goods, counted from delivery: the EU's (and UK's) 14-day right of withdrawal
    # (Directive 2011/83/EU art. 9); elsewhere the platform's own policy
    return_window_days: int = 14

    @property
    def prices_include_tax(self) -> bool:
        return self.tax_kind == "vat"


def _vat(standard: int, reduced: int, super_reduced: int, zero: int = 0) -> MappingProxyType[str, int]:
    return MappingProxyType(
        {"standard": standard, "reduced": reduced, "super_reduced": super_reduced, "zero": zero}
    )


REGIONS: MappingProxyType[str, Region] = MappingProxyType(
    {
        # Belgium: 21 % standard, 6 % reduced (food, books, medicines); sales to minors are not allowed.
        "BE": Region("BE", "Belgium", "EUR", ("nl", "fr", "de"), "vat", _vat(2100, 600, 600), 18, 495, 5000),
        "NL": Region("NL", "Netherlands", "EUR", ("nl",), "vat", _vat(2100, 900, 900), None, 495, 5000),
        # France: 20 %, 5.5 % reduced, 2.1 % super-reduced (press, some medicines).
        "FR": Region("FR", "France", "EUR", ("fr",), "vat", _vat(2000, 550, 210), None, 499, 6000),
        "DE": Region("DE", "Germany", "EUR", ("de",), "vat", _vat(1900, 700, 700), None, 490, 5000),
        # Spain: 21 %, 10 % reduced, 4 % super-reduced (bread, books, medicines).
        "ES": Region("ES", "Spain", "EUR", ("es",), "vat", _vat(2100, 1000, 400), None, 399, 4000),
        # United Kingdom: 20 %, 5 % reduced; children's clothes and books are zero-rated.
        "GB": Region("GB", "United Kingdom", "GBP", ("en",), "vat", _vat(2000, 500, 0), None, 399, 4000),
        "US": Region(
            "US", "United States", "USD", ("en", "es"), "us_sales_tax", _vat(0, 0, 0), None, 599, 5000,
            return_window_days=30,  # no statutory right: the platform's policy
        ),
        # Indonesia: PPN 11 % on most goods; basic necessities are exempt.
        "ID": Region(
            "ID", "Indonesia", "IDR", ("id", "en"), "vat", _vat(1100, 1100, 0), None, 1_500_000, 25_000_000
        ),
    }
)

# State-level sales tax in basis points (2025). Local (county/city) rates are not included.
US_STATE_SALES_TAX_BP: MappingProxyType[str, int] = MappingProxyType(
    {
        "AL": 400,
        "AK": 0,
        "AZ": 560,
        "AR": 650,
        "CA": 725,
        "CO": 290,
        "CT": 635,
        "DE": 0,
        "DC": 600,
        "FL": 600,
        "GA": 400,
        "HI": 400,
        "ID": 600,
        "IL": 625,
        "IN": 700,
        "IA": 600,
        "KS": 650,
        "KY": 600,
        "LA": 500,
        "ME": 550,
        "MD": 600,
        "MA": 625,
        "MI": 600,
        "MN": 688,
        "MS": 700,
        "MO": 423,
        "MT": 0,
        "NE": 550,
        "NV": 685,
        "NH": 0,
        "NJ": 663,
        "NM": 488,
        "NY": 400,
        "NC": 475,
        "ND": 500,
        "OH": 575,
        "OK": 450,
        "OR": 0,
        "PA": 600,
        "RI": 700,
        "SC": 600,
        "SD": 420,
        "TN": 700,
        "TX": 625,
        "UT": 610,
        "VT": 600,
        "VA": 530,
        "WA": 650,
        "WV": 600,
        "WI": 500,
        "WY": 400,
    }
)


class UnknownRegion(LookupError):
    pass


def region(code: str) -> Region:
    try:
        return REGIONS[code]
    except KeyError:
        raise UnknownRegion(code) from None


def is_region(code: str) -> bool:
    return code in REGIONS


def currency_of(code: str) -> str:
    return region(code).currency


def tax_rate_bp(region_code: str, tax_class: str, state: str | None = None) -> int:
    """The rate that applies to goods of ``tax_class`` delivered to ``region_code`` (and US ``state``)."""
    r = region(region_code)
    if r.tax_kind == "us_sales_tax":
        if tax_class == "zero":
            return 0
        if state is None or state not in US_STATE_SALES_TAX_BP:
            raise UnknownRegion(f"US/{state}")
        return US_STATE_SALES_TAX_BP[state]
    return r.vat_bp[tax_class]
