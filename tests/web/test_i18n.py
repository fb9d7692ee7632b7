"""Every page in Dutch and French (and German and Spanish): complete catalogues, no English fallback."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
import pytest

from etalage.accounts import service as accounts
from etalage.web import i18n, messages
from tests.web.conftest import sign_in_http
from tests.web.pagelist import FRAGMENTS, build_world, pages_for


@pytest.mark.db_agnostic
def test_catalogues_know_every_string_and_translate_it():
    assert messages.stale() == [], "run 'etalage web messages' to extract new strings"
    for lang in ("nl", "fr", "de", "es"):
        assert messages.untranslated(lang) == [], f"{lang} has untranslated strings"


@pytest.mark.db_agnostic
def test_accept_language_negotiation():
    assert i18n.parse_accept_language("fr-CH, fr;q=0.9, en;q=0.8") == "fr"
    assert i18n.parse_accept_language("en;q=0.5, nl;q=0.9") == "nl"
    assert i18n.parse_accept_language("pt-BR, *;q=0.1") is None
    assert i18n.parse_accept_language("de;q=abc, es") == "es"
    assert i18n.pick_language("es", "fr", "nl") == "es"
    assert i18n.pick_language(None, "xx", "nl-BE") == "nl"


@pytest.mark.db_agnostic
def test_money_and_dates_follow_the_language():
    assert i18n.money(123456, "EUR", "nl").replace("\xa0", " ") == "€ 1.234,56"
    assert i18n.money(123456, "EUR", "fr").replace("\u202f", " ").replace("\xa0", " ") == "1 234,56 €"
    assert i18n.money(1200, "JPY", "en") == "¥1,200"


class _Text(HTMLParser):
    """Visible text nodes plus attributes people read (labels, alt text, placeholders)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "alt", "placeholder", "title") and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def english_leftovers(html: str, lang: str) -> set[str]:
    """English interface strings that appear as whole texts on a page that should be in ``lang``."""
    catalogue = i18n.catalogue(lang)
    english = {
        m.id
        for m in messages.read("en")
        if isinstance(m.id, str) and m.id and "%(" not in m.id and catalogue.gettext(m.id) != m.id
    }
    parser = _Text()
    parser.feed(html)
    return {text for text in parser.texts if text in english}


@pytest.mark.parametrize("lang", ["nl", "fr", "de", "es"])
def test_every_page_renders_translated(live_server, factory, db, psp, lang):
    world = build_world(factory, psp)
    with factory.db.session() as s:  # the signed-in roles read the site in this language too
        for actor in world.actors.values():
            accounts.get_user(s, actor.id).locale = lang
    clients: dict[str, httpx.Client] = {}
    try:
        for name, path, role in pages_for(world):
            if role not in clients:
                client = httpx.Client(base_url=live_server.url, timeout=30, cookies={"etalage_lang": lang})
                if role != "visitor":
                    sign_in_http(client, world.actors[role].email)
                clients[role] = client
            i18n.MISSING.clear()
            resp = clients[role].get(path)
            assert resp.status_code == 200, f"{name} {path}: {resp.status_code}"
            if name not in FRAGMENTS:
                assert f'<html lang="{lang}">' in resp.text, name
            assert not i18n.MISSING.get(lang), f"{name}: untranslated {sorted(i18n.MISSING[lang])}"
            leftovers = english_leftovers(resp.text, lang)
            assert not leftovers, f"{name} ({lang}) shows English: {sorted(leftovers)}"
    finally:
        for client in clients.values():
            client.close()
