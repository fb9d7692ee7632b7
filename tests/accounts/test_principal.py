"""The principal carries no personal data, only what rules need: roles, scopes, pseudonym, age band."""

from __future__ import annotations

import dataclasses
from datetime import date

from fastapi import FastAPI
from fastapi.testclient import TestClient

from etalage.accounts import service
from etalage.core.auth import Principal, Viewer
from etalage.core.errors import install_error_handlers


def test_age_band_instead_of_birth_date(db, factory):
    minor = factory.user(birth_date=date(date.today().year - 15, 1, 1))
    adult = factory.user(birth_date=date(1980, 5, 5))
    unknown = factory.user(birth_date=None)
    with db.read() as s:
        bands = [service.principal_for_token(s, a.token).age_band for a in (minor, adult, unknown)]
    assert bands == ["minor", "adult", "unknown"]


def test_principal_fields_hold_no_personal_data():
    names = {f.name for f in dataclasses.fields(Principal)}
    assert not names & {"email", "display_name", "birth_date", "address", "name", "phone"}


def test_viewer_dependency_resolves_like_the_accounts_one(api, factory):
    """core.auth.Viewer (used behind the privacy wall) accepts the same credentials."""
    user = factory.user()
    probe = FastAPI()
    install_error_handlers(probe)

    @probe.get("/who")
    def who(viewer: Viewer) -> dict:
        return {"pseudonym": viewer.pseudonym, "band": viewer.age_band}

    probe.state.db = factory.db
    with TestClient(probe) as client:
        ok = client.get("/who", headers=user.headers)
        assert ok.status_code == 200 and ok.json()["pseudonym"].startswith("psn_")
        assert client.get("/who", headers={"Authorization": "Bearer etl_nope"}).status_code == 401


def test_a_resolved_token_remembers_the_pseudonym_briefly_and_erasure_forgets_it(db, factory):
    """Purchases are recorded under the pseudonym the buyer's own request just resolved (no second read);
    erasing the mapping drops that memory at once in this process."""
    user = factory.user()
    with db.read() as s:
        key = service.principal_for_token(s, user.token).pseudonym
        assert key and service.existing_pseudonym(s, user.id) == key
    assert service.recent_pseudonym(user.id) == key
    with db.session() as s:
        service.erase_pseudonym(s, user.id)
    assert service.recent_pseudonym(user.id) is None
    with db.read() as s:
        assert service.existing_pseudonym(s, user.id) is None
    assert service.recent_pseudonym("usr_never_seen") is None
