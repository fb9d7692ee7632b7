"""What every page route shares: who is asking (cookie session), in which language, CSRF, rendering.

Page routes are declared on routers with ``route_class=PageRoute`` so that errors become HTML pages
(a 403 page, a 404 page) or a redirect to sign-in, instead of the API's problem+json. They never appear
in the OpenAPI document (``include_in_schema=False``) and enforce the same authorisation as the API: the
services they call take the page's :class:`Principal`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal, require_scope
from etalage.accounts.deps import SESSION_COOKIE
from etalage.config import get_settings
from etalage.core.deps import DbSession
from etalage.core.errors import Forbidden, NotFound, Problem, Unauthorized
from etalage.core.routing import LazyAPIRoute
from etalage.web import i18n
from etalage.web.templating import render_template

ANON_CSRF_COOKIE = "etalage_csrf"
REGION_COOKIE = "etalage_region"
FEED_MODE_COOKIE = "etalage_feed"


log = logging.getLogger("etalage.errors")


class ServerError(Problem):
    status, code, title = 500, "internal-error", "Internal error"


class SignInRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the sign-in page."""


@dataclass
class PageCtx:
    request: Request
    db: Session
    principal: Principal | None
    lang: str
    region: str | None
    display_name: str | None = None
    email: str | None = None
    anon_nonce: str | None = None
    new_anon_cookie: bool = False
    drop_session_cookie: bool = False
    cookies: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def signed_in(self) -> bool:
        return self.principal is not None

    @property
    def csrf_token(self) -> str:
        """The value forms send back: the session's token, or a signed double-submit token."""
        if self.principal is not None and self.principal.csrf_token:
            return self.principal.csrf_token
        if self.anon_nonce is None:
            self.anon_nonce = secrets.token_urlsafe(18)
            self.new_anon_cookie = True
        return f"{self.anon_nonce}.{_sign(self.anon_nonce)}"

    def has_scope(self, scope: str) -> bool:
        return self.principal is not None and self.principal.has_scope(scope)

    @property
    def is_creator(self) -> bool:
        return self.principal is not None and bool({"creator", "admin"} & self.principal.roles)

    @property
    def is_merchant(self) -> bool:
        return self.has_scope("merchant:read")

    @property
    def is_moderator(self) -> bool:
        return self.has_scope("moderation")

    def set_cookie(self, name: str, value: str, max_age: int = 365 * 86400) -> None:
        self.cookies.append((name, value, max_age))

    def gettext(self, message: str) -> str:
        token = i18n.set_language(self.lang)
        try:
            return i18n.gettext(message)
        finally:
            i18n._current.reset(token)


