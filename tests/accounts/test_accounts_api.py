"""Accounts over real HTTP: registration, sign-in, sessions with CSRF, tokens, members, rate limits."""

from __future__ import annotations

import concurrent.futures
from datetime import timedelta

import httpx
from sqlalchemy import select

from etalage.accounts.models import ApiToken, Pseudonym, User
from etalage.db import utcnow
from tests.factories import PASSWORD


def register(api: httpx.Client, email: str, **extra) -> httpx.Response:
    return api.post(
        "/api/v1/accounts", json={"email": email, "password": PASSWORD, "display_name": "Ann", **extra}
    )


def test_register_then_token_then_me(api, db):
    resp = register(api, "Ann@Example.com", birth_date="1990-02-03", region_code="BE")
    assert resp.status_code == 201, resp.text
    user = resp.json()
    assert user["email"] == "ann@example.com" and user["roles"] == ["shopper"]
    assert "password" not in resp.text and "argon2" not in resp.text
    with db.read() as s:
        stored = s.scalar(select(User.password_hash).where(User.id == user["id"]))
        assert stored.startswith("$argon2id$")
        assert s.scalar(select(Pseudonym.key).where(Pseudonym.user_id == user["id"])).startswith("psn_")

    tok = api.post(
        "/api/v1/auth/token", json={"email": "ann@example.com", "password": PASSWORD, "name": "cli"}
    )
    assert tok.status_code == 201, tok.text
    token = tok.json()["token"]
    assert token.startswith("etl_")
    with db.read() as s:  # only the hash is stored
        assert s.scalar(select(ApiToken).where(ApiToken.token_hash == token)) is None
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["id"] == user["id"] and "shop" in me["scopes"] and "moderation" not in me["scopes"]


def test_duplicate_email_is_409_even_when_racing(api):
    assert register(api, "dup@example.com").status_code == 201
    assert register(api, "DUP@example.com").status_code == 409

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: register(api, "race@example.com").status_code, range(8)))
    assert sorted(codes) == [201] + [409] * 7


def test_weak_password_and_bad_email_are_422(api):
    assert (
        api.post(
            "/api/v1/accounts", json={"email": "x@y.zz", "password": "short", "display_name": "X"}
        ).status_code
        == 422
    )
    assert (
        api.post(
            "/api/v1/accounts", json={"email": "not-an-email", "password": PASSWORD, "display_name": "X"}
        ).status_code
        == 422
    )
    assert register(api, "old@example.com", birth_date="1800-01-01").status_code == 422


def test_wrong_password_is_401_and_login_is_rate_limited(api):
    register(api, "brute@example.com")
    codes = []
    for _ in range(12):
        resp = api.post(
            "/api/v1/auth/login", json={"email": "brute@example.com", "password": "wrong-password!"}
        )
        codes.append(resp.status_code)
        if resp.status_code == 429:
            assert int(resp.headers["retry-after"]) >= 1
            assert resp.json()["retry_after"] > 0
    assert codes[0] == 401
    assert 429 in codes
    # unknown accounts get the same answer as wrong passwords
    assert (
        api.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "x"}).status_code
        == 401
    )


def test_session_cookie_requires_csrf_for_writes(api, live_server):
    register(api, "cookie@example.com")
    with httpx.Client(base_url=live_server.url) as browser:
        login = browser.post("/api/v1/auth/login", json={"email": "cookie@example.com", "password": PASSWORD})
        assert login.status_code == 200
        set_cookie = login.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "samesite=lax" in set_cookie
        csrf = login.json()["csrf_token"]
        assert browser.get("/api/v1/me").status_code == 200
        assert browser.patch("/api/v1/me", json={"display_name": "Changed"}).status_code == 403
        ok = browser.patch("/api/v1/me", json={"display_name": "Changed"}, headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 200 and ok.json()["display_name"] == "Changed"
        assert browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
        browser.cookies.set("etalage_session", login.cookies["etalage_session"])
        assert browser.get("/api/v1/me").status_code == 401


def test_tokens_revoked_expired_malformed_are_401(api, factory, db):
    user = factory.user()
    other = api.post(
        "/api/v1/auth/tokens", headers=user.headers, json={"name": "second", "scopes": ["profile"]}
    )
    assert other.status_code == 201
    second = other.json()
    h2 = {"Authorization": f"Bearer {second['token']}"}
    assert api.get("/api/v1/me", headers=h2).status_code == 200
    assert api.delete(f"/api/v1/auth/tokens/{second['id']}", headers=user.headers).status_code == 200
    revoked = api.get("/api/v1/me", headers=h2)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]

    with db.session() as s:
        tok = s.scalar(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.name == "test"))
        tok.expires_at = utcnow() - timedelta(seconds=1)
    expired = api.get("/api/v1/me", headers=user.headers)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert expired.headers["www-authenticate"].startswith("Bearer")

    for bad in ("Bearer nope", "Bearer etl_" + "x" * 40, "Basic dXNlcjpwYXNz", "Bearer"):
        assert api.get("/api/v1/me", headers={"Authorization": bad}).status_code == 401


