"""Seller center: open a shop, trader details and verification (DSA Art. 30), and the dashboard.

Every page is ``/seller/{merchant_id}/…``; the services it calls check that the signed-in user is a member
of that merchant (another merchant's id answers the 404 page, as the API does).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from etalage.accounts import service as accounts
from etalage.accounts.authz import merchant_ids, require_merchant
from etalage.core.errors import Conflict, InvalidInput
from etalage.core.routing import api_router
from etalage.web.i18n import N_
from etalage.web.pages import Form, MerchantPage, PageCtx, PageRoute, SignedIn, redirect, render
from etalage.web.regions import region_choices

router = api_router(route_class=PageRoute, include_in_schema=False)

# Labels of the trader fields, in the order the form shows them.
TRADER_FIELDS: list[tuple[str, str, str]] = [
    ("legal_name", N_("Legal name"), "text"),
    ("address_line1", N_("Address"), "text"),
    ("address_line2", N_("Address, line 2 (optional)"), "text"),
    ("postal_code", N_("Postal code"), "text"),
    ("city", N_("City"), "text"),
    ("phone", N_("Phone (international format, e.g. +32 2 123 45 67)"), "tel"),
    ("email", N_("Contact e-mail for customers"), "email"),
    ("id_document_ref", N_("ID document reference"), "text"),
    ("payment_account", N_("Payment account (IBAN)"), "text"),
    ("trade_register_name", N_("Trade register (optional)"), "text"),
    ("trade_register_number", N_("Registration number (optional)"), "text"),
]
ID_DOCUMENTS = [
    ("passport", N_("Passport")),
    ("id_card", N_("Identity card")),
    ("eid", N_("eID check")),
    ("company_extract", N_("Company register extract")),
]
FIELD_LABELS = {name: label for name, label, _kind in TRADER_FIELDS} | {
    "country": N_("Country"),
    "id_document_type": N_("ID document"),
    "self_certification": N_("Compliance commitment"),
}
# Seller center sections beyond the dashboard and trader details: (key, path, label, icon).
SECTIONS: list[tuple[str, str, str, str]] = []
STATUS_LABELS = {
    "draft": N_("Draft: not submitted yet"),
    "submitted": N_("Submitted: waiting for verification"),
    "verified": N_("Verified: you can sell"),
    "rejected": N_("Rejected: correct the details and submit again"),
    "suspended": N_("Suspended: you cannot sell for now"),
}


def shop_context(ctx: PageCtx, merchant_id: str, section: str) -> dict[str, Any]:
    """What every seller page shows around its content: the shop's name, status and navigation."""
    from etalage.merchants import service as merchants

    require_merchant(ctx.principal, merchant_id)  # type: ignore[arg-type]
    names = accounts.organisation_names(ctx.db, merchant_ids(ctx.principal))  # type: ignore[arg-type]
    return {
        "area": "seller",
        "merchant_id": merchant_id,
        "shop_name": names.get(merchant_id, ""),
        "shops": sorted(names.items(), key=lambda item: item[1]),
        "trader_status": merchants.trader_status(ctx.db, merchant_id),
        "status_labels": STATUS_LABELS,
        "seller_sections": SECTIONS,
        "section": section,
    }


@router.get("/seller")
def seller_home(ctx: SignedIn) -> Response:
    shops = merchant_ids(ctx.principal)  # type: ignore[arg-type]
    if shops:
        return redirect(ctx, f"/seller/{shops[0]}")
    return render(ctx, "seller/new.html", area="seller", error=None, name="")


@router.post("/seller/new")
def open_shop(ctx: SignedIn, form: Form) -> Response:
    name = " ".join(str(form.get("name", "")).split())[:200]
    if len(name) < 2:
        return render(ctx, "seller/new.html", status_code=422, area="seller", name=name,
                      error=N_("Give your shop a name of at least 2 characters."))  # fmt: skip
    org = accounts.create_organisation(ctx.db, ctx.principal.user_id, name)  # type: ignore[union-attr]
    return redirect(ctx, f"/seller/{org.id}/onboarding")


@router.get("/seller/{merchant_id}/onboarding")
def onboarding_page(ctx: MerchantPage, merchant_id: str, saved: str | None = None) -> Response:
    return _onboarding(ctx, merchant_id, values=None, errors={}, saved=saved)