def _sign(nonce: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()[:32]


def page_ctx(request: Request, session: DbSession) -> PageCtx:
    principal = None
    drop = False
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            principal = accounts.principal_for_session(session, cookie)
        except Unauthorized:
            drop = True  # an ended session browses on as a visitor
    user = accounts.get_user(session, principal.user_id) if principal is not None else None
    lang = i18n.pick_language(
        user.locale if user else None,
        request.cookies.get(i18n.LANG_COOKIE),
        request.headers.get("accept-language"),
    )
    region = (user.region_code if user else None) or _region_cookie(request)
    anon = request.cookies.get(ANON_CSRF_COOKIE)
    ctx = PageCtx(
        request=request,
        db=session,
        principal=principal,
        lang=lang,
        region=region,
        display_name=user.display_name if user else None,
        email=user.email if user else None,
        anon_nonce=anon if anon and len(anon) < 64 else None,
        drop_session_cookie=drop,
    )
    request.state.page_ctx = ctx
    return ctx


def _region_cookie(request: Request) -> str | None:
    value = request.cookies.get(REGION_COOKIE, "")
    return value if len(value) == 2 and value.isalpha() and value.isupper() else None


Page = Annotated[PageCtx, Depends(page_ctx)]


def signed_in(ctx: Page) -> PageCtx:
    if ctx.principal is None:
        raise SignInRequired()
    return ctx


SignedIn = Annotated[PageCtx, Depends(signed_in)]


def with_scope(scope: str) -> Callable[[PageCtx], PageCtx]:
    def dependency(ctx: SignedIn) -> PageCtx:
        require_scope(ctx.principal, scope)  # type: ignore[arg-type]
        return ctx

    return dependency


ShopperPage = Annotated[PageCtx, Depends(with_scope("shop"))]
MerchantPage = Annotated[PageCtx, Depends(with_scope("merchant:read"))]
CreatorPage = Annotated[PageCtx, Depends(with_scope("content:write"))]
ModeratorPage = Annotated[PageCtx, Depends(with_scope("moderation"))]


def csrf_ok(ctx: PageCtx, presented: str | None) -> bool:
    if not presented or len(presented) > 200:
        return False
    if ctx.principal is not None:
        return accounts.csrf_matches(ctx.principal, presented)
    nonce, _sep, signature = presented.partition(".")
    cookie = ctx.request.cookies.get(ANON_CSRF_COOKIE)
    return bool(
        cookie and hmac.compare_digest(nonce, cookie) and hmac.compare_digest(signature, _sign(nonce))
    )


async def checked_form(request: Request, ctx: Page) -> FormData:
    """The posted form, once its CSRF token matched; a forged post changes nothing (403 page)."""
    form = await request.form(max_files=0, max_fields=200)
    token = form.get("csrf_token")
    if not csrf_ok(ctx, token if isinstance(token, str) else None):
        raise Forbidden(
            "This form has expired or did not come from this site. Reload the page and try again."
        )
    return form


Form = Annotated[FormData, Depends(checked_form)]


def safe_next(value: str | None, default: str = "/") -> str:
    """Only local paths: never an open redirect to another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ch in value for ch in "\r\n\t") or len(value) > 500:
        return default
    return value


def _finish(ctx: PageCtx, response: Response) -> Response:
    settings = get_settings()
    if ctx.new_anon_cookie and ctx.anon_nonce:
        response.set_cookie(
            ANON_CSRF_COOKIE,
            ctx.anon_nonce,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
            path="/",
        )
    if ctx.drop_session_cookie:
        response.delete_cookie(SESSION_COOKIE, path="/")
    for name, value, max_age in ctx.cookies:
        response.set_cookie(
            name, value, max_age=max_age, httponly=True, samesite="lax", secure=settings.secure_cookies
        )
    # Pages carry personal data and CSRF tokens: never store them in shared caches.
    response.headers["cache-control"] = "no-store" if ctx.signed_in else "private, no-cache"
    response.headers["vary"] = "Cookie, Accept-Language"
    return response


def render(ctx: PageCtx, template: str, /, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = render_template(template, ctx.lang, ctx=ctx, **context)
    return _finish(ctx, HTMLResponse(html, status_code=status_code))  # type: ignore[return-value]


def redirect(ctx: PageCtx, url: str) -> Response:
    return _finish(ctx, RedirectResponse(url, status_code=303))


def _error_page(request: Request, exc: Problem) -> Response:
    ctx: PageCtx | None = getattr(request.state, "page_ctx", None)
    lang = (
        ctx.lang
        if ctx
        else i18n.pick_language(
            None, request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language")
        )
    )
    from etalage.core.http import current_request_id

    html = render_template(
        "error.html", lang, ctx=ctx, status=exc.status, problem=exc, request_id=current_request_id()
    )
    return HTMLResponse(html, status_code=exc.status, headers={"cache-control": "no-store", **exc.headers})


class PageRoute(LazyAPIRoute):
    """Answers page errors as pages: sign-in redirect, or an HTML 403/404/409/422 page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
            except Problem as exc:
                if isinstance(exc, Forbidden | NotFound) or exc.status < 500:
                    return _error_page(request, exc)
                raise
            except Exception:
                # Logged with the request id, as the API does; the visitor gets a page, not JSON.
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                return _error_page(request, ServerError())

        return page_handler