def test_scopes_limit_what_a_token_can_do(api, factory):
    user = factory.user()
    narrow = api.post("/api/v1/auth/tokens", headers=user.headers, json={"scopes": ["profile"]}).json()[
        "token"
    ]
    resp = api.post(
        "/api/v1/auth/tokens", headers={"Authorization": f"Bearer {narrow}"}, json={"scopes": ["shop"]}
    )
    assert resp.status_code == 403
    escalate = api.post("/api/v1/auth/tokens", headers=user.headers, json={"scopes": ["admin"]})
    assert escalate.status_code == 403 and "admin" in escalate.json()["detail"]
    assert (
        api.put(
            f"/api/v1/admin/users/{user.id}/roles", headers=user.headers, json={"roles": ["admin"]}
        ).status_code
        == 403
    )


def test_admin_grants_roles(api, factory):
    admin = factory.user("admin")
    user = factory.user()
    resp = api.put(
        f"/api/v1/admin/users/{user.id}/roles",
        headers=admin.headers,
        json={"roles": ["shopper", "moderator"]},
    )
    assert resp.status_code == 200 and resp.json()["roles"] == ["moderator", "shopper"]
    assert (
        api.put(
            "/api/v1/admin/users/usr_nope/roles", headers=admin.headers, json={"roles": ["shopper"]}
        ).status_code
        == 404
    )


def test_merchant_members_owner_and_staff(api, factory):
    merchant = factory.merchant()
    mid = merchant.merchant_id
    staff_user = factory.user(email="staffer@example.com")
    added = api.post(
        f"/api/v1/merchants/{mid}/members",
        headers=merchant.headers,
        json={"email": "staffer@example.com", "role": "staff"},
    )
    assert added.status_code == 201
    again = api.post(
        f"/api/v1/merchants/{mid}/members",
        headers=merchant.headers,
        json={"email": "staffer@example.com", "role": "staff"},
    )
    assert again.status_code == 409
    # the staff member's new token sees the merchant; staff cannot add members
    staff_token = api.post(
        "/api/v1/auth/token", json={"email": "staffer@example.com", "password": "correct-horse-battery"}
    ).json()["token"]
    sh = {"Authorization": f"Bearer {staff_token}"}
    members = api.get(f"/api/v1/merchants/{mid}/members", headers=sh)
    assert members.status_code == 200 and {m["role"] for m in members.json()} == {"owner", "staff"}
    assert (
        api.post(f"/api/v1/merchants/{mid}/members", headers=sh, json={"email": "x@y.zz"}).status_code == 403
    )
    # the last owner cannot leave
    assert (
        api.delete(f"/api/v1/merchants/{mid}/members/{merchant.id}", headers=merchant.headers).status_code
        == 409
    )
    assert (
        api.delete(f"/api/v1/merchants/{mid}/members/{staff_user.id}", headers=merchant.headers).status_code
        == 204
    )


def test_token_bound_to_one_merchant(api, factory):
    owner = factory.user()
    a = factory.merchant(owner=owner)
    b = factory.merchant(owner=owner)  # the same person owns two shops
    bound = api.post("/api/v1/auth/tokens", headers=a.headers, json={"merchant_id": a.merchant_id}).json()[
        "token"
    ]
    bh = {"Authorization": f"Bearer {bound}"}
    assert api.get(f"/api/v1/merchants/{a.merchant_id}/members", headers=bh).status_code == 200
    assert api.get(f"/api/v1/merchants/{b.merchant_id}/members", headers=bh).status_code == 404
    assert api.post("/api/v1/merchants", headers=bh, json={"name": "Another"}).status_code == 403
