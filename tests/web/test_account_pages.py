"""Sign-in, registration, sign-out and settings pages over real HTTP: sessions, CSRF, redirects, headers."""

from __future__ import annotations

from sqlalchemy import select

from etalage.accounts.models import User, WebSession
from tests.factories import PASSWORD
from tests.web.conftest import csrf_from, sign_in_http


def test_sign_in_sets_the_session_and_goes_to_next(web, factory, db):
    shopper = factory.user("shopper")
    page = web.get("/signin?next=/orders")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "etalage_csrf" in page.cookies  # the anonymous form's double-submit cookie
    token = csrf_from(page.text)
    resp = web.post(
        "/signin", data={"email": shopper.email, "password": PASSWORD, "csrf_token": token, "next": "/orders"}
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/orders"
    cookie = resp.headers["set-cookie"]
    assert "etalage_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = web.get("/me")
    assert shopper.email in me.text and "no-store" in me.headers["cache-control"]
    with db.read() as s:
        assert s.scalar(select(WebSession.user_id)) == shopper.id


def test_wrong_password_is_401_page_without_a_session(web, factory):
    shopper = factory.user("shopper")
    token = csrf_from(web.get("/signin").text)
    resp = web.post(
        "/signin", data={"email": shopper.email, "password": "wrong-password!", "csrf_token": token}
    )
    assert resp.status_code == 401 and "etalage_session" not in resp.headers.get("set-cookie", "")
    assert 'role="alert"' in resp.text and shopper.email in resp.text


def test_forms_without_a_valid_csrf_token_change_nothing(web, factory, db):
    shopper = factory.user("shopper")
    # no token, a made-up token, and a token whose cookie is missing: all refused with a 403 page
    assert web.post("/signin", data={"email": shopper.email, "password": PASSWORD}).status_code == 403
    web.get("/signin")
    forged = web.post("/signin", data={"email": shopper.email, "password": PASSWORD, "csrf_token": "abc.def"})
    assert forged.status_code == 403 and forged.headers["content-type"].startswith("text/html")
    with db.read() as s:
        assert s.scalar(select(WebSession.id)) is None
    # signed in, the form must carry the session's token, not an anonymous one
    sign_in_http(web, shopper.email)
    resp = web.post("/settings", data={"lang": "fr", "csrf_token": "x" * 30})
    assert resp.status_code == 403
    with db.read() as s:
        assert s.scalar(select(User.locale).where(User.id == shopper.id)) == "en"


def test_next_never_redirects_off_site(web, factory):
    shopper = factory.user("shopper")
    token = csrf_from(web.get("/signin").text)
    for target in ("https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        resp = web.post(
            "/signin",
            data={"email": shopper.email, "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert resp.status_code == 303 and resp.headers["location"] == "/", target
        web.cookies.delete("etalage_session")


def test_register_validates_then_signs_in(web, db):
    page = web.get("/register")
    token = csrf_from(page.text)
    bad = web.post(
        "/register",
        data={"email": "not-an-email", "password": "short", "display_name": "", "csrf_token": token},
    )
    assert bad.status_code == 422
    assert bad.text.count('aria-invalid="true"') >= 3
    with db.read() as s:
        assert s.scalar(select(User.id)) is None
    ok = web.post(
        "/register",
        data={
            "email": "New@Example.com",
            "password": PASSWORD,
            "display_name": "Nia",
            "region_code": "NL",
            "as_creator": "on",
            "csrf_token": token,
        },
        headers={"accept-language": "nl-BE,nl;q=0.9,en;q=0.5"},
    )
    assert ok.status_code == 303, ok.text[:300]
    with db.read() as s:
        user = s.scalar(select(User))
        assert user.email == "new@example.com" and user.roles == ["creator", "shopper"]
        assert user.region_code == "NL"
    assert web.get("/me").text.count("Nia") >= 1
    again = web.get("/register")
    assert again.status_code == 303  # already signed in


def test_duplicate_registration_says_so(web, factory):
    existing = factory.user("shopper")
    token = csrf_from(web.get("/register").text)
    resp = web.post(
        "/register",
        data={"email": existing.email, "password": PASSWORD, "display_name": "X", "csrf_token": token},
    )
    assert resp.status_code == 422 and 'aria-invalid="true"' in resp.text


def test_sign_out_ends_the_session(web, factory, db):
    shopper = factory.user("shopper")
    sign_in_http(web, shopper.email)
    token = csrf_from(web.get("/me").text)
    resp = web.post("/signout", data={"csrf_token": token})
    assert resp.status_code == 303
    with db.read() as s:
        assert s.scalar(select(WebSession.revoked_at)) is not None
    assert shopper.email not in web.get("/me").text


def test_ended_session_browses_on_as_a_visitor(web):
    web.cookies.set("etalage_session", "not-a-real-session")
    resp = web.get("/me")
    assert resp.status_code == 200
    assert 'etalage_session=""' in resp.headers.get("set-cookie", "")


def test_language_follows_account_then_cookie_then_browser(web, factory, db):
    assert '<html lang="fr">' in web.get("/signin", headers={"accept-language": "fr-FR,fr;q=0.9"}).text
    assert '<html lang="en">' in web.get("/signin", headers={"accept-language": "pt-BR"}).text
    token = csrf_from(web.get("/settings").text)
    resp = web.post("/settings", data={"lang": "nl", "region": "NL", "csrf_token": token})
    assert resp.status_code == 303
    assert '<html lang="nl">' in web.get("/settings", headers={"accept-language": "fr"}).text
    shopper = factory.user("shopper")
    sign_in_http(web, shopper.email)
    assert '<html lang="en">' in web.get("/settings").text  # the account's language wins
    token = csrf_from(web.get("/settings").text)
    web.post("/settings", data={"lang": "de", "region": "DE", "csrf_token": token})
    with db.read() as s:
        user = s.get(User, shopper.id)
        assert (user.locale, user.region_code) == ("de", "DE")
    assert '<html lang="de">' in web.get("/settings").text


def test_pages_carry_the_security_headers(web):
    resp = web.get("/signin")
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["x-content-type-options"] == "nosniff"


def test_static_files_are_versioned_and_cached(web):
    html = web.get("/signin").text
    import re

    href = re.search(r'href="(/static/[0-9a-f]{12}/css/app\.css)"', html).group(1)
    resp = web.get(href, headers={"accept-encoding": "gzip"})
    assert resp.status_code == 200 and "immutable" in resp.headers["cache-control"]
    assert resp.headers["content-encoding"] == "gzip" and resp.headers["content-type"].startswith("text/css")
    assert web.get(href, headers={"if-none-match": resp.headers["etag"]}).status_code == 304
    stale = web.get("/static/000000000000/css/app.css")
    assert stale.status_code == 200 and "immutable" not in stale.headers["cache-control"]
    assert web.get("/static/x/../../config.py").status_code == 404
    assert web.get("/static/x/nope.css").status_code == 404
