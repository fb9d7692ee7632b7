"""Sign-in, registration, sign-out, the Me tab and settings (language, region, data, account)."""

from __future__ import annotations

from fastapi import Request
from pydantic import ValidationError
from starlette.responses import Response

from etalage.accounts import service as accounts
from etalage.accounts.deps import SESSION_COOKIE
from etalage.accounts.schemas import RegisterIn
from etalage.config import get_settings
from etalage.core.errors import Conflict, Forbidden, RateLimited, Unauthorized
from etalage.core.routing import api_router
from etalage.web import i18n
from etalage.web.i18n import N_
from etalage.web.pages import (
    REGION_COOKIE,
    Form,
    Page,
    PageCtx,
    PageRoute,
    SignedIn,
    redirect,
    render,
    safe_next,
)
from etalage.web.regions import region_choices

router = api_router(route_class=PageRoute, include_in_schema=False)


def _start_session(ctx: PageCtx, response: Response, user_id: str) -> Response:
    user = accounts.get_user(ctx.db, user_id)
    cookie, _web = accounts.create_web_session(ctx.db, user)
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=settings.session_days * 86400,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )
    ctx.drop_session_cookie = False
    return response


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/signin")
def signin_page(ctx: Page, next: str | None = None) -> Response:
    if ctx.signed_in:
        return redirect(ctx, safe_next(next))
    return render(ctx, "account/signin.html", next=safe_next(next), email="", error=None)


@router.post("/signin")
def signin(ctx: Page, form: Form) -> Response:
    email = str(form.get("email", ""))[:254].strip()
    password = str(form.get("password", ""))[:256]
    target = safe_next(str(form.get("next", "")))
    try:
        user = accounts.check_credentials(
            ctx.db,
            email=email,
            password=password,
            limiter=ctx.request.app.state.limiter,
            client_ip=_client_ip(ctx.request),
        )
    except RateLimited:
        error, status = N_("Too many sign-in attempts. Wait a minute and try again."), 429
    except (Unauthorized, Forbidden):
        error, status = N_("E-mail or password is wrong."), 401
    else:
        return _start_session(ctx, redirect(ctx, target), user.id)
    return render(ctx, "account/signin.html", status_code=status, next=target, email=email, error=error)


@router.get("/register")
def register_page(ctx: Page, next: str | None = None) -> Response:
    if ctx.signed_in:
        return redirect(ctx, safe_next(next))
    return render(
        ctx, "account/register.html", next=safe_next(next), values={}, errors={}, regions=region_choices(ctx)
    )


_FIELD_ERRORS = {
    "email": N_("Enter a valid e-mail address."),
    "password": N_("Use at least 10 characters."),
    "display_name": N_("Enter a name (up to 100 characters)."),
    "birth_date": N_("Enter a real date of birth."),
    "region_code": N_("Choose a region."),
}


@router.post("/register")
def register(ctx: Page, form: Form) -> Response:
    values = {k: str(form.get(k, ""))[:300] for k in ("email", "display_name", "birth_date", "region_code")}
    target = safe_next(str(form.get("next", "")))
    raw = {
        "email": values["email"],
        "password": str(form.get("password", ""))[:300],
        "display_name": values["display_name"],
        "birth_date": values["birth_date"] or None,
        "region_code": values["region_code"] or None,
        "locale": ctx.lang,
        "as_creator": form.get("as_creator") == "on",
    }
    errors: dict[str, str] = {}
    try:
        body = RegisterIn.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else ""
            errors[name] = _FIELD_ERRORS.get(name, N_("Check this field."))
    else:
        try:
            user = accounts.register_user(
                ctx.db,
                email=body.email,
                password=body.password,
                display_name=body.display_name,
                roles=["shopper", "creator"] if body.as_creator else ["shopper"],
                birth_date=body.birth_date,
                locale=body.locale,
                region_code=body.region_code,
            )
        except Conflict:
            errors["email"] = N_("An account with this e-mail already exists. Sign in instead.")
        else:
            ctx.db.flush()
            return _start_session(ctx, redirect(ctx, target), user.id)
    return render(
        ctx,
        "account/register.html",
        status_code=422,
        next=target,
        values=values,
        errors=errors,
        regions=region_choices(ctx),
    )


@router.post("/signout")
def signout(ctx: SignedIn, form: Form) -> Response:
    if ctx.principal and ctx.principal.session_id:
        accounts.end_web_session(ctx.db, ctx.principal.session_id)
    response = redirect(ctx, "/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me")
def me_page(ctx: Page) -> Response:
    return render(ctx, "account/me.html", tab="me")


@router.get("/settings")
def settings_page(
    ctx: Page,
    saved: bool = False,
    address: str | None = None,
    data: str | None = None,
    erase: str | None = None,
) -> Response:
    from etalage.web.routes_buying_settings import buying_settings
    from etalage.web.routes_privacy import privacy_settings

    buying = buying_settings(ctx) if ctx.has_scope("shop") else None
    privacy = privacy_settings(ctx, erase) if ctx.signed_in else None
    return render(
        ctx, "account/settings.html", tab="me", regions=region_choices(ctx), saved=saved, buying=buying,
        address_notice=address, privacy=privacy, data_notice=data,
    )  # fmt: skip


@router.post("/settings")
def save_settings(ctx: Page, form: Form) -> Response:
    """Language and region: kept on the account when signed in, in cookies otherwise."""
    lang = str(form.get("lang", ""))
    region = str(form.get("region", "")).upper()
    codes = {code for code, _name in region_choices(ctx)}
    changes: dict[str, object] = {}
    if lang in i18n.LANGUAGES:
        ctx.set_cookie(i18n.LANG_COOKIE, lang)
        changes["locale"] = lang
    if region in codes:
        ctx.set_cookie(REGION_COOKIE, region)
        changes["region_code"] = region
    if ctx.principal is not None and changes:
        accounts.update_profile(ctx.db, ctx.principal, **changes)
    return redirect(ctx, safe_next(str(form.get("next", "")), "/settings?saved=1"))