def _onboarding(
    ctx: PageCtx, merchant_id: str, *, values: dict[str, Any] | None, errors: dict[str, str], saved: str | None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    from etalage.merchants import service as merchants

    shop = shop_context(ctx, merchant_id, "onboarding")
    profile, _reviewer = merchants.get_profile(ctx.db, ctx.principal, merchant_id)  # type: ignore[arg-type]
    if values is None:
        values = {name: getattr(profile, name) or "" for name, _label, _kind in TRADER_FIELDS}
        values["payment_account"] = merchants.mask_account(profile.payment_account) or ""
        values.update(country=profile.country or "", id_document_type=profile.id_document_type or "",
                      self_certification=profile.self_certified_at is not None)  # fmt: skip
    history = merchants.history(ctx.db, ctx.principal, merchant_id)  # type: ignore[arg-type]
    return render(
        ctx,
        "seller/onboarding.html",
        status_code=status_code,
        profile=profile,
        missing=merchants.missing_fields(profile),
        history=list(reversed(history)),
        fields=TRADER_FIELDS,
        id_documents=[(code, ctx.gettext(label)) for code, label in ID_DOCUMENTS],
        field_labels=FIELD_LABELS,
        countries=region_choices(ctx),
        values=values,
        errors=errors,
        saved=saved,
        is_owner=ctx.principal.memberships.get(merchant_id) == "owner",  # type: ignore[union-attr]
        **shop,
    )


@router.post("/seller/{merchant_id}/onboarding")
def save_onboarding(ctx: MerchantPage, merchant_id: str, form: Form) -> Response:
    from etalage.merchants import service as merchants
    from etalage.merchants.schemas import TraderDetailsIn

    names = [name for name, _label, _kind in TRADER_FIELDS] + ["country", "id_document_type"]
    values: dict[str, Any] = {name: str(form.get(name, "")).strip()[:300] for name in names}
    values["self_certification"] = form.get("self_certification") == "on"
    changes = {k: (v or None) for k, v in values.items() if k != "self_certification"}
    profile, _ = merchants.get_profile(ctx.db, ctx.principal, merchant_id)  # type: ignore[arg-type]
    if changes.get("payment_account") == merchants.mask_account(profile.payment_account):
        changes.pop("payment_account")  # the masked value was sent back unchanged
    changes["self_certification"] = values["self_certification"]
    errors: dict[str, str] = {}
    try:
        body = TraderDetailsIn.model_validate(changes)
    except ValidationError as exc:
        errors = {str(err["loc"][0]): N_("Check this field.") for err in exc.errors()}
        return _onboarding(ctx, merchant_id, values=values, errors=errors, saved=None, status_code=422)
    try:
        merchants.update_profile(ctx.db, ctx.principal, merchant_id, body.model_dump(exclude_unset=True))  # type: ignore[arg-type]
    except InvalidInput as exc:
        errors[str(exc.extra.get("field", "form"))] = N_("Check this field.")
        return _onboarding(ctx, merchant_id, values=values, errors=errors, saved=None, status_code=422)
    if form.get("action") == "submit":
        try:
            with ctx.db.begin_nested():  # a refused submission keeps the details just saved
                merchants.submit_profile(ctx.db, ctx.principal, merchant_id)  # type: ignore[arg-type]
        except InvalidInput as exc:
            errors = {str(name): N_("Fill this in.") for name in exc.extra.get("missing", [])}
        except Conflict:
            errors["form"] = N_(
                "Your details are being checked; wait for the decision before submitting again."
            )
    if errors:
        return _onboarding(ctx, merchant_id, values=values, errors=errors, saved=None, status_code=422)
    done = "submitted" if form.get("action") == "submit" else "saved"
    return redirect(ctx, f"/seller/{merchant_id}/onboarding?saved={done}")


@router.get("/seller/{merchant_id}")
def dashboard(ctx: MerchantPage, merchant_id: str) -> Response:
    from etalage.content import service as content
    from etalage.web import i18n, seller_stats

    shop = shop_context(ctx, merchant_id, "dashboard")
    figures = seller_stats.figures(ctx.db, ctx.principal, merchant_id)
    bought, viewed = seller_stats.conversion(ctx.db, merchant_id)
    currency = figures.currency or "EUR"
    days = sorted(figures.by_day.items())
    gmv_chart = seller_stats.bar_chart([(i18n.when(d, ctx.lang, "d MMM"), v[0]) for d, v in days], "gmv")
    orders_chart = seller_stats.bar_chart(
        [(i18n.when(d, ctx.lang, "d MMM"), v[1]) for d, v in days], "orders"
    )
    videos = content.get_videos(ctx.db, list(figures.by_video))
    creators = accounts.display_names(ctx.db, [v.creator_id for v in videos.values() if v.creator_id])
    top_videos = [
        {
            "id": vid,
            "caption": videos[vid].caption if vid in videos else vid,
            "creator": creators.get(videos[vid].creator_id or "", "") if vid in videos else "",
            "gmv": i18n.money(amount, currency, ctx.lang),
        }  # fmt: skip
        for vid, amount in figures.by_video.items()
    ]
    by_creator: dict[str, int] = {}
    for vid, amount in figures.by_video.items():
        creator = videos[vid].creator_id if vid in videos else None
        if creator:
            by_creator[creator] = by_creator.get(creator, 0) + amount
    top_creators = [(creators.get(c, c), i18n.money(a, currency, ctx.lang)) for c, a in
                    sorted(by_creator.items(), key=lambda kv: -kv[1])]  # fmt: skip
    return render(
        ctx, "seller/dashboard.html", gmv=i18n.money(figures.gmv, currency, ctx.lang), orders=figures.orders,
        average=i18n.money(figures.gmv // figures.orders, currency, ctx.lang) if figures.orders else "—",
        gmv_chart=gmv_chart, orders_chart=orders_chart, money_of=lambda v: i18n.money(v, currency, ctx.lang),
        top_videos=top_videos, top_creators=top_creators, bought=i18n.number(bought, ctx.lang),
        viewed=i18n.number(viewed, ctx.lang),
        conversion=i18n.percent(bought / viewed, ctx.lang) if viewed else "—", **shop,
    )  # fmt: skip
