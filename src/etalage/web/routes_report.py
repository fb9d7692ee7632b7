"""Reporting content (a notice under DSA Art. 16): a video, a product, a live room or a shop, signed in or not."""

from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import ValidationError
from starlette.responses import Response

from etalage.core.errors import InvalidInput, NotFound, RateLimited
from etalage.core.routing import api_router
from etalage.web.i18n import N_
from etalage.web.pages import Form, Page, PageCtx, PageRoute, render

router = api_router(route_class=PageRoute, include_in_schema=False)

KINDS = {"video", "product", "live_room", "merchant", "comment", "live_message"}
CATEGORIES = [
    ("scam", N_("Scam or fraud")),
    ("counterfeit", N_("Counterfeit goods")),
    ("unsafe_product", N_("Unsafe product")),
    ("illegal_product", N_("Illegal product")),
    ("hate_speech", N_("Hate speech")),
    ("minor_safety", N_("Harm to children")),
    ("intellectual_property", N_("Copyright or trademark infringement")),
    ("privacy_violation", N_("Privacy violation")),
    ("other", N_("Breaks the rules of Etalage (not illegal)")),
]
KIND_LABELS = {
    "video": N_("Report a video"),
    "product": N_("Report a product"),
    "live_room": N_("Report a live"),
    "merchant": N_("Report a shop"),
    "comment": N_("Report a comment"),
    "live_message": N_("Report a chat message"),
}
FIELD_ERRORS = {
    "explanation": N_("Explain why it is illegal, in at least 20 characters."),
    "good_faith": N_("Confirm that the report is accurate and made in good faith."),
    "contact_name": N_("Give your name (needed for a report of illegal content without an account)."),
    "contact_email": N_("Give your e-mail (needed for a report of illegal content without an account)."),
    "category": N_("Choose what is wrong."),
}


def _form(ctx: PageCtx, kind: str, target_id: str, **extra: Any) -> Response:
    return render(
        ctx, "shop/report.html", kind=kind, target_id=target_id, title=KIND_LABELS[kind], categories=CATEGORIES,
        values=extra.pop("values", {}), errors=extra.pop("errors", {}), **extra,
    )  # fmt: skip


@router.get("/report")
def report_page(
    ctx: Page, kind: str = Query(..., max_length=20), id: str = Query(..., max_length=40)
) -> Response:
    if kind not in KINDS:
        raise NotFound("Nothing to report here.")
    return _form(ctx, kind, id)


@router.post("/report")
def submit_report(ctx: Page, form: Form) -> Response:
    from etalage.compliance import notices
    from etalage.compliance.schemas import NoticeIn

    kind, target_id = str(form.get("kind", "")), str(form.get("id", ""))[:40]
    if kind not in KINDS:
        raise NotFound("Nothing to report here.")
    fields = ("category", "explanation", "location", "contact_name", "contact_email")
    values = {name: str(form.get(name, "")).strip()[:5000] for name in fields}
    raw: dict[str, Any] = {
        "target": {"kind": kind, "id": target_id},
        "category": values["category"],
        "explanation": values["explanation"],
        "location": values["location"] or None,
        "good_faith": form.get("good_faith") == "on",
    }
    if not ctx.signed_in:
        raw.update(contact_name=values["contact_name"] or None, contact_email=values["contact_email"] or None)
    errors: dict[str, str] = {}
    try:
        body = NoticeIn.model_validate(raw)
        client = ctx.request.client.host if ctx.request.client else "unknown"
        limiter = ctx.request.app.state.limiter
        notice, merged, receipt = notices.submit(
            ctx.db, ctx.principal, body, client_ip=client, limiter=limiter
        )
    except ValidationError as exc:
        errors = {
            str(e["loc"][0]): FIELD_ERRORS.get(str(e["loc"][0]), N_("Check this field."))
            for e in exc.errors()
        }
    except InvalidInput as exc:
        for err in exc.errors or []:
            errors[err["loc"]] = FIELD_ERRORS.get(err["loc"], N_("Check this field."))
        errors = errors or {"form": N_("Check this field.")}
    except RateLimited:
        errors = {"form": N_("You sent many reports in a short time. Wait a while and try again.")}
    if errors:
        return _form(ctx, kind, target_id, values=values, errors=errors, status_code=422)
    ctx.db.flush()
    return render(ctx, "shop/reported.html", notice=notice, merged=merged, receipt=receipt)
