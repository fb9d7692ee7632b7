"""Your data from the settings page: a downloadable copy (GDPR Art. 15/20) and erasing your account."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import select

from etalage.accounts.models import User
from etalage.core import jobs
from tests.factories import PASSWORD
from tests.web.conftest import csrf_from, sign_in_http


def test_download_my_data(web, factory, db):
    shopper = factory.user("shopper", name="Dana Data")
    sign_in_http(web, shopper.email)
    token = csrf_from(web.get("/settings").text)
    resp = web.post("/settings/export", data={"csrf_token": token})
    assert resp.headers["location"].startswith("/settings?data=started")
    assert 'data-status="queued"' in web.get("/settings").text
    jobs.drain(db)  # the worker builds the zip
    page = web.get("/settings").text
    assert 'data-status="ready"' in page
    link = page.split('href="/api/v1/me/exports/')[1].split('"')[0]
    download = web.get(f"/api/v1/me/exports/{link}")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert names  # a machine-readable copy


def test_delete_my_account(web, factory, db):
    shopper = factory.user("shopper")
    sign_in_http(web, shopper.email)
    token = csrf_from(web.get("/settings").text)
    wrong = web.post(
        "/settings/delete", data={"password": "not-my-password", "confirm": "on", "csrf_token": token}
    )
    assert wrong.headers["location"].startswith("/settings?erase=password")
    assert "The password is wrong." in web.get(wrong.headers["location"]).text
    unconfirmed = web.post("/settings/delete", data={"password": PASSWORD, "csrf_token": token})
    assert unconfirmed.headers["location"].startswith("/settings?erase=confirm")
    done = web.post("/settings/delete", data={"password": PASSWORD, "confirm": "on", "csrf_token": token})
    assert done.headers["location"] == "/goodbye"
    assert web.get("/goodbye").status_code == 200
    with db.read() as s:
        assert s.scalar(select(User.disabled_at).where(User.id == shopper.id)) is not None
    assert shopper.email not in web.get("/me").text  # signed out everywhere
    token = csrf_from(web.get("/signin").text)
    again = web.post("/signin", data={"email": shopper.email, "password": PASSWORD, "csrf_token": token})
    assert again.status_code in (401, 403)


def test_a_sole_shop_owner_is_told_what_to_do_first(web, factory):
    owner = factory.user("shopper")
    factory.merchant(owner=owner)
    sign_in_http(web, owner.email)
    token = csrf_from(web.get("/settings").text)
    resp = web.post("/settings/delete", data={"password": PASSWORD, "confirm": "on", "csrf_token": token})
    assert "sole_owner" in resp.headers["location"]
    assert "only owner of a shop" in web.get(resp.headers["location"]).text
