"""Seller center: webhooks. The shop's endpoints (add, pause, new secret, remove; the secret is shown once),
the events recorded for it with their delivery state, an event's attempts, and replay."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from etalage.core.errors import Conflict, InvalidInput, NotFound
from etalage.core.routing import api_router
from etalage.web.i18n import N_
from etalage.web.pages import Form, MerchantPage, PageCtx, PageRoute, redirect, render
from etalage.web.routes_seller import SECTIONS, shop_context

router = api_router(route_class=PageRoute, include_in_schema=False)
SECTIONS.append(("webhooks", "/webhooks", N_("Webhooks"), "share"))
NOTICES = {
    "paused": N_("Endpoint paused: events wait for it."),
    "resumed": N_("Endpoint resumed: waiting events are sent now."),
    "removed": N_("Endpoint removed."),
    "replayed": N_("The event is sent again (with the same event id)."),
    "url": N_("That address cannot receive webhooks: use an http(s) address on a public host."),
    "types": N_("Choose at least one kind of event."),
    "error": N_("That did not work: try again."),
}
DELIVERY = {"pending": N_("Waiting"), "delivered": N_("Delivered"), "dead": N_("Given up")}


def _page(ctx: PageCtx, merchant_id: str, *, done: str | None = None, event: str | None = None,
          secret: dict[str, str] | None = None) -> Response:  # fmt: skip
    from etalage.core.pagination import PageParams
    from etalage.webhooks import service
    from etalage.webhooks.outbox import EVENT_TYPES

    shop = shop_context(ctx, merchant_id, "webhooks")
    endpoints = service.list_endpoints(ctx.db, ctx.principal, merchant_id)  # type: ignore[arg-type]
    events, _ = service.list_events(ctx.db, ctx.principal, merchant_id, PageParams(None, 30))  # type: ignore[arg-type]
    attempts: list[Any] = []
    if event:
        attempts, _ = service.list_attempts(
            ctx.db, ctx.principal, merchant_id, PageParams(None, 50), event_id=event
        )  # type: ignore[arg-type]
    return render(
        ctx, "seller/webhooks.html", endpoints=endpoints, events=events, event_types=EVENT_TYPES,
        delivery_labels=DELIVERY, attempts=attempts, shown_event=event, secret=secret,
        notice=NOTICES.get(done or ""), failed=done in ("url", "types", "error"), **shop,
    )  # fmt: skip


@router.get("/seller/{merchant_id}/webhooks")
def webhooks_page(
    ctx: MerchantPage, merchant_id: str, done: str | None = None, event: str | None = None
) -> Response:
    return _page(ctx, merchant_id, done=done, event=(event or "")[:40] or None)


@router.post("/seller/{merchant_id}/webhooks")
def add_endpoint(ctx: MerchantPage, merchant_id: str, form: Form) -> Response:
    from etalage.webhooks import service
    from etalage.webhooks.outbox import EVENT_TYPES

    chosen = [t for t in form.getlist("event_types") if t in (*EVENT_TYPES, "*")]
    if not chosen:
        return redirect(ctx, f"/seller/{merchant_id}/webhooks?done=types")
    try:
        with ctx.db.begin_nested():
            e = service.create_endpoint(ctx.db, ctx.principal, merchant_id, str(form.get("url", "")).strip()[:2000],  # type: ignore[arg-type]
                                        [str(t) for t in chosen], str(form.get("description", "")).strip()[:200], True)  # fmt: skip
    except InvalidInput:
        return redirect(ctx, f"/seller/{merchant_id}/webhooks?done=url")
    except Conflict:
        return redirect(ctx, f"/seller/{merchant_id}/webhooks?done=error")
    return _page(
        ctx, merchant_id, secret={"url": e.url, "secret": e.secret}
    )  # shown once, never stored in a URL


@router.post("/seller/{merchant_id}/webhooks/{endpoint_id}/{action}")
def endpoint_action(
    ctx: MerchantPage, merchant_id: str, endpoint_id: str, action: str, form: Form
) -> Response:
    from etalage.webhooks import service
    from etalage.webhooks.schemas import EndpointPatch

    if action == "rotate":
        e = service.rotate_secret(ctx.db, ctx.principal, merchant_id, endpoint_id)  # type: ignore[arg-type]
        return _page(ctx, merchant_id, secret={"url": e.url, "secret": e.secret})
    if action == "remove":
        service.delete_endpoint(ctx.db, ctx.principal, merchant_id, endpoint_id)  # type: ignore[arg-type]
        return redirect(ctx, f"/seller/{merchant_id}/webhooks?done=removed")
    if action in ("pause", "resume"):
        service.update_endpoint(ctx.db, ctx.principal, merchant_id, endpoint_id,  # type: ignore[arg-type]
                                EndpointPatch(enabled=action == "resume"))  # fmt: skip
        return redirect(
            ctx, f"/seller/{merchant_id}/webhooks?done={'resumed' if action == 'resume' else 'paused'}"
        )
    raise NotFound("No such action.")


@router.post("/seller/{merchant_id}/webhooks/events/{event_id}/replay")
def replay(ctx: MerchantPage, merchant_id: str, event_id: str, form: Form) -> Response:
    from etalage.webhooks import service

    service.replay_event(ctx.db, ctx.principal, merchant_id, event_id)  # type: ignore[arg-type]
    return redirect(ctx, f"/seller/{merchant_id}/webhooks?done=replayed&event={event_id}")
